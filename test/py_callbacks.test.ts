/**
 * Callbacks into TS: TS functions passed to Python (test/fixtures/pipeline/mypipeline/hooks.py)
 * run in Node when Python calls them, over each transport: the default socket-pair child, the
 * ZeroMQ child and a served runtime. Every expected value comes from the same calls made in
 * Python with Python functions (test/fixtures/python_twin.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import torch, { Tensor, TorchError } from '../src/index.js';
import { Tuple } from '../src/transport/codec.js';
import { callbackRegistrations } from '../src/py/callbacks.js';
import { currentSession } from '../src/session/current.js';
import { python } from './fixtures/python_twin.js';
import { root } from './fixtures/run_child.js';
import { exited, started, type ServerProcess } from './fixtures/served.js';

const PIPELINE = join(root, 'test', 'fixtures', 'pipeline');
const CALLS = 10_000;

/** The same data on both sides: batches for hooks.fit, built by the same expressions. */
const DATA_PY = `
xs = [torch.linspace(-1, 1, 24).reshape(8, 3) * (i + 1) for i in range(4)]
true_w = torch.tensor([[1.0], [2.0], [-1.0]])
ys = [x @ true_w + 0.1 * i for i, x in enumerate(xs)]
w0 = torch.zeros(3, 1)
x6 = torch.arange(6, dtype=torch.float32).reshape(2, 3)
`;
function data(): { xs: Tensor[]; ys: Tensor[]; w0: Tensor; x6: Tensor } {
  const xs = [0, 1, 2, 3].map((i) => torch.linspace(-1, 1, 24).reshape(8, 3).mul(i + 1));
  const trueW = torch.tensor([[1], [2], [-1]], { dtype: torch.float32 });
  const ys = xs.map((x, i) => x.matmul(trueW).add(0.1 * i));
  return { xs, ys, w0: torch.zeros(3, 1), x6: torch.arange(6, { dtype: torch.float32 }).reshape(2, 3) };
}

interface Twin {
  losses: number[];
  w: number[][];
  steps: number;
  earlyW: number[][];
  earlySteps: number;
  mapped: number[][][];
  scaled: number[][][];
  nested: number[][][][];
  repeat: number;
  described: string;
  total: number;
  returned: string[];
}
let twin: Twin;

beforeAll(() => {
  twin = python<Twin>(`
import sys
import numpy as np
sys.path.insert(0, ${JSON.stringify(PIPELINE)})
from mypipeline.hooks import describe, fit, map_batches, run_pipeline, repeat
${DATA_PY}
losses = []
w, steps = fit(w0, xs, ys, on_step=lambda step, loss: losses.append(loss), lr=0.1)
early_w, early_steps = fit(w0, xs, ys, on_step=lambda step, loss: step >= 2, lr=0.1)
mapped = map_batches(lambda b: b * 2 + 1, [x6, x6 + 1])
scaled = map_batches(lambda b: b / b.max().item(), [x6 + 1, x6 * 2 + 1])
nested = run_pipeline([
    lambda v, i: map_batches(lambda b: b + (i + 1), [v]),
    lambda v, i: map_batches(lambda b: map_batches(lambda c: c * 3, [b]).sum(0), [v]),
], x6)
print(json.dumps({"losses": losses, "w": w.tolist(), "steps": steps, "earlyW": early_w.tolist(), "earlySteps": early_steps,
    "mapped": mapped.tolist(), "scaled": scaled.tolist(), "nested": nested.tolist(), "repeat": repeat(lambda i: i, ${CALLS}),
    "described": describe(lambda a, b, scale: f"{a}+{b}*{scale}", 1, 2, scale=3), "total": map_batches(lambda b: b * 2, [x6]).sum().item(),
    "returned": [describe(lambda: v) for v in ({"a": [1, 2.5, "x", None], "b": True}, np.array([1, 2], dtype=np.float32), (1, "two"), 2**40, None)]}))
`);
}, 120_000);

const dir = mkdtempSync(join(tmpdir(), 'tb-callbacks-test-'));
let server: ServerProcess | undefined;

