// A small measurement (not a benchmark run): µs and messages per awaited Python call through a
// proxy. The timing depends on the machine's load; the message counts do not.
//   node --import tsx scripts/measure_py_call.ts [calls]
import torch from '../src/index.js';
import { currentSession } from '../src/session/current.js';

const n = Number(process.argv[2] ?? 3000);
await torch.init();
const channel = (currentSession() as unknown as { channel: { send(m: Buffer): void } }).channel;
let sent = 0;
const send = channel.send.bind(channel);
channel.send = (m: Buffer) => {
  sent++;
  send(m);
};
const math = torch.py.import('math');
const f = (await torch.py.import('fractions').Fraction(3, 6)) as ReturnType<typeof torch.py.import>;
for (let i = 0; i < 300; i++) await math.floor(2.5); // warm up
const rows: [string, () => unknown][] = [
  ['await math.floor(2.5)', () => math.floor(2.5)],
  ['await f.limit_denominator(10)', () => f.limit_denominator(10)],
  ['await f.numerator', () => f.numerator],
  ['await tensor.item() (for scale)', () => torch.tensor(1).item()],
];
for (const [label, fn] of rows) {
  sent = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const us = ((performance.now() - t0) * 1000) / n;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / n; // this process's CPU time: less sensitive to other load
  console.log(`${label}: ${us.toFixed(1)} µs/call wall, ${cpu.toFixed(1)} µs/call Node CPU, ${(sent / n).toFixed(2)} messages sent per call (${n} calls)`);
}
await torch.shutdown();
