/**
 * What a TS callback called from a Python loop costs per call, next to an awaited `t.item()`
 * round trip measured in the same run (the floor: a callback call is one round trip, started
 * by the runtime). Not a case of `npm run bench` (yet): run it on its own,
 *
 *   node --import tsx bench/callback_cost.ts            (the default socket-pair child)
 *   TORCHBRIDGE_TRANSPORT=zmq node --import tsx bench/callback_cost.ts
 *
 * It needs dist/ (npx tsc -p tsconfig.json).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import torch from '../dist/index.js';

const CALLS = 10_000;
const ROUNDS = 3;
const pipeline = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'test', 'fixtures', 'pipeline');

async function main(): Promise<void> {
  await torch.init({ pythonPath: [pipeline] });
  const hooks = torch.py.import('mypipeline.hooks');
  const t = torch.ones([]);
  const fn = (i: number): number => i;
  await hooks.repeat(fn, 1_000); // warm up both sides
  for (let round = 0; round < ROUNDS; round++) {
    let t0 = performance.now();
    const total = await hooks.repeat(fn, CALLS);
    const callback = ((performance.now() - t0) * 1e3) / CALLS;
    if (total !== (CALLS * (CALLS - 1)) / 2) throw new Error(`repeat gave ${String(total)}`);
    t0 = performance.now();
    for (let i = 0; i < CALLS / 5; i++) await t.item();
    const item = ((performance.now() - t0) * 1e3) / (CALLS / 5);
    console.log(`TS callback from a Python loop: ${callback.toFixed(1)} µs per call; awaited t.item(): ${item.toFixed(1)} µs (${(callback / item).toFixed(2)}×)`);
  }
  await torch.shutdown();
}

await main();
