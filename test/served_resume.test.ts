/**
 * A session outlives a dropped connection (DESIGN §1): a served runtime (started through its
 * CLI, tcp:// on loopback with CURVE) reached through TCP proxies this test controls, one for
 * the ops endpoint and one for control, which cut every connection mid-stream and turn new ones
 * away for a while. Every op must run exactly once and every read get its value; a client that
 * stays away past the runtime's grace period gets a clear RuntimeLostError and the runtime frees
 * its session; ping and interrupt work after a reconnect.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import torch, { RuntimeLostError, TorchError, type Tensor } from '../src/index.js';
import { currentSession } from '../src/session/current.js';
import { Session } from '../src/session/session.js';
import { CONTROL } from '../src/transport/protocol.js';
import { python } from './fixtures/python_twin.js';
import { exited, started, type ServerProcess } from './fixtures/served.js';
import { TcpProxy } from './fixtures/tcp_proxy.js';

const dir = mkdtempSync(join(tmpdir(), 'tb-resume-test-'));
const MiB_FLOATS = 256 * 1024; // a 1 MiB float32 tensor
const OUTAGE_MS = 1000;

/** A served runtime, and a connection file that reaches it through two proxies (ops, control). */
interface Proxied {
  child: ServerProcess;
  /** its own connection file (direct) */
  file: string;
  /** the same with both endpoints at the proxies */
  proxied: string;
  ops: TcpProxy;
  control: TcpProxy;
}

const runtimes: Proxied[] = [];

async function proxiedRuntime(name: string, grace: number): Promise<Proxied> {
  const s = await started(['--bind', 'tcp://127.0.0.1:0', '--connection-file', join(dir, `${name}.json`), '--grace', String(grace)]);
  const conn = JSON.parse(readFileSync(s.file, 'utf8')) as Record<string, unknown>;
  const ops = await TcpProxy.start(conn.ops as string);
  const control = await TcpProxy.start(conn.control as string);
  const proxied = join(dir, `${name}-proxied.json`);
  writeFileSync(proxied, JSON.stringify({ ...conn, ops: ops.endpoint, control: control.endpoint }), { mode: 0o600 });
  const r = { child: s.child, file: s.file, proxied, ops, control };
  runtimes.push(r);
  return r;
}

function cutAll(r: Proxied): void {
  r.ops.cut();
  r.control.cut();
}

function restoreAll(r: Proxied): void {
  r.ops.restore();
  r.control.restore();
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** `p`, or a clear failure if it has not settled within `ms` (a lost op would otherwise hang the test). */
function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Wait (bounded) until `cond` holds; whether it did. */
async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return true;
    await sleep(50);
  }
  return cond();
}

