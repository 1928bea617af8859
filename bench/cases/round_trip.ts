/**
 * Case 2 — round trip: `await t.item()` on a ready tensor, sequentially, against a raw echo of
 * the same transport: length-prefixed msgpack over a plain Unix socket (Node -> Python, which
 * decodes and re-encodes; the floor for the default socket-pair transport), and, for
 * information, the zeromq+msgpack echo over ipc:// (the TORCHBRIDGE_TRANSPORT=zmq child).
 */
import torch from '../../dist/index.js';
import type { CaseResult, Context } from '../context.js';
import { SocketEcho } from '../echo/socket_client.js';
import { interleaved, msOfRepeated } from '../stats.js';
import { type Row, times, us, verdict } from '../table.js';

const N = 2_000;
const CASE = '`await t.item()` on a ready tensor, per call';

export async function roundTrip(ctx: Context): Promise<CaseResult> {
  const t = torch.ones([]);
  if ((await t.item()) !== 1) throw new Error('round trip: expected 1');
  const sock = await SocketEcho.start(ctx.python);
  const ms = await interleaved({
    unix: () => msOfRepeated(N, (i) => sock.roundTrip(i)),
    item: () => msOfRepeated(N, () => t.item()),
    echo: () => ctx.echo.roundTrips(N),
    ping: () => msOfRepeated(N, () => torch.runtime.ping()),
  });
  t.dispose();
  sock.stop();
  const unix = (ms.unix * 1e3) / N;
  const item = (ms.item * 1e3) / N;
  const echo = (ms.echo * 1e3) / N;
  const ping = (ms.ping * 1e3) / N;
  const rows: Row[] = [
    { case: CASE, torchbridge: us(item), baseline: 'Unix-socket msgpack echo round trip', baselineValue: us(unix), ratio: times(item / unix), target: '≤ 1.3×', result: verdict(item <= 1.3 * unix) },
    { case: CASE, torchbridge: us(item), baseline: 'zmq+msgpack echo round trip (ipc://)', baselineValue: us(echo), ratio: times(item / echo), target: 'info', result: 'info' },
    { case: '`torch.runtime.ping()` (control thread), per call', torchbridge: us(ping), baseline: 'Unix-socket msgpack echo round trip', baselineValue: us(unix), ratio: times(ping / unix), target: 'info', result: 'info' },
  ];
  return { rows };
}
