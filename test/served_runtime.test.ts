/**
 * A runtime served on its own (`torchbridge-runtime serve`), started through its CLI as a user
 * would, reached over ZeroMQ tcp:// with CURVE through its connection file: values, errors,
 * pending metadata, frees, bulk data (shared memory and inline), shutdown, key checks, several
 * clients at once, and a client that dies mid-stream.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zmq from 'zeromq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import torch, { RuntimeConnectError, RuntimeLostError, TorchBridgeError, TorchError } from '../src/index.js';
import { currentSession } from '../src/session/current.js';
import { CONTROL, OP, READ } from '../src/transport/protocol.js';
import { decode, encode } from '../src/transport/codec.js';
import { alive, root, runFixture, waitForLine } from './fixtures/run_child.js';
import { exited, serve as serveProcess, started as startedServer, type ServerProcess } from './fixtures/served.js';

const GRACE_S = 2;
const dir = mkdtempSync(join(tmpdir(), 'tb-served-test-'));
const servers: ChildProcess[] = [];

/** A server through the CLI, stopped in afterAll. */
function serve(args: string[]): ServerProcess {
  const child = serveProcess(args);
  servers.push(child);
  return child;
}

/** test/fixtures/served_client.ts in a process of its own, stdin open for its cue. */
function client(env: Record<string, string>, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(root, 'test', 'fixtures', 'served_client.ts'), ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
}

async function started(args: string[]): Promise<{ child: ServerProcess; endpoint: string; file: string }> {
  const r = await startedServer(args);
  servers.push(r.child);
  return r;
}

/** What the runtime holds for all its clients (its control channel's stats). */
async function runtimeStats(): Promise<{ sessions: number; tensors: number; bytes: number }> {
  const st = (await currentSession().controlRequest(CONTROL.STATS)) as { runtime: { sessions: number; tensors: number; bytes: number } };
  return st.runtime;
}

/** Wait until this client's session is the runtime's only one (earlier clients' sessions may still be in their grace period). */
async function onlySession(): Promise<void> {
  expect(await waitUntilAsync(async () => (await runtimeStats()).sessions === 1, (GRACE_S + 3) * 1000)).toBe(true);
}

const MiB16 = 4 * 1024 * 1024; // float32 elements

/** 16 MiB to the runtime from a TypedArray, doubled there, and back through data(). */
async function roundTrip16MiB(): Promise<void> {
  const src = new Float32Array(MiB16);
  for (let i = 0; i < src.length; i++) src[i] = i % 4099;
  const t = torch.tensor(src);
  const back = await t.mul(2).data();
  expect(back).toBeInstanceOf(Float32Array);
  expect(back.length).toBe(MiB16);
  let wrong = 0;
  for (let i = 0; i < back.length; i++) if (back[i] !== 2 * (i % 4099)) wrong++;
  expect(wrong).toBe(0);
  t.dispose();
}

let main: { child: ChildProcess; endpoint: string; file: string };

beforeAll(async () => {
  main = await started(['--bind', 'tcp://127.0.0.1:0', '--connection-file', join(dir, 'runtime.json'), '--keys', join(dir, 'keys'), '--grace', String(GRACE_S)]);
});

afterAll(async () => {
  await torch.shutdown().catch(() => {});
  for (const s of servers) {
    if (s.exitCode === null && s.signalCode === null) s.kill('SIGTERM');
    await exited(s);
  }
  // a runtime stopped by SIGTERM removes its connection file
  expect(existsSync(main.file)).toBe(false);
  rmSync(dir, { recursive: true, force: true });
});

