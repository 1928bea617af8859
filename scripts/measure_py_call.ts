// A small measurement (not a benchmark run): µs per awaited Python method call through a proxy.
//   node --import tsx scripts/measure_py_call.ts [calls]
import torch from '../src/index.js';

const n = Number(process.argv[2] ?? 3000);
await torch.init();
const math = torch.py.import('math');
const f = (await torch.py.import('fractions').Fraction(3, 6)) as ReturnType<typeof torch.py.import>;
for (let i = 0; i < 300; i++) await math.floor(2.5); // warm up
for (const [label, fn] of [
  ['await math.floor(2.5)', () => math.floor(2.5)],
  ['await f.limit_denominator(10)', () => f.limit_denominator(10)],
] as const) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const us = ((performance.now() - t0) * 1000) / n;
  console.log(`${label}: ${us.toFixed(1)} µs/call over ${n} calls`);
}
const t0 = performance.now();
for (let i = 0; i < n; i++) await torch.tensor(1).item();
console.log(`baseline await tensor.item(): ${(((performance.now() - t0) * 1000) / n).toFixed(1)} µs/call`);
await torch.shutdown();
