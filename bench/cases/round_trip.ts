/**
 * Case 2 — round trip: `await t.item()` on a ready tensor, sequentially, against the bare
 * zeromq+msgpack echo round trip (Node DEALER -> pyzmq ROUTER that decodes and re-encodes).
 */
import torch from '../../dist/index.js';
import type { CaseResult, Context } from '../context.js';
import { interleaved, now } from '../stats.js';
import { type Row, times, us, verdict } from '../table.js';

const N = 2_000;
const CASE = '`await t.item()` on a ready tensor, per call';

export async function roundTrip(ctx: Context): Promise<CaseResult> {
  const t = torch.ones([]);
  if ((await t.item()) !== 1) throw new Error('round trip: expected 1');
  const ms = await interleaved({
    item: async () => {
      const t0 = now();
      for (let i = 0; i < N; i++) await t.item();
      return now() - t0;
    },
    echo: () => ctx.echo.roundTrips(N),
    ping: async () => {
      const t0 = now();
      for (let i = 0; i < N; i++) await torch.runtime.ping();
      return now() - t0;
    },
  });
  t.dispose();
  const item = (ms.item * 1e3) / N;
  const echo = (ms.echo * 1e3) / N;
  const ping = (ms.ping * 1e3) / N;
  const rows: Row[] = [
    { case: CASE, torchbridge: us(item), baseline: 'zmq+msgpack echo round trip', baselineValue: us(echo), ratio: times(item / echo), target: '≤ 1.5×', result: verdict(item <= 1.5 * echo) },
    { case: '`torch.runtime.ping()` (control thread), per call', torchbridge: us(ping), baseline: 'zmq+msgpack echo round trip', baselineValue: us(echo), ratio: times(ping / echo), target: 'info', result: 'info' },
  ];
  return { rows };
}