afterAll(async () => {
  await torch.shutdown().catch(() => {});
  for (const r of runtimes) {
    await r.ops.close();
    await r.control.close();
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGTERM');
    await exited(r.child);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('a dropped connection that comes back', () => {
  let rt: Proxied;
  beforeAll(async () => {
    // a grace period well beyond the outages: the session must survive them
    rt = await proxiedRuntime('resume', 10);
  });
  afterEach(() => restoreAll(rt)); // (also after a failed test)

  it('every op runs exactly once and every read gets its value, across cuts mid-message both ways', async () => {
    const STEPS = 420;
    // The same program in Python, run first: the twin blocks this process (and the proxies in
    // it) while Python starts, which under load can outlast the runtime's grace period.
    const twin = python<[number, number]>(`
      acc = torch.zeros(1, dtype=torch.float64)
      h = torch.zeros(1, dtype=torch.int64)
      for i in range(${STEPS}):
          acc.add_(1)
          h.mul_(31).add_(i).remainder_(1000003)
      print(json.dumps([acc.item(), h.item()]))
    `);
    // shm: false puts bulk data inline, so 1 MiB tensors cross the proxies as messages (stream
    // chunks, numbered like batches and replies: a cut loses some and they must come again)
    await torch.init({ connect: rt.proxied, shm: false });
    const sid = currentSession().id;
    const acc = torch.zeros([1], { dtype: torch.float64 }); // counts the ops that ran
    const h = torch.zeros([1], { dtype: torch.int64 }); // a hash of their order: h = (31 h + i) mod p
    let count = 0;
    let i = 0;
    const reads: Array<Promise<[string, unknown, unknown]>> = [];
    const expectRead = (what: string, p: Promise<unknown>, want: unknown) =>
      reads.push(p.then((got) => [what, got, want], (e: unknown) => [what, String(e), want]));
    const bigs: Tensor[] = [];

    /** n steps of the program, a read every 10, spread over about `ms`. */
    const stream = async (n: number, ms: number) => {
      for (let k = 0; k < n; k++, i++) {
        acc.add_(1);
        count++;
        h.mul_(31).add_(i).remainder_(1000003);
        if (i % 10 === 0) expectRead(`count at step ${i}`, acc.item(), count);
        if (k % 10 === 9) await sleep(ms / (n / 10));
      }
    };
    /** A 1 MiB tensor to the runtime (inline) and a read that depends on it. */
    const big = (fill: number) => {
      const t = torch.tensor(new Float32Array(MiB_FLOATS).fill(fill));
      bigs.push(t);
      expectRead(`sum of a 1 MiB tensor of ${fill}s`, t.sum().item(), fill * MiB_FLOATS);
      return t;
    };

    await stream(100, 200);
    big(1);
    await stream(20, 50);

    // 1) cut in the middle of a 1 MiB batch on its way to the runtime: that batch is lost
    const cut1 = rt.ops.cutAfter('toRuntime', 256 * 1024);
    big(2);
    await cut1;
    rt.control.cut();
    const restore1 = sleep(OUTAGE_MS).then(() => restoreAll(rt));
    await stream(100, 600); // queued while the connection is down
    await restore1;
    await stream(100, 200);

    // 2) cut in the middle of a 1 MiB reply on its way to the client: that reply is lost
    const cut2 = rt.ops.cutAfter('toClient', 256 * 1024);
    const back = torch.full([MiB_FLOATS], 3, { dtype: torch.float32 }).data<Float32Array>();
    await cut2;
    rt.control.cut();
    const restore2 = sleep(OUTAGE_MS).then(() => restoreAll(rt));
    await stream(50, 400);
    await restore2;
    big(4);
    await stream(50, 100);

    const data = await bounded(back, 20_000, 'the 1 MiB read whose reply was cut');
    expect(data.length).toBe(MiB_FLOATS);
    expect(data.every((v) => v === 3)).toBe(true);
    const results = await bounded(Promise.all(reads), 20_000, 'the reads');
    const wrong = results.filter(([, got, want]) => got !== want);
    expect(wrong).toEqual([]);
    expect(results.length).toBeGreaterThan(40);
    expect(await bounded(acc.item(), 5000, 'the final count')).toBe(count);

    // the same program in Python gives the same count and order hash: no op lost, repeated or reordered
    expect([i, count]).toEqual([STEPS, STEPS]);
    expect([await acc.item(), await h.item()]).toEqual(twin);

    // both cuts happened mid-message, and the runtime saw and repaired both losses
    expect(rt.ops.cuts).toBe(2);
    const log = rt.child.stderrText();
    expect(log).toMatch(new RegExp(`session ${sid}: batches \\d+-\\d+ did not arrive`));
    expect(log).toMatch(new RegExp(`session ${sid}: sending reply messages \\d+-\\d+ again`));
    expect(log).not.toMatch(new RegExp(`session ${sid} ended`));
    for (const t of bigs) t.dispose();
  });

  it('ping and interrupt work after a reconnect; a ping sent while the connection is down is answered once it is back, one lost with its connection is sent again', async () => {
    await torch.init({ connect: rt.proxied });
    const session = currentSession();
    expect(((await session.ping()) as { pid: number }).pid).toBe(rt.child.pid);
    cutAll(rt);
    const during = session.ping();
    await sleep(OUTAGE_MS);
    restoreAll(rt);
    expect(((await during) as { pid: number }).pid).toBe(rt.child.pid);
    expect(((await session.ping()) as { pid: number }).pid).toBe(rt.child.pid);

    // a control request lost with its connection (its bytes never reach the runtime) is sent again
    await sleep(600); // nothing outstanding: the client's watchdog goes quiet, so the next bytes are the ping's
    const lost = rt.control.cutAfter('toRuntime', 1);
    const pinged = session.ping();
    await lost;
    rt.ops.cut();
    await sleep(OUTAGE_MS);
    restoreAll(rt);
    expect(((await bounded(pinged, 10_000, 'a ping lost in a cut')) as { pid: number }).pid).toBe(rt.child.pid);

    // interrupt: a long Python call stops, the next op runs, in the same session
    torch.py.import('builtins').exec('import torch\na = torch.randn(700, 700)\nfor _ in range(4000):\n    a = (a @ a).div_(700)', {});
    const done = torch.sync().catch((e: unknown) => e);
    await sleep(300);
    const t0 = performance.now();
    expect(await torch.interrupt()).toBe(true);
    const err = (await done) as TorchError;
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(err).toBeInstanceOf(TorchError);
    expect(err.pyType).toBe('KeyboardInterrupt');
    expect(await torch.ones(2).sum().item()).toBe(2);
    expect(currentSession()).toBe(session);
  });
});

describe('a connection that stays down past the grace period', () => {
  const GRACE_S = 2;
  let rt: Proxied;
  let observer: Session; // another client, connected directly: what the runtime holds
  const runtimeStats = async () =>
    ((await observer.controlRequest(CONTROL.STATS)) as { runtime: { sessions: number; tensors: number; bytes: number } }).runtime;

  beforeAll(async () => {
    rt = await proxiedRuntime('grace', GRACE_S);
    observer = new Session({ connect: rt.file });
    await observer.ready;
  });
  afterAll(async () => {
    await observer.shutdown().catch(() => {});
  });

  /** A session through the proxies holding 4 MiB; the runtime's totals before and with it. */
  async function holding(): Promise<{ sid: string; x: Tensor; base: { sessions: number; tensors: number; bytes: number } }> {
    await torch.shutdown();
    const base = await runtimeStats();
    await torch.init({ connect: rt.proxied });
    const x = torch.ones(1024 * 1024); // 4 MiB in the runtime
    const sum = x.sum();
    expect(await sum.item()).toBe(1024 * 1024);
    sum.dispose(); // (now, not later by the GC backstop: a free would be work outstanding)
    const during = await runtimeStats();
    expect(during.sessions).toBe(base.sessions + 1);
    expect(during.bytes).toBeGreaterThanOrEqual(base.bytes + 4 * 1024 * 1024);
    return { sid: currentSession().id, x, base };
  }

  /** The runtime logged that it freed this session after its grace period, and holds what it held before it. */
  async function freed(sid: string, base: { sessions: number; tensors: number; bytes: number }): Promise<void> {
    const line = new RegExp(`session ${sid} ended \\(freed after ${GRACE_S} s without a message or ping`);
    expect(await waitUntil(() => line.test(rt.child.stderrText()), (GRACE_S + 4) * 1000)).toBe(true);
    expect(await runtimeStats()).toMatchObject(base);
  }

  afterEach(() => restoreAll(rt)); // (also after a failed test)

  it('a read pending while the connection is down rejects with a clear RuntimeLostError, and the runtime frees the session', async () => {
    const { sid, x, base } = await holding();
    cutAll(rt);
    const t0 = performance.now();
    const err = (await x.mul(2).sum().item().catch((e: unknown) => e)) as Error;
    const ms = performance.now() - t0;
    expect(err).toBeInstanceOf(RuntimeLostError);
    expect(err.message).toMatch(/has not answered for \d+(\.\d)? s, longer than it keeps the session .*\(its grace period, 2 s\): it has freed this session's tensors/);
    expect(err.message).toContain('torch.init()');
    // it waited for the runtime's grace period, then gave up within a few seconds
    expect(ms).toBeGreaterThan(GRACE_S * 1000);
    expect(ms).toBeLessThan((GRACE_S + 4) * 1000);
    await freed(sid, base);
    restoreAll(rt);
    expect(() => x.add(1)).toThrow(RuntimeLostError);
  });

  it('a client that comes back after the grace period is told its session was freed, at once', async () => {
    const { sid, x, base } = await holding();
    await sleep(1200); // the client's watchdog goes quiet once nothing is outstanding (a tick or two)
    cutAll(rt); // nothing pending: the client does not notice
    await freed(sid, base);
    restoreAll(rt);
    const t0 = performance.now();
    const err = (await x.sum().item().catch((e: unknown) => e)) as Error;
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(err).toBeInstanceOf(RuntimeLostError);
    expect(err.message).toContain(`this client's session ${sid} was freed after ${GRACE_S} s without a message or ping from its client`);
    expect(err.message).toContain('torch.init()');
    // a new session on the same runtime works
    await torch.init({ connect: rt.proxied });
    expect(await torch.ones(3).sum().item()).toBe(3);
  });

  it('a runtime that dies is not waited for: pending reads reject within 1 s (nothing listens at its address)', async () => {
    await torch.shutdown();
    await torch.init({ connect: rt.file }); // directly: through a proxy a dead runtime looks like a network that drops
    const a = torch.randn(800, 800);
    let y = a;
    for (let k = 0; k < 100; k++) y = y.matmul(a).div(800);
    const pending = [y.sum().item(), torch.ones(2).tolist(), torch.sync()];
    await sleep(100);
    const t0 = performance.now();
    rt.child.kill('SIGKILL');
    const settled = await Promise.allSettled(pending);
    expect(performance.now() - t0).toBeLessThan(1000);
    for (const r of settled) {
      expect(r.status).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason as Error;
      expect(err).toBeInstanceOf(RuntimeLostError);
      expect(err.message).toMatch(/nothing listens at tcp:\/\/127\.0\.0\.1:\d+ any more \(ECONNREFUSED\): the runtime stopped/);
    }
    await exited(rt.child);
  });
});
