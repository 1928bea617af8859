/** Runtime lifecycle: start, info, shutdown, exit by itself, stdio, crashes, clean-up. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import torch, { RuntimeDiedError, RuntimeStartError, TorchBridgeError } from '../src/index.js';
import { alive, root, runFixture, startFixture, waitForLine, waitUntil } from './fixtures/run_child.js';

const venvPython = join(root, '.venv', 'bin', 'python');
const segmentsOf = (pid: number) => readdirSync('/dev/shm').filter((n) => n.startsWith(`tb-${pid}-`));
/** Paths of the Unix sockets bound on this machine (the last column of /proc/net/unix). */
const unixSocketPaths = () =>
  readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/)[7])
    .filter((p): p is string => !!p && p.startsWith('/'));

afterAll(async () => {
  await torch.shutdown();
});

describe('runtime lifecycle', () => {
  it('init() starts the runtime and reports what it runs', async () => {
    const info = await torch.init();
    expect(info.pid).toBeGreaterThan(0);
    expect(alive(info.pid)).toBe(true);
    expect(info.python).toBe(venvPython);
    expect(info.python_version).toMatch(/^3\.\d+\.\d+/);
    expect(info.torch_version).toMatch(/^2\./);
    expect(typeof info.cuda_available).toBe('boolean');
    expect(info.device_count).toBe(info.cuda_available ? info.device_count : 0);
    // a second init() reuses the live runtime
    expect((await torch.init()).pid).toBe(info.pid);
  });

  it('shutdown() runs what was queued, stops the runtime; the next use starts a new one lazily', async () => {
    const info = await torch.init();
    const x = torch.ones(3);
    await torch.shutdown();
    expect(await waitUntil(() => !alive(info.pid), 2000)).toBe(true);
    expect(() => x.add(1)).toThrow(TorchBridgeError);
    const y = torch.ones(2).mul(3); // lazy start of a fresh runtime
    expect(await y.sum().item()).toBe(6);
    expect((await torch.init()).pid).not.toBe(info.pid);
  });

  it('the control channel answers while a long op runs', async () => {
    await torch.init();
    const a = torch.randn(1500, 1500);
    let y = a;
    for (let i = 0; i < 30; i++) y = y.matmul(a).div(1500);
    const done = y.sum().item();
    await new Promise((r) => setTimeout(r, 50));
    const t0 = performance.now();
    const pong = (await torch.runtime.ping()) as { pid: number };
    const pingMs = performance.now() - t0;
    expect(pong.pid).toBe((await torch.init()).pid);
    expect(pingMs).toBeLessThan(500);
    await done;
  });

  it('a SIGKILLed runtime rejects every pending read within 1 s; later calls say so; init() starts fresh', async () => {
    const info = await torch.init();
    const a = torch.randn(1500, 1500);
    let y = a;
    for (let i = 0; i < 200; i++) y = y.matmul(a).div(1500);
    const reads = [y.sum().item(), torch.ones(2).tolist(), torch.sync()];
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    torch.runtime.kill('SIGKILL');
    const results = await Promise.allSettled(reads);
    const elapsed = performance.now() - t0;
    expect(elapsed).toBeLessThan(1000);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const err = (r as PromiseRejectedResult).reason as RuntimeDiedError;
      expect(err).toBeInstanceOf(RuntimeDiedError);
      expect(err.signal).toBe('SIGKILL');
      expect(err.message).toContain('SIGKILL');
      expect(err.message).toContain('torch.init()');
    }
    expect(() => torch.ones(2)).toThrow(RuntimeDiedError);
    expect(() => y.add(1)).toThrow(RuntimeDiedError);
    await expect(y.item()).rejects.toBeInstanceOf(RuntimeDiedError);
    expect(segmentsOf(process.pid).filter((n) => n.includes(info.session))).toEqual([]);
    const fresh = await torch.init();
    expect(fresh.pid).not.toBe(info.pid);
    expect(await torch.ones(4).sum().item()).toBe(4);
    // old handles stay invalid in the new runtime
    expect(() => y.add(1)).toThrow(RuntimeDiedError);
  });

  it('a crashed runtime reports its signal and its last stderr lines', async () => {
    const prev = process.env.TORCHBRIDGE_PYTHON;
    await torch.shutdown();
    process.env.TORCHBRIDGE_PYTHON = join(root, 'test', 'fixtures', 'noisy_python.sh');
    process.env.TORCHBRIDGE_TEST_REAL_PYTHON = venvPython;
    try {
      await torch.init();
      // work that is still running when the signal lands, however fast the transport answers
      const big = torch.ones(1500, 1500);
      for (let i = 0; i < 4; i++) big.matmul(big);
      const pending = torch.sync();
      torch.runtime.kill('SIGSEGV'); // as a segfault in native code would
      const err = (await pending.catch((e: unknown) => e)) as RuntimeDiedError;
      expect(err).toBeInstanceOf(RuntimeDiedError);
      expect(err.signal).toBe('SIGSEGV');
      expect(err.stderrTail).toContain("hello from the runtime's stderr");
      expect(err.message).toContain("hello from the runtime's stderr");
    } finally {
      if (prev === undefined) delete process.env.TORCHBRIDGE_PYTHON;
      else process.env.TORCHBRIDGE_PYTHON = prev;
    }
    await torch.init();
  });
});

