/**
 * torch.py proxies driving an "existing pipeline" package (test/fixtures/pipeline/mypipeline)
 * the way its Python users do: config objects, feature functions, a generator loader, context
 * managers, custom exceptions. Every expected value comes from making the same calls in Python
 * (one twin run, below), never from numbers typed in here.
 */
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import torch, { Tensor, TorchError, ArgumentError } from '../src/index.js';
import type { PyProxy } from '../src/py/index.js';
import { NotRaisedError } from '../src/py/index.js';
import { pythonPathOf } from '../src/py/python_path.js';
import { currentSession } from '../src/session/current.js';
import { Session } from '../src/session/session.js';
import { HELPER, READ } from '../src/transport/protocol.js';
import { python } from './fixtures/python_twin.js';
import { exited, started } from './fixtures/served.js';
import { Handle } from '../src/transport/codec.js';

const PIPELINE = 'test/fixtures/pipeline'; // relative: resolved against the client's cwd

/**
 * The twin: the same calls in Python. Each key is Python's value (JSON; tuples as lists), or
 * {error: [qualified type, message, attributes]} for the exception a call raises.
 */
const TWIN = String.raw`
import sys, os, json
sys.path.insert(0, os.path.abspath(${JSON.stringify(PIPELINE)}))
import numpy as np
from mypipeline import config, features, loader, context, errors

def err(fn):
    try:
        fn()
    except Exception as e:
        cls = type(e)
        name = cls.__name__ if cls.__module__ == 'builtins' else cls.__module__ + '.' + cls.__name__
        return {'error': [name, str(e), {k: v for k, v in vars(e).items() if isinstance(v, (int, float, str, type(None)))}]}
    raise AssertionError('no error')

out = {}
cfg = config.Config(lr=0.1, batch_size=16, dataset_size=100, tags=['cnn', 'fast'])
out['cfg'] = [cfg.lr, cfg.batch_size, cfg.steps_per_epoch, cfg.total_steps(), cfg.total_steps(epochs=3), len(cfg), 'cnn' in cfg, 'slow' in cfg, str(cfg), repr(cfg), type(cfg).__name__, cfg['shuffle']]
cfg.lr = 0.5
cfg.epochs = 4
cfg['workers'] = 2
out['cfg_set'] = [cfg.lr, cfg.epochs, cfg['workers'], repr(cfg)]
del cfg['shuffle']
out['cfg_del'] = ['shuffle' in cfg.options, sorted(cfg.options)]
out['bad_lr'] = err(lambda: setattr(cfg, 'lr', -1))
out['scaled'] = repr(cfg.scaled(2, warmup=True))
out['parse_tag'] = config.Config.parse_tag(' a = b ')
out['from_dict'] = repr(config.Config.from_dict({'lr': 0.25, 'epochs': 2}))
sgd = config.SGDConfig(momentum=0.5, lr=0.2)
out['sgd'] = [isinstance(sgd, config.Config), isinstance(cfg, config.SGDConfig), sgd.momentum, repr(sgd)]
ri = config.RunInfo('exp', seed=3, scale=2.0)
out['runinfo'] = [repr(ri), ri.label(), type(ri.scale).__name__, type(config.RunInfo('exp', scale=2).scale).__name__, repr(config.RunInfo('x', scale=float('inf')))]

x = np.arange(12, dtype=np.float32).reshape(4, 3) ** 2
out['std_np'] = features.standardize(x).tolist()
out['std_t'] = features.standardize(torch.arange(12, dtype=torch.float32).reshape(4, 3) ** 2).tolist()
out['clip'] = features.clip_outliers(features.standardize(torch.tensor([[0.0], [1.0], [2.0], [30.0]])), threshold=1.5).tolist()
out['bow'] = features.bag_of_words(['the cat sat', 'The dog and the cat'], ['the', 'cat', 'dog']).tolist()
out['describe'] = features.describe([1.0, 2.0, 4.0])
s = features.Scaler().fit(x)
out['scaler'] = s.transform(x).tolist()
out['not_fitted'] = err(lambda: features.Scaler().transform(x))
out['bad_input'] = err(lambda: features.clip_outliers([1.0], threshold=-1))
out['bad_dim'] = err(lambda: features.standardize(torch.zeros(3)))

out['batches'] = [[bx.tolist(), by.tolist()] for bx, by in loader.batches(5, seed=1)]
out['batches_np'] = [[bx.tolist(), by.tolist()] for bx, by in loader.batches(2, as_numpy=True, seed=2)]
out['numbers'] = [sum(loader.numbers(3000)), len(list(loader.numbers(3000)))]
out['records'] = list(loader.records(3))
g = loader.failing(3)
out['failing'] = [next(g), next(g), next(g), err(lambda: next(g))]
out['not_iterable'] = err(lambda: iter(0.1))
out['dict_keys'] = list(config.Config().options)
loader.reset()
g = loader.batches(40)
items = [next(g) for _ in range(4)]  # batch 1: one item asked for at a time, one asked ahead
g.close()
out['events_batch1'] = [list(e) for e in loader.events]

r = context.Recorder('ok')
with r as v:
    out['with_value'] = v.name
out['with_ok'] = [r.entered, r.exited, r.seen]
r = context.Recorder('py')
try:
    with r:
        features.clip_outliers([1.0], threshold=0)
except errors.BadInput:
    pass
out['with_py'] = r.seen
sup = context.Suppress(errors.BadInput)
with sup:
    features.clip_outliers([1.0], threshold=0)
out['suppressed'] = sup.suppressed
out['broken'] = err(lambda: context.Broken().__enter__())
out['not_cm'] = err(lambda: exec('with config.Config(): pass', {'config': config}))

import math
out['no_attr'] = err(lambda: cfg.no_such_thing)
out['bad_kw'] = err(lambda: config.Config(learning_rate=1))
out['not_callable'] = err(lambda: cfg.batch_size())
out['no_module'] = err(lambda: __import__('mypipeline.no_such_module'))
out['types'] = [type(2).__name__, type(2.0).__name__, type(float('nan')).__name__]
print(json.dumps(out))
`;