describe('a served runtime over tcp:// with CURVE', () => {
  it('listens on loopback and writes a 0600 connection file with its endpoints and keys', async () => {
    expect(main.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(statSync(main.file).mode & 0o777).toBe(0o600);
    const conn = JSON.parse(readFileSync(main.file, 'utf8')) as Record<string, unknown>;
    expect(conn).toMatchObject({ transport: 'zmq', ops: main.endpoint, session_grace_s: GRACE_S, pid: main.child.pid });
    expect(conn.control).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(conn.control).not.toBe(conn.ops);
    for (const k of ['server_public_key', 'client_public_key', 'client_secret_key']) expect(conn[k]).toMatch(/^.{40}$/);
    // the key directory is private, secret keys too
    expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700);
    for (const f of ['server.key_secret', 'client.key_secret']) expect(statSync(join(dir, 'keys', f)).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, 'keys', 'authorized'))).toEqual(['client.key']);
  });

  it('torch.init({connect}) reaches it; values and errors with poisoning', async () => {
    const info = await torch.init({ connect: main.file });
    expect(info.pid).toBe(main.child.pid);
    expect(info.served).toBe(true);
    expect(info.shm).toBe(true); // same host: the probe segment was visible
    expect(torch.runtime.pid).toBeUndefined(); // not our child
    const x = torch.ones(3);
    expect(await x.mul(4).tolist()).toEqual([4, 4, 4]);
    const bad = torch.call('index_select', [x, 0, torch.tensor([7])]);
    const dep = bad.add(1);
    const independent = x.mul(5);
    await expect(torch.sync()).rejects.toMatchObject({ pyType: 'IndexError', op: 'index_select' });
    const err = (await dep.tolist().catch((e: unknown) => e)) as TorchError;
    expect(err).toBeInstanceOf(TorchError);
    expect(err.pyType).toBe('IndexError');
    expect(await independent.tolist()).toEqual([5, 5, 5]);
  });

  it('pending metadata: a data-dependent shape resolves with ready()', async () => {
    const nz = torch.call('nonzero', [torch.tensor([0, 3, 0, 4, 5])]);
    await nz.ready();
    expect(nz.shape).toEqual([3, 1]);
    expect(await nz.flatten().tolist()).toEqual([1, 3, 4]);
  });

  it('frees: torch.memory() is back to its baseline after dispose', async () => {
    // a fresh session: no earlier tensor can be freed by the GC backstop meanwhile
    await torch.shutdown();
    await torch.init({ connect: main.file });
    const before = await torch.memory();
    const ts = [torch.randn(256, 256), torch.ones(1000), torch.zeros(3, 3)];
    const during = await torch.memory();
    expect(during.tensors).toBe(before.tensors + 3);
    expect(during.bytes).toBe(before.bytes + (256 * 256 + 1000 + 9) * 4);
    for (const t of ts) t.dispose();
    expect(await torch.memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
  });

  it('16 MiB both ways through shared memory', async () => {
    expect(currentSession().shm).toBe(true);
    await roundTrip16MiB();
  });

  it('16 MiB both ways inline, with {shm: false}', async () => {
    await torch.shutdown();
    const info = await torch.init({ connect: main.file, shm: false });
    expect(info.shm).toBe(false); // the runtime sends its data inline too
    expect(currentSession().shm).toBe(false);
    await roundTrip16MiB();
    // sharing memory is refused with a clear error rather than failing in the runtime
    expect(() => torch.shared_array(4)).toThrow(/cannot map this process's shared memory/);
  });

  it("shutdown() ends this client's session only: the runtime goes on serving", async () => {
    await torch.init({ connect: main.file });
    const x = torch.ones(2);
    await x.tolist();
    await torch.shutdown();
    expect(() => x.add(1)).toThrow(TorchBridgeError);
    expect(alive(main.child.pid!)).toBe(true);
    await torch.init({ connect: main.file }); // a new session on the same runtime
    expect(await torch.ones(2).add(1).tolist()).toEqual([2, 2]);
  });

  it('TORCHBRIDGE_CONNECT reaches it with nothing else in the program changed, and the program ends by itself', async () => {
    const r = await runFixture('finishes.ts', { TORCHBRIDGE_CONNECT: main.file }, 20_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`runtime-pid ${main.child.pid}`);
  });
});

/** A copy of a connection file with something changed. */
function variant(name: string, change: (c: Record<string, unknown>) => void, from = main.file): string {
  const c = JSON.parse(readFileSync(from, 'utf8')) as Record<string, unknown>;
  change(c);
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(c), { mode: 0o600 });
  return p;
}

/** torch.init with this connection file fails within seconds with a RuntimeConnectError. */
async function refused(file: string, pattern: RegExp): Promise<void> {
  await torch.shutdown();
  const t0 = performance.now();
  const err = (await torch.init({ connect: file }).catch((e: unknown) => e)) as Error;
  expect(performance.now() - t0).toBeLessThan(6000);
  expect(err).toBeInstanceOf(RuntimeConnectError);
  expect(err.message).toMatch(pattern);
  expect(err.message).toContain(file);
}