describe('processes', () => {
  it('a Node script that is done exits by itself and its runtime goes too', async () => {
    const r = await runFixture('finishes.ts', {}, 30_000);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('sum number');
    const pid = Number(/runtime-pid (\d+)/.exec(r.stdout)![1]);
    expect(await waitUntil(() => !alive(pid), 3000)).toBe(true);
  });

  it("the runtime's stdout and stderr reach Node's, and TORCHBRIDGE_PYTHON picks the interpreter", async () => {
    const r = await runFixture('stdio.ts', {
      TORCHBRIDGE_PYTHON: join(root, 'test', 'fixtures', 'noisy_python.sh'),
      TORCHBRIDGE_TEST_REAL_PYTHON: venvPython,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("hello from the runtime's stdout");
    expect(r.stderr).toContain("hello from the runtime's stderr");
    expect(r.stderr).toContain('UserWarning'); // Python's warning, printed by the runtime
  });

  it('a Python without torch gives an error that says how to fix it', async () => {
    const prev = process.env.TORCHBRIDGE_PYTHON;
    await torch.shutdown();
    try {
      process.env.TORCHBRIDGE_PYTHON = '/usr/bin/python3'; // Debian's python: no torch here
      const err = (await torch.init().catch((e: unknown) => e)) as RuntimeStartError;
      expect(err).toBeInstanceOf(RuntimeStartError);
      expect(err.message).toContain('/usr/bin/python3');
      expect(err.message).toContain('torch');
      expect(err.message).toContain('npm run setup');
      expect(err.message).toContain('TORCHBRIDGE_PYTHON');
      process.env.TORCHBRIDGE_PYTHON = '/nonexistent/python';
      const err2 = (await torch.init().catch((e: unknown) => e)) as RuntimeStartError;
      expect(err2).toBeInstanceOf(RuntimeStartError);
      expect(err2.message).toContain('/nonexistent/python');
    } finally {
      if (prev === undefined) delete process.env.TORCHBRIDGE_PYTHON;
      else process.env.TORCHBRIDGE_PYTHON = prev;
    }
    expect((await torch.init()).python).toBe(venvPython);
  });

  it('no shared-memory segment is left after the client is SIGKILLed', async () => {
    const child = startFixture('holds_shared_memory.ts');
    const m = await waitForLine(child, /ready runtime-pid=(\d+)/);
    const runtimePid = Number(m[1]);
    expect(segmentsOf(child.pid!).length).toBeGreaterThan(0); // the unsent shared array, at least
    child.kill('SIGKILL');
    expect(await waitUntil(() => !alive(runtimePid), 5000)).toBe(true);
    expect(segmentsOf(child.pid!)).toEqual([]);
  });

  it('no shared-memory segment is left after shutdown', async () => {
    await torch.init();
    const arr = torch.shared_array(1 << 18);
    const t = torch.frombuffer(arr);
    const big = await torch.arange(1 << 18).data();
    expect(await t.add(1).sum().item()).toBe(1 << 18);
    expect(big.length).toBe(1 << 18);
    await torch.shutdown();
    expect(segmentsOf(process.pid)).toEqual([]);
  });

  it('the default transport is a socket pair: no socket file anywhere', async () => {
    await torch.shutdown();
    const before = unixSocketPaths();
    await torch.init();
    const pid = torch.runtime.pid!;
    // the runtime's fds 3 and 4 are sockets with no name (an inherited socket pair)
    const { readlinkSync } = await import('node:fs');
    expect(readlinkSync(`/proc/${pid}/fd/3`)).toMatch(/^socket:/);
    expect(readlinkSync(`/proc/${pid}/fd/4`)).toMatch(/^socket:/);
    expect(unixSocketPaths().filter((p) => !before.includes(p) && p.includes('torchbridge'))).toEqual([]);
  });

  it('TORCHBRIDGE_TRANSPORT=zmq: ipc sockets in a private 0700 directory, removed at exit', async () => {
    const { statSync, existsSync } = await import('node:fs');
    await torch.shutdown();
    const prev = process.env.TORCHBRIDGE_TRANSPORT;
    process.env.TORCHBRIDGE_TRANSPORT = 'zmq';
    try {
      const before = unixSocketPaths();
      await torch.init();
      expect(await torch.ones(3).sum().item()).toBe(3);
      const mine = unixSocketPaths().filter((p) => !before.includes(p) && p.includes('/torchbridge-'));
      const dirs = [...new Set(mine.map((p) => dirname(p)))];
      expect(mine.map((p) => p.slice(p.lastIndexOf('/') + 1)).sort()).toEqual(expect.arrayContaining(['control.sock', 'ops.sock']));
      expect(dirs.length).toBe(1);
      expect(statSync(dirs[0]!).mode & 0o777).toBe(0o700);
      await torch.shutdown();
      expect(existsSync(dirs[0]!)).toBe(false);
    } finally {
      if (prev === undefined) delete process.env.TORCHBRIDGE_TRANSPORT;
      else process.env.TORCHBRIDGE_TRANSPORT = prev;
    }
    await torch.init();
  });
});
