/**
 * Case 1 — small ops: N dependent `x = x.add(x)` on a 10-element float32 tensor, then one
 * `await x.sum().item()` (a 10-element tensor has no single item), timed end to end.
 * Per op, against native PyTorch, pythonia and the bare zeromq+msgpack transport.
 */
import torch from '../../dist/index.js';
import type { CaseResult, Context } from '../context.js';
import { runPython } from '../baselines/native.js';
import { REPS, WARMUP, gc, interleaved, now, type Rep } from '../stats.js';
import { type Row, num, times, us, verdict } from '../table.js';

const N = 10_000;
const N_PYTHONIA = 1_000;
const N_ROUND_TRIPS = 2_000;
const CASE = `Small ops: ${N.toLocaleString('en')} × \`x = x.add(x)\` + \`item()\`, per op`;

async function torchbridgeRep(): Promise<number> {
  const t0 = now();
  let x = torch.zeros(10);
  for (let i = 0; i < N; i++) x = x.add(x);
  const value = await x.sum().item();
  const ms = now() - t0;
  if (value !== 0) throw new Error(`small ops: expected 0, got ${String(value)}`);
  return ms;
}

/** Let finalizers free the dropped intermediates outside the timed region. */
async function settle(): Promise<void> {
  gc();
  await new Promise((r) => setImmediate(r));
  await torch.sync();
}

export async function smallOps(ctx: Context): Promise<CaseResult> {
  const native = await runPython<{ median_ms: number }>(ctx.python, 'small_ops.py', [N, REPS, WARMUP]);

  const variants: Record<string, Rep> = {
    torchbridge: torchbridgeRep,
    echoAwaited: () => ctx.echo.roundTrips(N_ROUND_TRIPS),
    echoPipelined: () => ctx.echo.pipelined(N),
  };
  // A pythonia failure mid-run only costs its own row.
  let py = ctx.pythonia;
  if (!(py instanceof Error)) {
    const bridge = py;
    variants.pythonia = () =>
      py instanceof Error ? NaN : bridge.smallOps(N_PYTHONIA).catch((err: Error) => ((py = err), NaN));
  }
  const ms = await interleaved(variants, { between: settle });

  const tb = (ms.torchbridge! * 1e3) / N;
  const nat = (native.median_ms * 1e3) / N;
  const awaited = (ms.echoAwaited! * 1e3) / N_ROUND_TRIPS;
  const pipelined = (ms.echoPipelined! * 1e3) / N;
  const rows: Row[] = [
    { case: CASE, torchbridge: us(tb), baseline: 'native PyTorch, Python loop', baselineValue: us(nat), ratio: times(tb / nat), target: '≤ 3× (aim 2×)', result: verdict(tb <= 3 * nat) },
  ];
  if (py instanceof Error) {
    rows.push({ case: CASE, torchbridge: us(tb), baseline: 'pythonia 1.2.6', baselineValue: `n/a: ${py.message}`, ratio: 'n/a', target: '≥ 100× faster', result: 'n/a' });
  } else {
    const pyUs = (ms.pythonia! * 1e3) / N_PYTHONIA;
    rows.push({ case: CASE, torchbridge: us(tb), baseline: `pythonia 1.2.6 (${N_PYTHONIA.toLocaleString('en')} ops)`, baselineValue: us(pyUs), ratio: `${num(pyUs / tb)}× faster`, target: '≥ 100× faster', result: verdict(pyUs / tb >= 100) });
  }
  rows.push(
    { case: CASE, torchbridge: us(tb), baseline: 'zmq+msgpack echo, one awaited round trip per op', baselineValue: us(awaited), ratio: times(tb / awaited), target: 'floor (info)', result: 'info' },
    { case: CASE, torchbridge: us(tb), baseline: 'zmq+msgpack echo, one pipelined message per op', baselineValue: us(pipelined), ratio: times(tb / pipelined), target: 'floor (info)', result: 'info' },
  );
  return { rows };
}