describe('keys: a client without the right keys gets a clear error within seconds', () => {
  it('no keys', async () => {
    const file = variant('nokeys.json', (c) => {
      delete c.server_public_key;
      delete c.client_public_key;
      delete c.client_secret_key;
    });
    await refused(file, /requires CURVE keys/);
  });

  it("a wrong server key", async () => {
    const file = variant('wrongserver.json', (c) => (c.server_public_key = zmq.curveKeyPair().publicKey));
    await refused(file, /server_public_key .* is not this runtime's/);
  });

  it('a client key the runtime does not know', async () => {
    const pair = zmq.curveKeyPair();
    const file = variant('wrongclient.json', (c) => {
      c.client_public_key = pair.publicKey;
      c.client_secret_key = pair.secretKey;
    });
    await refused(file, /refused this client's key/);
  });

  it('a missing connection file', async () => {
    await refused(join(dir, 'nonexistent.json'), /cannot read the connection file/);
  });

  it('the runtime refuses a non-loopback bind without CURVE', async () => {
    const child = serve(['--bind', 'tcp://0.0.0.0:0', '--no-curve', '--connection-file', join(dir, 'open.json')]);
    const { code } = await exited(child);
    expect(code).not.toBe(0);
    expect((child as ChildProcess & { stderrText: () => string }).stderrText()).toMatch(/refusing to serve tcp:\/\/0\.0\.0\.0:0 without CURVE/);
    expect(existsSync(join(dir, 'open.json'))).toBe(false);
  });

  it('the good connection file still works afterwards', async () => {
    await torch.init({ connect: main.file });
    expect(await torch.ones(1).item()).toBe(1);
  });
});

describe('several clients on one runtime', () => {
  it('each has its own handles, grad mode and default dtype', async () => {
    await torch.init({ connect: main.file });
    await onlySession();
    const env = { TORCHBRIDGE_CONNECT: main.file, TORCHBRIDGE_STRICT: '0' };
    const a = client(env, ['state', '7', 'off', 'float64']);
    const b = client(env, ['state', '5', 'on', 'float32']);
    const [ra, rb] = await Promise.all([waitForLine(a, /(\{"ready".*\})\n/), waitForLine(b, /(\{"ready".*\})\n/)]);
    // both made their tensor under the same handle id, each in its own session
    expect(JSON.parse(ra[1]!).id).toBe(JSON.parse(rb[1]!).id);
    expect((await runtimeStats()).sessions).toBe(3);
    // this process's session saw neither client's grad mode nor default dtype
    const w = torch.call('mul', [torch.ones(2, { requires_grad: true }), 2]);
    await w.ready();
    expect(w.requires_grad).toBe(true);
    expect(String(((await torch.callValue('get_default_dtype')) as { name: string }).name)).toBe('float32');
    const results = [waitForLine(a, /(\{"values".*\})\n/), waitForLine(b, /(\{"values".*\})\n/)];
    a.stdin?.write('check\n');
    b.stdin?.write('check\n');
    const [va, vb] = (await Promise.all(results)).map((m) => JSON.parse(m[1]!));
    expect(va).toEqual({ values: [7, 7, 7], requires_grad: false, dtype: 'float64' });
    expect(vb).toEqual({ values: [5, 5, 5], requires_grad: true, dtype: 'float32' });
    expect((await exited(a)).code).toBe(0);
    expect((await exited(b)).code).toBe(0);
  });

  it('a client SIGKILLed mid-stream: its session is freed after the grace period; the others go on', async () => {
    await torch.init({ connect: main.file });
    await onlySession();
    const base = await runtimeStats();
    const streaming = client({ TORCHBRIDGE_CONNECT: main.file }, ['stream']);
    await waitForLine(streaming, /\{"ready":true\}/);
    const during = await runtimeStats();
    expect(during.sessions).toBe(base.sessions + 1);
    expect(during.bytes).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    streaming.kill('SIGKILL');
    await exited(streaming);
    expect((await runtimeStats()).sessions).toBe(base.sessions + 1); // not at once: after its grace period
    const freed = await waitUntilAsync(async () => (await runtimeStats()).sessions === base.sessions, (GRACE_S + 4) * 1000);
    expect(freed).toBe(true);
    // its tensors are gone (this client's own count can only have dropped meanwhile: GC backstop frees)
    const after = await runtimeStats();
    expect(during.bytes - after.bytes).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    expect(after.bytes).toBeLessThanOrEqual(base.bytes);
    expect(after.tensors).toBeLessThanOrEqual(base.tensors);
    expect(await torch.ones(3).sum().item()).toBe(3); // this client was served all along
  });
});

describe('sessions are keyed by the session id HELLO carries', () => {
  /** A bare CURVE DEALER with the connection file's keys (a new ZeroMQ peer each time). */
  function dealer(): zmq.Dealer {
    const c = JSON.parse(readFileSync(main.file, 'utf8')) as Record<string, string>;
    const d = new zmq.Dealer({ linger: 0, curveServerKey: c.server_public_key, curvePublicKey: c.client_public_key, curveSecretKey: c.client_secret_key });
    d.connect(c.ops!);
    return d;
  }
  const reply = async (d: zmq.Dealer): Promise<[number, number, unknown]> => {
    const [msg] = await d.receive();
    return (decode(msg!) as [number, [number, number, unknown][]])[1][0]!;
  };

  it('a client that reconnects as a new peer finds its session and its tensors', async () => {
    const sid = 'feedc0de';
    const hello = encode([[OP.HELLO, 1, sid, `tb-${process.pid}-${sid}-`, null]]);
    const first = dealer();
    await first.send(hello);
    expect((await reply(first))[2]).toMatchObject({ session: sid, served: true });
    await first.send(encode([[OP.CALL, 1, 'full', [[3], 9], null, 0, 0, 0], [OP.SYNC, 2]]));
    expect((await reply(first))[1]).toBe(0); // it ran
    first.close();
    const second = dealer();
    await second.send(hello);
    await reply(second);
    await second.send(encode([[OP.READ, 3, 1, READ.TOLIST]]));
    expect(await reply(second)).toEqual([3, 0, [9, 9, 9]]);
    // without a HELLO first, an unknown peer is told the runtime holds no session for it
    const stranger = dealer();
    await stranger.send(encode([[OP.SYNC, 1]]));
    const [msg] = await stranger.receive();
    expect(decode(msg!)).toEqual([-1, expect.stringMatching(/holds no session for this client/)]);
    await second.send(encode([[OP.SHUTDOWN, 4]]));
    await reply(second);
    second.close();
    stranger.close();
  });
});

describe('losing the runtime', () => {
  it('kill() drops the connection: pending reads reject with RuntimeLostError; the runtime lives on', async () => {
    await torch.init({ connect: main.file });
    const reads = [torch.ones(2).tolist(), torch.sync()];
    torch.runtime.kill();
    for (const r of await Promise.allSettled(reads)) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(RuntimeLostError);
    }
    expect(alive(main.child.pid!)).toBe(true);
  });

  it('a served runtime that dies rejects pending reads within seconds (RuntimeLostError)', async () => {
    // no --keys: keys made in memory for this run, nothing on disk to leave behind
    const other = await started(['--bind', 'tcp://127.0.0.1:0', '--connection-file', join(dir, 'doomed.json'), '--grace', String(GRACE_S)]);
    const pair = zmq.curveKeyPair();
    const stranger = variant('doomed-stranger.json', (c) => Object.assign(c, { client_public_key: pair.publicKey, client_secret_key: pair.secretKey }), other.file);
    await refused(stranger, /refused this client's key/); // only the client key it made is let in
    await torch.init({ connect: other.file });
    const a = torch.randn(1000, 1000);
    let y = a;
    for (let i = 0; i < 200; i++) y = y.matmul(a).div(1000);
    const read = y.sum().item();
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    other.child.kill('SIGKILL');
    const err = (await read.catch((e: unknown) => e)) as Error;
    expect(performance.now() - t0).toBeLessThan(6000);
    expect(err).toBeInstanceOf(RuntimeLostError);
    expect(err.message).toMatch(/lost the torchbridge runtime at tcp:\/\/127\.0\.0\.1:\d+/);
    expect(err.message).toContain('torch.init()');
    await exited(other.child);
  });
});

describe('ipc:// and --one-client', () => {
  it('serves from a private directory, exits when its one client shuts down, and removes its sockets', async () => {
    const sockDir = join(dir, 'ipc');
    const sock = join(sockDir, 'rt.sock');
    const s = await started(['--bind', `ipc://${sock}`, '--one-client', '--connection-file', join(dir, 'ipc.json')]);
    expect(s.endpoint).toBe(`ipc://${sock}`);
    expect(statSync(sockDir).mode & 0o777).toBe(0o700);
    const conn = JSON.parse(readFileSync(s.file, 'utf8')) as Record<string, unknown>;
    expect(conn.server_public_key).toBeNull(); // the directory, not keys, keeps others out
    await torch.init({ connect: s.file });
    expect(await torch.arange(4).sum().item()).toBe(6);
    await torch.shutdown();
    expect((await exited(s.child)).code).toBe(0);
    expect(existsSync(sockDir)).toBe(false);
    expect(existsSync(s.file)).toBe(false);
  });
});

async function waitUntilAsync(cond: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}
