// A small measurement (not a benchmark run): µs and messages per awaited Python call through a
// proxy. The timing depends on the machine's load; the message counts do not.
//   npm run build && node --import tsx scripts/measure_py_call.ts [calls]
import torch from '../dist/index.js'; // built code (npm run build): tsx's keepNames helpers would triple the JS cost
import { readFileSync } from 'node:fs';
import { currentSession } from '../dist/session/current.js';

/** CPU time (µs) a process has used, from /proc (Linux). */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // utime + stime, in clock ticks of 10 ms
}

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
  // the runtime idle and the outbox empty when the call is made (calls spread over event-loop turns)
  ['await math.floor(2.5), each after an idle turn', async () => {
    await new Promise((r) => setTimeout(r, 0));
    return math.floor(2.5);
  }],
];
for (const [label, fn] of rows) {
  sent = 0;
  const pid = currentSession().pid!;
  const r0 = cpuOf(pid);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const us = ((performance.now() - t0) * 1000) / n;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / n; // CPU time, less sensitive than wall time to other load
  const rcpu = (cpuOf(pid) - r0) / n;
  console.log(`${label}: ${us.toFixed(1)} µs/call wall, CPU ${cpu.toFixed(1)} µs Node + ${rcpu.toFixed(1)} µs runtime, ${(sent / n).toFixed(2)} messages sent per call (${n} calls)`);
}
await torch.shutdown();
