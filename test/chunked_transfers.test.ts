/**
 * Chunked bulk data: a served runtime (started through its CLI, tcp:// with CURVE) reached with
 * {shm: false}, so every payload over 64 KiB travels in chunks under flow control (see
 * python/torchbridge_runtime/protocol.py): values both ways, the control channel during a
 * transfer, interrupting one, the window while the runtime is busy, peak memory on both sides,
 * and failures that poison only their own output.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zmq from 'zeromq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import torch, { Tensor, TorchError } from '../src/index.js';
import { DataLoader, Dataset } from '../src/utils/data/index.js';
import { currentSession } from '../src/session/current.js';
import { CHUNK_BYTES, OP, READ, STREAM, WINDOW_BYTES } from '../src/transport/protocol.js';
import { decode, encode } from '../src/transport/codec.js';
import { exited, started, type ServerProcess } from './fixtures/served.js';
import { root, waitForLine } from './fixtures/run_child.js';
import type { SquaresDataset } from './fixtures/squares_dataset.js';

const MiB = 1024 * 1024;
const GRACE_S = 5;
const dir = mkdtempSync(join(tmpdir(), 'tb-chunks-test-'));
let server: { child: ServerProcess; file: string };

beforeAll(async () => {
  server = await started(['--bind', 'tcp://127.0.0.1:0', '--connection-file', join(dir, 'runtime.json'), '--grace', String(GRACE_S)]);
  const info = await torch.init({ connect: server.file, shm: false });
  expect(info.shm).toBe(false);
});

afterAll(async () => {
  await torch.shutdown().catch(() => {});
  server.child.kill('SIGTERM');
  await exited(server.child);
  rmSync(dir, { recursive: true, force: true });
  await torch.init({}); // the default again for the next files' sake
});

function transfers(): NonNullable<ReturnType<ReturnType<typeof currentSession>['transfers']>> {
  const t = currentSession().transfers();
  if (!t) throw new Error('this session moves no data in chunks');
  return t;
}

async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Which of the promises settled first (by label). */
function firstOf(ps: Record<string, Promise<unknown>>): Promise<string> {
  return Promise.race(Object.entries(ps).map(([k, p]) => p.then(() => k, () => k)));
}

/** A pattern no two neighbouring chunks share: element i holds i mod 65521 (a prime). */
function pattern(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = i % 65521;
  return a;
}

/** The sum of pattern(n), exactly. */
function patternSum(n: number): number {
  const full = Math.floor(n / 65521);
  const rest = n % 65521;
  return full * ((65520 * 65521) / 2) + ((rest - 1) * rest) / 2;
}

function countWrong(a: ArrayLike<number>, expected: (i: number) => number): number {
  let wrong = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== expected(i)) wrong++;
  return wrong;
}

