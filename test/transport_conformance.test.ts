/**
 * The transport conformance subset: the same behaviour over every way of reaching a runtime.
 * The whole suite runs on the default (a child over a Unix socket pair); this file runs the
 * subset over a child on ZeroMQ ipc:// (TORCHBRIDGE_TRANSPORT=zmq) and over a runtime served on
 * its own, started through the CLI, on loopback tcp:// with CURVE.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import torch, { RuntimeDiedError, TorchError, type SessionOptions } from '../src/index.js';
import { exited, started, type ServerProcess } from './fixtures/served.js';

interface Way {
  name: string;
  /** options for torch.init, once the way is set up */
  options: () => SessionOptions;
  setup?: () => Promise<void>;
  teardown?: () => Promise<void>;
  /** make the runtime die as a crash would */
  crash: () => void;
}

const dir = mkdtempSync(join(tmpdir(), 'tb-conformance-'));
let server: { child: ServerProcess; file: string } | undefined;

const WAYS: Way[] = [
  { name: 'a child runtime over ZeroMQ ipc://', options: () => ({ transport: 'zmq' }), crash: () => torch.runtime.kill('SIGKILL') },
  {
    name: 'a served runtime over tcp:// with CURVE',
    options: () => ({ connect: server!.file }),
    setup: async () => {
      server = await started(['--bind', 'tcp://127.0.0.1:0', '--connection-file', join(dir, 'runtime.json'), '--grace', '5']);
    },
    teardown: async () => {
      if (server && server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGTERM');
      if (server) await exited(server.child);
    },
    crash: () => server!.child.kill('SIGKILL'),
  },
];

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One Python call that runs for seconds unless interrupted: a loop of big matmuls. */
function longPythonCall(): void {
  torch.py.import('builtins').exec('import torch\na = torch.randn(700, 700)\nfor _ in range(4000):\n    a = (a @ a).div_(700)', {});
}

describe.each(WAYS)('over $name', (way) => {
  beforeAll(async () => {
    await torch.shutdown();
    await way.setup?.();
    await torch.init(way.options());
  });
  afterAll(async () => {
    await torch.shutdown().catch(() => {});
    await way.teardown?.();
    await torch.init({}); // the default again for the next files' sake
  });

  it('values, and errors with poisoning: dependants fail, independent work goes on', async () => {
    const x = torch.arange(6, { dtype: torch.float32 });
    expect(await x.mul(2).sum().item()).toBe(30);
    const bad = torch.call('index_select', [x, 0, torch.tensor([70])]);
    const dep = bad.add(1);
    const independent = x.add(1);
    const err = (await dep.tolist().catch((e: unknown) => e)) as TorchError;
    expect(err).toBeInstanceOf(TorchError);
    expect(err.pyType).toBe('IndexError');
    expect(await independent.tolist()).toEqual([1, 2, 3, 4, 5, 6]);
    await torch.sync();
  });

  it('pending metadata resolves with ready()', async () => {
    const nz = torch.call('nonzero', [torch.tensor([0, 3, 0, 4])]);
    await nz.ready();
    expect(nz.shape).toEqual([2, 1]);
  });

  it('frees: live tensors back to the baseline after dispose', async () => {
    await torch.sync();
    const base = await torch.memory();
    const ts = Array.from({ length: 20 }, (_, i) => torch.full([1000], i));
    expect((await torch.memory()).tensors - base.tensors).toBe(20);
    for (const t of ts) t.dispose();
    const after = await torch.memory();
    expect(after.tensors).toBe(base.tensors);
    expect(after.bytes).toBe(base.bytes);
  });

  it('large transfers both ways (16 MiB)', async () => {
    const n = 4 * 1024 * 1024;
    const src = new Float32Array(n);
    for (let i = 0; i < n; i++) src[i] = i % 1009;
    const t = torch.tensor(src);
    const back = await t.add(1).data<Float32Array>();
    let wrong = 0;
    for (let i = 0; i < n; i++) if (back[i] !== (i % 1009) + 1) wrong++;
    expect(wrong).toBe(0);
    t.dispose();
  });

  it('a read overtakes queued work that cannot write it (answered early)', async () => {
    const loss = torch.arange(4, { dtype: torch.float32 }).pow(2).sum();
    const a = torch.randn(1000, 1000);
    let y = a;
    for (let i = 0; i < 20; i++) y = y.matmul(a).div(1000);
    const t0 = performance.now();
    let readAt = 0;
    const read = loss.item().then((v) => ((readAt = performance.now() - t0), v));
    await torch.sync();
    const syncAt = performance.now() - t0;
    expect(await read).toBe(14);
    expect(syncAt - readAt).toBeGreaterThan(200);
  });

  it('interrupt stops a long op within 1 s; the next op runs', async () => {
    longPythonCall();
    const done = torch.sync().catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = performance.now();
    expect(await torch.interrupt()).toBe(true);
    const err = (await done) as TorchError;
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(err.pyType).toBe('KeyboardInterrupt');
    expect(await torch.ones(2).sum().item()).toBe(2);
  });

  it('shutdown runs what was queued; init() starts again', async () => {
    const x = torch.ones(2).mul(3);
    await torch.shutdown();
    expect(() => x.add(1)).toThrow();
    await torch.init(way.options());
    expect(await torch.ones(3).sum().item()).toBe(3);
  });

  it('a runtime that dies rejects pending reads within seconds', async () => {
    const a = torch.randn(800, 800);
    let y = a;
    for (let i = 0; i < 100; i++) y = y.matmul(a).div(800);
    const pending = y.sum().item();
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    way.crash();
    const err = await pending.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RuntimeDiedError);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
