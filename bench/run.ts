/**
 * The benchmark suite: `npm run bench` (or `node --expose-gc --import tsx bench/run.ts`).
 * Measures the compiled library (dist/) case by case, each side by side with its baseline in
 * the same run, prints one Markdown table and writes it to bench/results/latest.md.
 * BENCH_CASES picks cases by name, comma-separated (`BENCH_CASES='Training step' npm run bench`).
 */
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import torch from '../dist/index.js';
import { Echo } from './echo/client.js';
import { Pythonia } from './baselines/pythonia.js';
import { smallOps } from './cases/small_ops.js';
import { roundTrip } from './cases/round_trip.js';
import { bulk } from './cases/bulk.js';
import { mirrorCost } from './cases/mirror_cost.js';
import { trainingStep } from './cases/training_step.js';
import { transport } from './cases/transport.js';
import { served } from './cases/served.js';
import { pyValues } from './cases/py_values.js';
import type { CaseResult, Context } from './context.js';
import { REPS, WARMUP, now, withTimeout } from './stats.js';
import { type Row, renderTable } from './table.js';

const here = dirname(fileURLToPath(import.meta.url));
const allCases: [string, (ctx: Context) => Promise<CaseResult>][] = [
  ['Small ops', smallOps],
  ['Round trip', roundTrip],
  ['Bulk transfer', bulk],
  ['Mirror cost', mirrorCost],
  ['Training step', trainingStep],
  ['Transport', transport],
  ['Served', served],
  ['Python values', pyValues],
];
const picked = process.env.BENCH_CASES?.split(',').map((s) => s.trim().toLowerCase());
const cases = picked ? allCases.filter(([name]) => picked.includes(name.toLowerCase())) : allCases;
// the shared baselines, started only for the cases that use them
const needsEcho = cases.some(([name]) => name === 'Small ops' || name === 'Round trip' || name === 'Transport');
const needsPythonia = cases.some(([name]) => name === 'Small ops');

async function main(): Promise<void> {
  const t0 = now();
  const info = await torch.init();
  const python = info.python;
  const rows: Row[] = [];
  const notes: string[] = [];
  let echo: Echo | undefined;
  let pythonia: Pythonia | Error = new Error('not started');
  try {
    if (cases.length === 0) throw new Error(`BENCH_CASES matched none of: ${allCases.map(([n]) => n).join(', ')}`);
    if (needsEcho) echo = await Echo.start(python);
    if (needsPythonia) {
      pythonia = existsSync(python) ? await Pythonia.start(python).catch((e: Error) => e) : new Error(`no interpreter at ${python}`);
      if (pythonia instanceof Error) notes.push(`pythonia could not run: ${pythonia.message}`);
    }
    const ctx: Context = { python, echo: echo as Echo, pythonia };
    for (const [name, run] of cases) {
      const c0 = now();
      try {
        const result = await run(ctx);
        rows.push(...result.rows);
        notes.push(...(result.notes ?? []));
      } catch (err) {
        const msg = (err as Error).message ?? String(err);
        rows.push({ case: name, torchbridge: 'n/a', baseline: '', baselineValue: '', ratio: '', target: '', result: 'n/a' });
        notes.push(`${name} failed: ${msg}`);
      }
      process.stderr.write(`bench: ${name} done in ${((now() - c0) / 1000).toFixed(1)} s\n`);
    }
  } finally {
    if (!(pythonia instanceof Error)) pythonia.stop();
    await echo?.stop();
    await withTimeout(torch.shutdown(), 15_000, 'torch.shutdown()').catch((e: Error) => notes.push(e.message));
  }

  const cpu = cpus();
  const md = [
    '## torchbridge benchmarks',
    '',
    `Node ${process.version}, torch ${info.torch_version} (Python ${info.python_version}), ` +
      `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${process.platform}/${process.arch}. ` +
      `Median of ${REPS} repetitions after ${WARMUP} warm-up rounds, each case interleaved with its baselines in one run ` +
      `(${new Date().toISOString().slice(0, 10)}, ${((now() - t0) / 1000).toFixed(0)} s in all).`,
    '',
    renderTable(rows),
    '',
    'Ratios are torchbridge ÷ baseline (lower is better) unless marked "faster". GB/s are 10⁹ bytes per second. ' +
      'Small ops end with `x.sum().item()`, since a 10-element tensor has no single item; the native baseline runs the same loop ' +
      'in Python with the runtime\'s interpreter. The echo floor is a zeromq DEALER in Node and a pyzmq ROUTER that decodes and re-encodes msgpack, over ipc://. ' +
      'The Served rows use a `torchbridge-runtime serve` the bench starts on loopback tcp://.',
    ...notes.map((n) => `\n${n}`),
    '',
  ].join('\n');
  process.stdout.write(md);
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', 'latest.md'), md);
}

main().then(
  () => {
    // Everything is closed; should a stray handle keep Node alive, do not hang.
    setTimeout(() => {
      process.stderr.write('bench: forcing exit (an open handle kept Node alive)\n');
      process.exit(0);
    }, 3000).unref();
  },
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