/** Bytes from /proc/PID/status (VmRSS, VmHWM). */
function status(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/** Reset a process's peak RSS (VmHWM) to its RSS now; returns that RSS. */
function resetPeak(pid: number): number {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
  return status(pid, 'VmRSS');
}

describe('values', () => {
  it('64 MiB of float32 both ways, every value checked, and the runtime sees what was sent', async () => {
    const n = 16 * MiB;
    const src = pattern(n);
    const before = transfers().uploads.sent;
    const t = torch.tensor(src);
    // checked in the runtime, independently of the way back
    expect(await t.sum({ dtype: torch.float64 }).item()).toBe(patternSum(n));
    expect(transfers().uploads.sent - before).toBe(n * 4);
    // and back: a tensor the runtime computed from it
    const back = await t.mul(2).add(1).data<Float32Array>();
    expect(back).toBeInstanceOf(Float32Array);
    expect(back.length).toBe(n);
    expect(countWrong(back, (i) => 2 * (i % 65521) + 1)).toBe(0);
    expect(transfers()).toMatchObject({ uploads: { open: 0, inflight: 0 }, downloading: 0 });
    t.dispose();
  });

  it('odd sizes and other dtypes: a last chunk shorter than the rest, int64, bool, float16 conversion', async () => {
    const n = 3 * (CHUNK_BYTES / 8) + 7; // 3 chunks and 56 bytes of int64
    const ints = await torch.arange(n).mul(3).data<BigInt64Array>();
    expect(ints).toBeInstanceOf(BigInt64Array);
    expect(ints.length).toBe(n);
    let wrong = 0;
    for (let i = 0; i < n; i++) if (ints[i] !== BigInt(3 * i)) wrong++;
    expect(wrong).toBe(0);
    // bytes that travel up unchanged and come back unchanged
    const bytes = new Uint8Array(CHUNK_BYTES + 12345);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7) % 251;
    const u8 = await torch.tensor(bytes).data<Uint8Array>();
    expect(countWrong(u8, (i) => (i * 7) % 251)).toBe(0);
    const mask = await torch.arange(200_000).remainder(3).eq(0).data<Uint8Array>();
    expect(countWrong(mask, (i) => (i % 3 === 0 ? 1 : 0))).toBe(0);
    // float32 up, converted by the runtime to float16 (torch's rounding), raw float16 bits back
    const quarters = pattern(100_000).map((v) => v / 4);
    const halves = torch.tensor(quarters, { dtype: torch.float16 });
    expect(halves.dtype).toBe(torch.float16);
    expect(await torch.tensor(quarters).to(torch.float16).eq(halves).all().item()).toBe(true);
    const bits = await halves.data<Uint16Array>();
    const runtimeBits = await halves.view(torch.int16).to(torch.int32).bitwise_and(0xffff).data<Int32Array>();
    expect(bits).toBeInstanceOf(Uint16Array);
    expect(countWrong(bits, (i) => runtimeBits[i]!)).toBe(0);
  });

  it('uploads and downloads at once: several uploads queued while reads stream back, all in program order', async () => {
    const n = 2 * MiB; // 8 MiB each
    const ready = torch.arange(n, { dtype: torch.float32 });
    await ready.ready();
    const ups = [0, 1, 2, 3].map((k) => torch.tensor(pattern(n).map((v) => v + k)));
    const reads = [ready.data<Float32Array>(), ups[3]!.data<Float32Array>(), ready.add(1).data<Float32Array>()];
    const more = torch.tensor(pattern(n)); // queued after the reads
    const [a, b, c] = await Promise.all(reads);
    expect(countWrong(a!, (i) => i)).toBe(0);
    expect(countWrong(b!, (i) => (i % 65521) + 3)).toBe(0);
    expect(countWrong(c!, (i) => i + 1)).toBe(0);
    const sums = await Promise.all([...ups, more].map((t) => t.sum({ dtype: torch.float64 }).item()));
    expect(sums).toEqual([0, 1, 2, 3, 0].map((k) => patternSum(n) + k * n));
    expect(transfers()).toMatchObject({ uploads: { open: 0, inflight: 0 }, downloading: 0 });
  });

  it('DataLoader batches over 64 KiB travel in chunks, with and without worker threads', async () => {
    const FIXTURE = new URL('./fixtures/squares_dataset.ts', import.meta.url);
    const width = 50_000; // 200 kB a sample: batches of 8 are 1.6 MB
    const ds = await Dataset.fromModule<SquaresDataset>(FIXTURE, 'SquaresDataset', [24, width]);
    for (const num_workers of [0, 2]) {
      const before = transfers().uploads.sent;
      let batches = 0;
      for await (const [x, y] of new DataLoader(ds, { batch_size: 8, num_workers }) as AsyncIterable<[Tensor, Tensor]>) {
        expect(x.shape).toEqual([8, width]);
        const v = await x.data<Float32Array>();
        const first = 8 * batches;
        expect(countWrong(v, (k) => (first + Math.floor(k / width)) * width + (k % width) + 0.5)).toBe(0);
        expect(await y.tolist()).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => (first + i) ** 2));
        batches++;
      }
      expect(batches).toBe(3);
      expect(transfers().uploads.sent - before).toBe(3 * 8 * width * 4);
    }
  });
});