let py: Record<string, any>;
beforeAll(async () => {
  py = python(TWIN);
  await torch.init({ pythonPath: [PIPELINE] });
}, 240_000);
afterAll(() => torch.shutdown());

/** The awaited rejection of p (fails the test when p resolves). */
async function rejection(p: PromiseLike<unknown>): Promise<TorchError> {
  const e = await Promise.resolve(p).then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TorchError);
  return e as TorchError;
}

/** A TorchError against the twin's {error: [type, message, attributes]}. */
function expectPyError(e: TorchError, twin: { error: [string, string, unknown] }): void {
  expect([e.pyQualifiedType, e.pyMessage]).toEqual(twin.error.slice(0, 2));
}

describe('finding the user package (pythonPath)', () => {
  it('imports the package from a relative pythonPath directory', async () => {
    const mod = torch.py.import('mypipeline.config');
    expect(await mod.__name__).toBe('mypipeline.config');
    expect(String(await mod.__file__)).toBe(resolve(PIPELINE, 'mypipeline', 'config.py'));
  });

  it('resolves option and TORCHBRIDGE_PYTHONPATH directories against the cwd, option first, each once', () => {
    expect(pythonPathOf(['a', '/abs'], 'b::a:/abs')).toEqual([resolve('a'), '/abs', resolve('b')]);
    expect(() => pythonPathOf(['ok', ''] as string[])).toThrow(ArgumentError);
    expect(() => pythonPathOf('dir' as unknown as string[])).toThrow(/array of directory names/);
  });

  it('a module that does not exist, or fails to import, is a TorchError with Python type, message and traceback', async () => {
    expectPyError(await rejection(torch.py.import('mypipeline.no_such_module')), py.no_module);
    // a second session, its path from TORCHBRIDGE_PYTHONPATH, holding a module that raises on import
    const dir = mkdtempSync(join(tmpdir(), 'tb-pypath-'));
    writeFileSync(join(dir, 'raises_on_import.py'), 'x = 1\nraise ValueError("no config file found")\n');
    const saved = process.env.TORCHBRIDGE_PYTHONPATH;
    process.env.TORCHBRIDGE_PYTHONPATH = dir;
    const s = new Session();
    if (saved === undefined) delete process.env.TORCHBRIDGE_PYTHONPATH; // (assigning undefined would store 'undefined')
    else process.env.TORCHBRIDGE_PYTHONPATH = saved;
    try {
      s.call(1, HELPER.import, ['raises_on_import'], null, 0, true);
      const e = await rejection(s.read(1, READ.CONVERT));
      expect([e.pyType, e.pyMessage]).toEqual(['ValueError', 'no config file found']);
      expect(e.pyTraceback).toContain(join(dir, 'raises_on_import.py'));
    } finally {
      await s.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('a directory the runtime cannot see fails the first read with FileNotFoundError naming it', async () => {
    const s = new Session({ pythonPath: ['/no/such/dir/for/tb'] });
    try {
      const e = await rejection(s.sync());
      expect(e.pyType).toBe('FileNotFoundError');
      expect(e.pyMessage).toContain('/no/such/dir/for/tb');
    } finally {
      await s.shutdown();
    }
  }, 60_000);
});

describe('pythonPath with a served runtime', () => {
  it('sends the directories in the session, and names one the runtime cannot see', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-served-pypath-'));
    const server = await started(['--bind', `ipc://${join(dir, 'ipc', 'rt.sock')}`, '--connection-file', join(dir, 'rt.json')]);
    try {
      const s = new Session({ connect: server.file, pythonPath: [PIPELINE] });
      // this runtime has no such directory (as one on another host has none of the client's)
      const other = new Session({ connect: server.file, pythonPath: ['/no/such/dir/on/the/runtime/host'] });
      try {
        s.call(1, HELPER.import, ['mypipeline.config'], null, 0, true);
        s.call(2, HELPER.getattr, [new Handle(1), '__file__'], null, 0, true);
        expect(await s.read(2, READ.CONVERT)).toBe(resolve(PIPELINE, 'mypipeline', 'config.py'));
        const e = await rejection(other.sync());
        expect([e.pyType, e.pyMessage.includes('/no/such/dir/on/the/runtime/host')]).toEqual(['FileNotFoundError', true]);
      } finally {
        await Promise.all([s.shutdown(), other.shutdown()]);
      }
    } finally {
      server.child.kill('SIGTERM');
      await exited(server.child);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('a config class: attributes, properties, methods, items, builtins', () => {
  it('instantiates without new (keyword arguments from the trailing object) and reads properties and methods', async () => {
    const config = torch.py.import('mypipeline.config');
    const cfg = config.Config({ lr: 0.1, batch_size: 16, dataset_size: 100, tags: ['cnn', 'fast'] });
    const got = [
      await cfg.lr,
      await cfg.batch_size,
      await cfg.steps_per_epoch,
      await cfg.total_steps(),
      await cfg.total_steps({ epochs: 3 }),
      await torch.py.len(cfg),
      await torch.py.contains(cfg, 'cnn'),
      await torch.py.contains(cfg, 'slow'),
      await torch.py.str(cfg),
      await torch.py.repr(cfg),
      await torch.py.type(cfg).__name__,
      await torch.py.item(cfg, 'shuffle'),
    ];
    expect(got).toEqual(py.cfg);
    expect(await cfg.$item('shuffle')).toBe(py.cfg[11]);
  });

  it('sets attributes (through property setters), items, and deletes items', async () => {
    const config = torch.py.import('mypipeline.config');
    const cfg = config.Config({ lr: 0.1, batch_size: 16, dataset_size: 100, tags: ['cnn', 'fast'] });
    cfg.lr = 0.5;
    cfg.epochs = 4;
    torch.py.setitem(cfg, 'workers', 2);
    expect([await cfg.lr, await cfg.epochs, await cfg.$item('workers'), await torch.py.repr(cfg)]).toEqual(py.cfg_set);
    torch.py.delitem(cfg, 'shuffle');
    expect([await torch.py.contains(cfg.options, 'shuffle'), await torch.py.import('builtins').sorted(cfg.options)]).toEqual(py.cfg_del);
    cfg.$delitem('workers');
    expect(await torch.py.contains(cfg.options, 'workers')).toBe(false);
    // a setter that raises: the queued setattr fails, and the next read says why
    cfg.lr = -1;
    const e = await rejection(cfg.lr);
    expectPyError(e, py.bad_lr);
    expect(await cfg.lr).toBe(py.cfg_set[0]); // the session goes on, the old value kept
  });

  it('calls bound methods with keywords, staticmethods, classmethods, and checks isinstance against proxied classes', async () => {
    const config = torch.py.import('mypipeline.config');
    const cfg = config.Config({ lr: 0.5, batch_size: 16, dataset_size: 100, epochs: 4 });
    expect(await torch.py.repr(cfg.scaled(2, { warmup: true }))).toBe(py.scaled);
    expect(await config.Config.parse_tag(' a = b ')).toEqual(py.parse_tag);
    // a dict positionally is a Map (a trailing plain object is the keyword arguments)
    expect(await torch.py.repr(config.Config.from_dict(new Map<string, number>([['lr', 0.25], ['epochs', 2]])))).toBe(py.from_dict);
    const sgd = config.SGDConfig({ momentum: 0.5, lr: 0.2 });
    expect([await torch.py.isinstance(sgd, config.Config), await torch.py.isinstance(cfg, config.SGDConfig), await sgd.momentum, await torch.py.repr(sgd)]).toEqual(py.sgd);
  });

  it('builds a dataclass; torch.py.float makes a whole number a Python float', async () => {
    const config = torch.py.import('mypipeline.config');
    const ri = config.RunInfo('exp', { seed: 3, scale: torch.py.float(2) });
    const plain = config.RunInfo('exp', { scale: 2 });
    expect([
      await torch.py.repr(ri),
      await ri.label(),
      await torch.py.type(ri.scale).__name__,
      await torch.py.type(plain.scale).__name__,
      await torch.py.repr(config.RunInfo('x', { scale: torch.py.float('inf') })),
    ]).toEqual(py.runinfo);
    const builtins = torch.py.import('builtins');
    expect([await builtins.type(2).__name__, await builtins.type(torch.py.float(2)).__name__, await builtins.type(torch.py.float('nan')).__name__]).toEqual(py.types);
    ri.scale = torch.py.float(3);
    expect(await torch.py.type(ri.scale).__name__).toBe('float');
    expect(() => torch.py.float('three')).toThrow(ArgumentError);
  });
});

describe('feature functions on tensors and NumPy arrays', () => {
  it('gives the same values as Python for arrays (made in Python) and tensors (made in TS)', async () => {
    const np = torch.py.import('numpy');
    const features = torch.py.import('mypipeline.features');
    const x = np.power(np.arange(12, { dtype: np.float32 }).reshape(4, 3), 2);
    const fromNumpy = (await features.standardize(x)) as Tensor;
    expect(fromNumpy).toBeInstanceOf(Tensor);
    expect(await fromNumpy.tolist()).toEqual(py.std_np);
    const t = torch.arange(12, { dtype: torch.float32 }).reshape(4, 3).pow(2);
    expect(await ((await features.standardize(t)) as Tensor).tolist()).toEqual(py.std_t);
    const clipped = features.clip_outliers(features.standardize(torch.tensor([[0.0], [1.0], [2.0], [30.0]], { dtype: torch.float32 })), { threshold: 1.5 });
    expect(await ((await clipped) as Tensor).tolist()).toEqual(py.clip);
    const bow = (await features.bag_of_words(['the cat sat', 'The dog and the cat'], ['the', 'cat', 'dog'])) as Tensor;
    expect(bow.dtype).toBe(torch.int64);
    expect(await bow.tolist()).toEqual(py.bow);
    expect(await features.describe([1.0, 2.0, 4.0])).toEqual(py.describe);
    const scaler = features.Scaler().fit(x); // fit returns self: chained calls, one read at the end
    expect(await ((await scaler.transform(x)) as Tensor).tolist()).toEqual(py.scaler);
  });
});

describe('iteration', () => {
  it('streams a generator of tensor batches (and of NumPy arrays) as Python iterates it', async () => {
    const loader = torch.py.import('mypipeline.loader');
    const got: unknown[] = [];
    for await (const b of loader.batches(5, { seed: 1 })) {
      const [bx, by] = b as [Tensor, Tensor];
      got.push([await bx.tolist(), await by.tolist()]);
    }
    expect(got).toEqual(py.batches);
    const npGot: unknown[] = [];
    for await (const b of loader.batches(2, { as_numpy: true, seed: 2 })) {
      const [bx, by] = b as [Tensor, Tensor];
      expect(bx).toBeInstanceOf(Tensor);
      npGot.push([await bx.tolist(), await by.tolist()]);
    }
    expect(npGot).toEqual(py.batches_np);
  });

  it('fetches items in batches: thousands of items in a few messages', async () => {
    const loader = torch.py.import('mypipeline.loader');
    await torch.sync();
    const sent = countMessages();
    let sum = 0;
    let n = 0;
    for await (const x of loader.numbers(3000)) {
      sum += x as number;
      n++;
    }
    const messages = sent.stop();
    expect([sum, n]).toEqual(py.numbers);
    expect(messages).toBeLessThan(20); // 1, 2, 4, ... 1024 items per round trip
  });

  it('converts items as await does (dicts as objects), iterates any iterable (a dict: its keys)', async () => {
    const loader = torch.py.import('mypipeline.loader');
    const records: unknown[] = [];
    for await (const r of loader.records(3)) records.push(r);
    expect(records).toEqual(py.records);
    const keys: unknown[] = [];
    for await (const k of torch.py.import('mypipeline.config').Config().options) keys.push(k);
    expect(keys).toEqual(py.dict_keys);
  });

  it('break closes the generator: its finally runs before the loop statement ends', async () => {
    const loader = torch.py.import('mypipeline.loader');
    loader.reset();
    let seen = 0;
    for await (const _ of torch.py.iter(loader.batches(40), { batch: 1 })) {
      if (++seen === 3) break;
    }
    expect(await loader.events).toEqual(py.events_batch1);
    // default batching runs further ahead, and still closes
    loader.reset();
    seen = 0;
    for await (const _ of loader.batches(40)) {
      if (++seen === 3) break;
    }
    const events = (await loader.events) as [string, number][];
    const last = events[events.length - 1]!;
    expect(last[0]).toBe('closed');
    expect(last[1]).toBeGreaterThanOrEqual(3);
    expect(last[1]).toBeLessThan(40);
  });

  it('an exception in the generator rejects the loop with Python type and message, after the items before it', async () => {
    const loader = torch.py.import('mypipeline.loader');
    const items: unknown[] = [];
    const e = await rejection(
      (async () => {
        for await (const x of loader.failing(3)) items.push(x);
      })(),
    );
    expect(items).toEqual(py.failing.slice(0, 3));
    expectPyError(e, py.failing[3]);
  });

  it('iterating a non-iterable is a TypeError (no hang), and the session goes on', async () => {
    const cfg = torch.py.import('mypipeline.config').Config({ lr: 0.1 });
    const e = await rejection(
      (async () => {
        for await (const _ of cfg.lr) void _;
      })(),
    );
    expectPyError(e, py.not_iterable);
    expect(await cfg.lr).toBe(0.1);
  });
});

describe('context managers', () => {
  it('torch.py.with enters and exits, giving __enter__’s value to the body', async () => {
    const context = torch.py.import('mypipeline.context');
    const r = context.Recorder('ok');
    let name: unknown;
    const result = await torch.py.with(r, async (v) => {
      name = await v.name;
      return 7;
    });
    expect(result).toBe(7);
    expect(name).toBe(py.with_value);
    expect([await r.entered, await r.exited, await r.seen]).toEqual(py.with_ok);
  });

  it('a TS exception in the body reaches __exit__ (as JSError with its message) and is rethrown', async () => {
    const context = torch.py.import('mypipeline.context');
    const r = context.Recorder('ts');
    const boom = new RangeError('step 3 diverged');
    await expect(torch.py.with(r, () => Promise.reject(boom))).rejects.toBe(boom);
    expect(await r.seen).toEqual(['JSError', 'RangeError: step 3 diverged']);
    // __exit__ can suppress it: Suppress(JSError)
    const JSError = torch.py.import('torchbridge_runtime.py_context').JSError;
    const sup = context.Suppress(JSError);
    expect(
      await torch.py.with(sup, () => {
        throw boom;
      }),
    ).toBeUndefined();
    expect(await sup.suppressed).toEqual(['RangeError: step 3 diverged']);
  });

  it('a Python exception in the body reaches __exit__ as itself; Suppress swallows it as Python does', async () => {
    const context = torch.py.import('mypipeline.context');
    const features = torch.py.import('mypipeline.features');
    const errors = torch.py.import('mypipeline.errors');
    const r = context.Recorder('py');
    const e = await rejection(torch.py.with(r, async () => features.clip_outliers([1.0], { threshold: 0 })));
    expect(e.pyQualifiedType).toBe('mypipeline.errors.BadInput');
    expect(await r.seen).toEqual(py.with_py);
    const sup = context.Suppress(errors.BadInput);
    expect(await torch.py.with(sup, async () => features.clip_outliers([1.0], { threshold: 0 }))).toBeUndefined();
    expect(await sup.suppressed).toEqual(py.suppressed);
  });

  it('await using calls __exit__ at the end of the block', async () => {
    const context = torch.py.import('mypipeline.context');
    context.reset();
    {
      await using rec = await torch.py.enter(context.Recorder('block'));
      expect(await rec.name).toBe('block');
      expect(await rec.exited).toBe(false);
    }
    expect(await context.log).toEqual([
      ['enter', 'block'],
      ['exit', 'block', null],
    ]);
  });

  it('a failing __enter__ rejects enter() with its exception; a non-context-manager is a TypeError', async () => {
    const context = torch.py.import('mypipeline.context');
    expectPyError(await rejection(torch.py.enter(context.Broken())), py.broken);
    const e = await rejection(torch.py.enter(torch.py.import('mypipeline.config').Config()));
    expect(e.pyType).toBe(py.not_cm.error[0]);
    expect(e.pyMessage).toContain("does not support the context manager protocol");
  });
});

describe('exceptions', () => {
  it('carry the qualified type, message, traceback, TS call site and the exception object', async () => {
    const features = torch.py.import('mypipeline.features');
    const errors = torch.py.import('mypipeline.errors');
    const e = await rejection(features.clip_outliers([1.0], { threshold: -1 }));
    expectPyError(e, py.bad_input);
    expect(e.pyType).toBe('BadInput');
    expect(e.message).toBe(`mypipeline.errors.BadInput: ${py.bad_input.error[1]}`);
    expect(e.pyTraceback).toContain('features.py');
    expect(e.callSite).toContain('py_pipeline_proxies.test.ts');
    const ex = e.pyException!;
    const attrs = py.bad_input.error[2] as Record<string, unknown>;
    expect({ field: await ex.field, value: await ex.value, reason: await ex.reason }).toEqual(attrs);
    expect(await torch.py.isinstance(ex, errors.PipelineError)).toBe(true);
    expect(await torch.py.isinstance(ex, errors.NotFitted)).toBe(false);
    expect(await torch.py.str(ex)).toBe(py.bad_input.error[1]);
  });

  it('torch.py.raises matches by Python class (subclasses too), rethrows others, and fails when nothing is raised', async () => {
    const features = torch.py.import('mypipeline.features');
    const errors = torch.py.import('mypipeline.errors');
    const np = torch.py.import('numpy');
    const x = np.ones([2, 2]);
    const e = await torch.py.raises(errors.PipelineError, () => features.Scaler().transform(x));
    expectPyError(e, py.not_fitted);
    expect(await e.pyException!.name).toBe((py.not_fitted.error[2] as { name: string }).name);
    // a different class: the original error comes through
    const other = await rejection(torch.py.raises(errors.NotFitted, features.standardize(torch.zeros(3))));
    expectPyError(other, py.bad_dim);
    await expect(torch.py.raises(errors.BadInput, features.describe([1.0]))).rejects.toBeInstanceOf(NotRaisedError);
  });

  it('bad input: a missing attribute, a wrong keyword, a non-callable, each a typed error at the next read', async () => {
    const config = torch.py.import('mypipeline.config');
    const cfg = config.Config({ lr: 0.5, batch_size: 16, dataset_size: 100, epochs: 4 });
    expectPyError(await rejection(cfg.no_such_thing), py.no_attr);
    expectPyError(await rejection(config.Config({ learning_rate: 1 })), py.bad_kw);
    expectPyError(await rejection(cfg.batch_size()), py.not_callable);
    await expect(torch.py.len(42)).rejects.toBeInstanceOf(ArgumentError);
    expect(await cfg.batch_size).toBe(16);
  });
});

describe('an awaited Python call is one message each way', () => {
  it('sends the call, its conversion and its read together', async () => {
    const cfg = torch.py.import('mypipeline.config').Config({ lr: 0.5, batch_size: 16, dataset_size: 100, epochs: 4 });
    await cfg.lr; // the runtime is idle now
    for (const read of [() => cfg.total_steps({ epochs: 2 }), () => cfg.steps_per_epoch, () => torch.py.len(cfg)]) {
      const sent = countMessages();
      await read();
      expect(sent.stop()).toBe(1);
    }
  });
});

/** Counts the messages the current session sends until stop(). */
function countMessages(): { stop(): number } {
  const channel = (currentSession() as unknown as { channel: { send(m: Buffer): void } }).channel;
  const send = channel.send;
  let n = 0;
  channel.send = function (this: unknown, m: Buffer) {
    n++;
    return send.call(this, m);
  };
  return {
    stop() {
      channel.send = send;
      return n;
    },
  };
}

export type { PyProxy };