afterAll(async () => {
  await torch.shutdown().catch(() => {});
  if (server && server.exitCode === null && server.signalCode === null) {
    server.kill('SIGTERM');
    await exited(server);
  }
  rmSync(dir, { recursive: true, force: true });
});

type Hooks = ReturnType<typeof torch.py.import>;

const transports: [string, () => Promise<void>][] = [
  ['the socket-pair child', () => torch.init({ transport: 'socket', pythonPath: [PIPELINE] }).then(() => {})],
  ['the ZeroMQ child', () => torch.init({ transport: 'zmq', pythonPath: [PIPELINE] }).then(() => {})],
  [
    'a served runtime',
    async () => {
      const s = await started(['--bind', 'tcp://127.0.0.1:0', '--connection-file', join(dir, 'runtime.json'), '--keys', join(dir, 'keys')]);
      server = s.child;
      await torch.init({ connect: s.file, pythonPath: [PIPELINE] });
    },
  ],
];

describe.each(transports)('TS callbacks over %s', (label, start) => {
  let hooks: Hooks;

  beforeAll(async () => {
    await torch.shutdown();
    await start();
    hooks = torch.py.import('mypipeline.hooks');
  }, 60_000);

  it('a sync callback: on_step(step, loss) sees what Python computes, and its value steers Python', async () => {
    const { xs, ys, w0 } = data();
    const losses: number[] = [];
    const seenSteps: number[] = [];
    const [w, steps] = (await hooks.fit(w0, xs, ys, {
      on_step: (step: number, loss: number) => {
        seenSteps.push(step);
        losses.push(loss);
      },
      lr: 0.1,
    })) as [Tensor, number];
    expect(losses).toEqual(twin.losses);
    expect(seenSteps).toEqual([1, 2, 3, 4]);
    expect(steps).toBe(twin.steps);
    expect(await w.tolist()).toEqual(twin.w);
    // a true result stops training early, as the hook's contract says
    const [earlyW, earlySteps] = (await hooks.fit(w0, xs, ys, { on_step: (step: number) => step >= 2, lr: 0.1 })) as [Tensor, number];
    expect(earlySteps).toBe(twin.earlySteps);
    expect(await earlyW.tolist()).toEqual(twin.earlyW);
  });

  it('tensors in and out by handle: map_batches(fn, batches) with a TS fn', async () => {
    const { x6 } = data();
    const shapes: number[][] = [];
    const mapped = (await hooks.map_batches((b: Tensor) => {
      expect(b).toBeInstanceOf(Tensor);
      shapes.push([...b.shape]); // metadata known on arrival
      return b.mul(2).add(1);
    }, [x6, x6.add(1)])) as Tensor;
    expect(shapes).toEqual([
      [2, 3],
      [2, 3],
    ]);
    expect(mapped).toBeInstanceOf(Tensor);
    expect(await mapped.tolist()).toEqual(twin.mapped);
  });

  it('an async callback may await reads of its own ops while Python waits', async () => {
    const { x6 } = data();
    const scaled = (await hooks.map_batches(async (b: Tensor) => b.div(await b.max().item()), [x6.add(1), x6.mul(2).add(1)])) as Tensor;
    expect(await scaled.tolist()).toEqual(twin.scaled);
  });

  it('nested: callback -> Python -> callback -> Python -> callback, without deadlock', async () => {
    const { x6 } = data();
    const out = (await hooks.run_pipeline(
      [
        (v: Tensor, i: number) => hooks.map_batches((b: Tensor) => b.add(i + 1), [v]),
        (v: Tensor) => hooks.map_batches((b: Tensor) => hooks.map_batches((c: Tensor) => c.mul(3), [b]).sum(0), [v]),
      ],
      x6,
    )) as Tensor;
    expect(await out.tolist()).toEqual(twin.nested);
  });

  it('an async callback may return while the callback its Python call led to still runs', async () => {
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const sums: number[] = [];
    async function outer(): Promise<number> {
      // its Python call runs `inner`; outer returns before inner has (outer's reply then comes
      // while Python waits on inner: the runtime keeps it for outer's wait)
      hooks.describe(async function inner() {
        const t = torch.ones(2); // (inner's own op, before outer's reply)
        open();
        await new Promise((r) => setTimeout(r, 50));
        sums.push((await t.sum().item()) as number);
        return 2;
      });
      await gate;
      return 1;
    }
    expect(await hooks.describe(outer)).toBe('ok: 1');
    expect(sums).toEqual([2]);
    expect(await hooks.describe(() => 3)).toBe('ok: 3');
  });

  it('keyword arguments from Python arrive as a trailing object; a result Python uses depends on the call', async () => {
    const got = await hooks.describe((a: number, b: number, kw: { scale: number }) => `${a}+${b}*${kw.scale}`, 1, 2, { scale: 3 });
    expect(got).toBe(twin.described);
    // an op that uses the call's result is queued after it: it runs once the call has returned
    const { x6 } = data();
    const total = hooks.map_batches((b: Tensor) => b.mul(2), [x6]).sum();
    expect(await (await total).item()).toBe(twin.total);
  });

  it('what a callback returns reaches Python as Python would have it', async () => {
    const values = [{ a: [1, 2.5, 'x', null], b: true }, new Float32Array([1, 2]), new Tuple([1, 'two']), 2 ** 40, undefined];
    const got: unknown[] = [];
    for (const v of values) got.push(await hooks.describe(() => v));
    expect(got).toEqual(twin.returned);
    // a value with no Python counterpart: an error in Python, naming it
    const refused = (await hooks.describe(function symbolic() {
      return Symbol('s');
    })) as string;
    expect(refused).toMatch(/^CallbackError: TypeScript callback symbolic threw ArgumentError: the value returned by TS function symbolic is a JS symbol/);
  });

  it('program order: ops queued after the Python call, even while its callback runs, run after it', async () => {
    const t = torch.zeros(3);
    const before = hooks.describe(async () => t.tolist());
    t.add_(1); // queued after the call (sent before the runtime asked for the callback)
    expect(await before).toBe('ok: [0, 0, 0]');
    expect(await t.tolist()).toEqual([1, 1, 1]);

    let go!: () => void;
    const gate = new Promise<void>((r) => (go = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    // (awaited at once: a client reads the runtime's requests while it awaits a reply, as any reply)
    const during = hooks
      .describe(async () => {
        entered();
        await gate;
        return t.tolist();
      })
      .$value();
    await inside; // Python waits on the callback now
    t.add_(1); // code outside the callback: after the Python call, as in Python
    const after = t.tolist();
    go();
    expect(await during).toBe('ok: [1, 1, 1]');
    expect(await after).toEqual([2, 2, 2]);
  });

  it('a callback that throws: Python catches CallbackError; uncaught, the read rejects with a TorchError naming it', async () => {
    function bad_hook(): never {
      throw new RangeError('bad value');
    }
    const caught = (await hooks.describe(bad_hook)) as string;
    expect(caught.split('\n')[0]).toBe('CallbackError: TypeScript callback bad_hook threw RangeError: bad value');
    expect(caught).toContain('py_callbacks.test.ts'); // the TS stack
    // a Python framework's "log and go on" catches it as any exception
    const h = hooks.Hooks();
    h.register('step', bad_hook);
    h.register('step', (n: number) => n + 1);
    expect(await h.fire('step', 1)).toEqual([null, 2]);
    const errors = (await h.errors) as string[];
    expect(errors[0]!.split('\n')[0]).toBe('step: CallbackError: TypeScript callback bad_hook threw RangeError: bad value');
    expect(await torch.py.import('builtins').issubclass(torch.py.import('torchbridge_runtime').CallbackError, torch.py.import('builtins').RuntimeError)).toBe(true);
    h.$dispose();
    // uncaught: the call fails like any Python call, and the session goes on
    const err = (await hooks.repeat(bad_hook, 3).$value().catch((e: unknown) => e)) as TorchError;
    expect(err).toBeInstanceOf(TorchError);
    expect(err.pyType).toBe('CallbackError');
    expect(err.message).toContain('TypeScript callback bad_hook threw RangeError: bad value');
    expect(err.message).toContain('py_callbacks.test.ts');
    const rejected = (await hooks.repeat(async () => Promise.reject(new TypeError("async bad")), 1).$value().catch((e: unknown) => e)) as TorchError;
    expect(rejected.pyType).toBe('CallbackError');
    expect(rejected.message).toContain('threw TypeError: async bad');
    expect(await torch.ones(2).sum().item()).toBe(2);
  });

  it('torch.interrupt() still stops the Python call once its callback has returned', async () => {
    let started!: () => void;
    const called = new Promise<void>((r) => (started = r));
    const value = hooks.warm_up(() => started(), 60).$value();
    await called;
    await new Promise((r) => setTimeout(r, 100)); // the reply is in: Python sleeps now
    const t0 = performance.now();
    await torch.interrupt();
    const err = (await value.catch((e: unknown) => e)) as TorchError;
    expect(err.pyType).toBe('KeyboardInterrupt');
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(await torch.ones(2).sum().item()).toBe(2);
  });

  it('copy.deepcopy keeps TS functions as they are (as Python copies functions); pickling one is refused', async () => {
    const h = hooks.Hooks();
    h.register('step', (n: number) => n * 10);
    const copied = torch.py.import('copy').deepcopy(h);
    expect(await copied.fire('step', 2)).toEqual([20]);
    const err = (await torch.py.import('pickle').dumps(h).$value().catch((e: unknown) => e)) as TorchError;
    expect(err.pyType).toBe('TypeError');
    expect(err.pyMessage).toMatch(/^cannot pickle TypeScript function anonymous/);
    h.$dispose();
    copied.$dispose();
  });

  it('a TS function called from another Python thread raises there, clearly, instead of hanging', async () => {
    function logger(v: number): number {
      return v;
    }
    expect(await hooks.describe_in_thread(logger, 1)).toBe(
      'RuntimeError: TypeScript function logger was called from another thread; TS functions can be called only from the thread that runs TS\'s calls',
    );
    expect(await hooks.describe(logger, 1)).toBe('ok: 1');
  });

  it(`${CALLS} calls from a Python loop; registrations end when Python drops the callable`, async () => {
    const s = currentSession();
    await torch.sync(); // (releases from earlier tests are in)
    const before = await s.stats();
    const registered = callbackRegistrations();
    const call = hooks.repeat((i: number) => i, CALLS);
    const t0 = performance.now();
    expect(await call).toBe(twin.repeat);
    const us = ((performance.now() - t0) * 1000) / CALLS;
    console.log(`${label}: ${us.toFixed(1)} µs per TS callback call (${CALLS} calls)`);
    call.$dispose();
    await torch.sync();
    expect(callbackRegistrations()).toBe(registered);
    const after = await s.stats();
    expect(after.handles).toBeLessThanOrEqual(before.handles); // (GC may free earlier tests' handles meanwhile)
    expect(after.callbacks).toBe(0);

    // many functions held by Python, then dropped
    const h = hooks.Hooks();
    for (let i = 0; i < 300; i++) h.register('step', (v: number) => v + i).$dispose();
    await torch.sync();
    expect(callbackRegistrations()).toBe(registered + 300);
    expect((await s.stats()).callbacks).toBe(300);
    const fired = (await h.fire('step', 1)) as number[];
    expect(fired.length).toBe(300);
    expect(fired[299]).toBe(300);
    h.clear();
    h.$dispose();
    await torch.sync();
    expect(callbackRegistrations()).toBe(registered);
    expect((await s.stats()).callbacks).toBe(0);
  }, 120_000);

  it('torch.interrupt() while Python waits on a callback stops the call; its late value is dropped', async () => {
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    let finish!: (v: number) => void;
    const call = hooks.repeat(function stuck() {
      entered();
      return new Promise<number>((r) => (finish = r));
    }, 1);
    const value = call.$value(); // queued before the interrupt
    await inside;
    await torch.interrupt();
    const err = (await value.catch((e: unknown) => e)) as TorchError;
    expect(err).toBeInstanceOf(TorchError);
    expect(err.pyType).toBe('KeyboardInterrupt');
    finish(1);
    expect(await torch.ones(3).sum().item()).toBe(3);
    expect(await hooks.repeat((i: number) => i, 4)).toBe(6);
  });
});