describe('the control channel during a transfer', () => {
  it('ping is answered while a 64 MiB upload is under way', async () => {
    const src = new Float32Array(16 * MiB).fill(1);
    const base = transfers().uploads.credited;
    const t = torch.tensor(src);
    const done = torch.sync();
    await until(() => transfers().uploads.credited - base >= 2 * WINDOW_BYTES, 'the upload is under way');
    const t0 = performance.now();
    expect(await firstOf({ ping: torch.runtime.ping(), upload: done })).toBe('ping');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(transfers().uploads.credited - base).toBeLessThan(64 * MiB);
    await done;
    expect(await t.sum().item()).toBe(16 * MiB);
    t.dispose();
  });

  it('ping is answered while a 64 MiB download is under way', async () => {
    const t = torch.ones(16 * MiB);
    await t.ready();
    const read = t.data<Float32Array>();
    await until(() => transfers().downloading >= 2 * WINDOW_BYTES, 'the download is under way');
    const t0 = performance.now();
    expect(await firstOf({ ping: torch.runtime.ping(), download: read })).toBe('ping');
    expect(performance.now() - t0).toBeLessThan(1000);
    const d = await read;
    expect(d.length).toBe(16 * MiB);
    expect(countWrong(d, () => 1)).toBe(0);
    t.dispose();
  });

  it('interrupt stops an upload under way: its tensor fails with KeyboardInterrupt, the rest is not sent, the session goes on', async () => {
    const total = 256 * MiB;
    const src = new Uint8Array(total);
    const base = transfers().uploads;
    const t = torch.tensor(src);
    const dep = t.add(1);
    await until(() => transfers().uploads.credited - base.credited >= 2 * WINDOW_BYTES, 'the upload is under way');
    expect(await torch.interrupt()).toBe(true);
    const err = (await t.sum().item().catch((e: unknown) => e)) as TorchError;
    expect(err).toBeInstanceOf(TorchError);
    expect(err.pyType).toBe('KeyboardInterrupt');
    expect(((await dep.tolist().catch((e: unknown) => e)) as TorchError).pyType).toBe('KeyboardInterrupt');
    // the runtime said STOP: the upload is over without all of it sent
    await until(() => transfers().uploads.open === 0, 'the upload is over');
    expect(transfers().uploads.sent - base.sent).toBeLessThan(total);
    expect(transfers().uploads.inflight).toBe(0);
    // later transfers and ops are fine
    expect(await torch.tensor(pattern(MiB)).sum({ dtype: torch.float64 }).item()).toBe(patternSum(MiB));
  });

  it('interrupt stops a download under way: the read fails with KeyboardInterrupt, the next read works', async () => {
    const t = torch.ones(64 * MiB);
    await t.ready();
    const read = t.data().catch((e: unknown) => e);
    await until(() => transfers().downloading >= 2 * WINDOW_BYTES, 'the download is under way');
    expect(await torch.interrupt()).toBe(true);
    const err = (await read) as TorchError;
    expect(err).toBeInstanceOf(TorchError);
    expect(err.pyType).toBe('KeyboardInterrupt');
    expect(transfers().downloading).toBe(0); // the partial array was dropped
    const small = t.narrow(0, 0, 4 * MiB);
    expect(countWrong(await small.data<Float32Array>(), () => 1)).toBe(0);
    t.dispose();
  });
});

describe('flow control and memory', () => {
  it('while the runtime is busy, a window is in flight and no more; the upload completes after', async () => {
    torch.py.import('time').sleep(1.5); // holds the runtime's main thread: nothing is credited
    await new Promise((r) => setTimeout(r, 200)); // (the sleep is under way before the upload starts)
    const base = transfers().uploads;
    const src = pattern(16 * MiB);
    const t = torch.tensor(src);
    await new Promise((r) => setTimeout(r, 500));
    const during = transfers().uploads;
    expect(during.sent - base.sent).toBe(WINDOW_BYTES);
    expect(during.inflight).toBe(WINDOW_BYTES);
    expect(countWrong(await t.data<Float32Array>(), (i) => i % 65521)).toBe(0);
    t.dispose();
  });

  it("a 256 MiB upload: the runtime's peak RSS grows by the tensor and a little, the client's by little", async () => {
    const pid = server.child.pid!;
    const src = new Float32Array(64 * MiB).fill(2);
    await torch.sync();
    const runtimeBase = resetPeak(pid);
    const clientBase = resetPeak(process.pid);
    const t = torch.tensor(src);
    await torch.sync();
    const runtimeGrowth = status(pid, 'VmHWM') - runtimeBase;
    const clientGrowth = status(process.pid, 'VmHWM') - clientBase;
    // one message would need the payload in ZeroMQ's frame, a copy to decode and one to own (3x)
    expect(runtimeGrowth).toBeGreaterThanOrEqual(250 * MiB); // the tensor itself
    expect(runtimeGrowth).toBeLessThan(256 * MiB + 64 * MiB);
    expect(clientGrowth).toBeLessThan(64 * MiB);
    expect(await t.sum().item()).toBe(128 * MiB);
    t.dispose();
    await torch.sync();
  });

  it("a 256 MiB download: the client's peak RSS grows by the array and a little, the runtime's by little", async () => {
    const pid = server.child.pid!;
    const t = torch.full([64 * MiB], 3, { dtype: torch.float32 });
    await torch.sync();
    const runtimeBase = resetPeak(pid);
    const clientBase = resetPeak(process.pid);
    const d = await t.data<Float32Array>();
    const runtimeGrowth = status(pid, 'VmHWM') - runtimeBase;
    const clientGrowth = status(process.pid, 'VmHWM') - clientBase;
    expect(runtimeGrowth).toBeLessThan(64 * MiB);
    expect(clientGrowth).toBeLessThan(256 * MiB + 96 * MiB); // chunks not yet collected count too
    expect(d[0]).toBe(3);
    expect(d[d.length - 1]).toBe(3);
    t.dispose();
  });
});

describe('errors', () => {
  it('a failed transfer poisons only its output: ops on it fail, other transfers and ops go on', async () => {
    const a = torch.tensor(pattern(MiB));
    const bad = torch.tensor(pattern(MiB), { device: 'cuda:99' }); // no such device: the runtime's .to() fails
    const dep = bad.add(1);
    const b = torch.tensor(pattern(2 * MiB));
    const independent = a.add(b.narrow(0, 0, MiB));
    const err = (await torch.sync().catch((e: unknown) => e)) as TorchError;
    expect(err).toBeInstanceOf(TorchError);
    expect(err.op).toBe('tensor');
    const depErr = (await dep.sum().item().catch((e: unknown) => e)) as TorchError;
    expect(depErr).toBeInstanceOf(TorchError);
    expect(depErr.pyType).toBe(err.pyType);
    expect(countWrong(await independent.data<Float32Array>(), (i) => 2 * (i % 65521))).toBe(0);
    expect(countWrong(await b.data<Float32Array>(), (i) => i % 65521)).toBe(0);
  });

  it('a client killed mid-download: the runtime stops waiting for it after the grace period and serves the others', async () => {
    const client = spawn(process.execPath, ['--import', 'tsx', join(root, 'test', 'fixtures', 'served_client.ts'), 'download'], {
      cwd: root,
      env: { ...process.env, TORCHBRIDGE_CONNECT: server.file },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await waitForLine(client, /\{"ready":true\}/);
    client.kill('SIGKILL');
    const t0 = performance.now();
    // the runtime's main thread is in that transfer until it gives up (grace: 5 s)
    expect(await torch.ones(3).sum().item()).toBe(3);
    expect(performance.now() - t0).toBeLessThan((GRACE_S + 5) * 1000);
    expect(server.child.stderrText()).toMatch(/session \w+ ended \(freed after 5 s without a message or ping from its client/);
  });

  it('a stream that breaks the protocol fails its op with a clear error; the session serves on', async () => {
    // a bare client (a new ZeroMQ peer with the connection file's keys), speaking the wire itself
    const c = JSON.parse(readFileSync(server.file, 'utf8')) as Record<string, string>;
    const d = new zmq.Dealer({ linger: 0, curveServerKey: c.server_public_key, curvePublicKey: c.client_public_key, curveSecretKey: c.client_secret_key });
    d.connect(c.ops!);
    const sid = 'b0rkedc1';
    const replies = async (): Promise<[number, number, unknown][]> => {
      for (;;) {
        const frames = await d.receive();
        if (frames.length === 1) return (decode(frames[0]!) as [number, [number, number, unknown][]])[1];
      }
    };
    await d.send(encode([[OP.HELLO, 1, sid, `tb-${process.pid}-${sid}-`, null]]));
    await replies();
    const n = 2 * CHUNK_BYTES;
    await d.send(encode([[OP.FROM_DATA, 1, torch.uint8, [n], [1, n], null], [OP.READ, 2, 1, READ.TOLIST]]));
    const chunk = Buffer.alloc(CHUNK_BYTES, 5);
    // a stream message is [body, header] (its header's first element, the kind, is negative)
    await d.send([chunk, encode([STREAM.CHUNK, 1, 0, n])]);
    await d.send([chunk, encode([STREAM.CHUNK, 1, 12345, n])]); // not where the stream is
    const [id, status, value] = (await replies())[0]!;
    expect([id, status]).toEqual([2, 1]);
    expect(value).toMatchObject({ type: 'StreamError', message: expect.stringMatching(/a chunk of 1048576 bytes at 12345 of 2097152, expected one at 1048576/) });
    await d.send(encode([[OP.CALL, 3, 'ones', [2], null, 0, 0, 0], [OP.READ, 4, 3, READ.TOLIST], [OP.SHUTDOWN, 5]]));
    expect((await replies())[0]).toEqual([4, 0, [1, 1]]);
    d.close();
  });
});
