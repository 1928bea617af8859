/**
 * torch.save / torch.load: files written from TS are read by Python's own torch.load, files
 * written by Python load in TS, exact values both ways (checked by a Python twin, see
 * test/fixtures/python_twin.ts); weights-only loading refuses pickled objects without
 * running them; a model's state dict crosses both ways and gives identical outputs.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import torch, { ArgumentError, Tensor, TorchError } from '../src/index.js';
import { Tuple } from '../src/transport/codec.js';
import { python } from './fixtures/python_twin.js';

// Each Python twin starts Python with torch: seconds each, more on a loaded machine.
const TWIN_TIMEOUT = 240_000;

const dir = mkdtempSync(join(tmpdir(), 'torchbridge-save-'));
const file = (name: string): string => join(dir, name);

afterAll(async () => {
  await torch.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

/** Python code describing `x` as JSON: tensors as {dtype, shape, values}, containers by kind and order. */
const DESCRIBE = `
def describe(x):
    if isinstance(x, torch.Tensor):
        v = torch.view_as_real(x) if x.is_complex() else x
        if v.dtype in (torch.float16, torch.bfloat16):
            v = v.float()
        return {'tensor': str(x.dtype), 'shape': list(x.shape), 'values': v.tolist()}
    if isinstance(x, dict):
        return {'dict': type(x).__name__, 'items': [[describe(k), describe(v)] for k, v in x.items()]}
    if isinstance(x, (list, tuple)):
        return {type(x).__name__: [describe(v) for v in x]}
    return x
`;

/** Python source pieces (each indented as it likes) as one program for the twin. */
function dedent(code: string): string {
  const lines = code.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}
function twin<T = unknown>(...pieces: string[]): T {
  return python<T>(pieces.map(dedent).join('\n'));
}

/** The same description, of what TS loaded. */
async function describe_(x: unknown): Promise<unknown> {
  if (x instanceof Tensor) {
    let v = x.dtype.category === 'complex' ? torch.view_as_real(x) : x;
    await v.ready(); // view_as_real has no mirror rule: its metadata comes from the runtime
    if (v.dtype === torch.float16 || v.dtype === torch.bfloat16) v = v.float();
    return { tensor: String(x.dtype), shape: [...x.shape], values: await v.tolist() };
  }
  if (x instanceof Map) return { items: await Promise.all([...x].map(async ([k, v]) => [await describe_(k), await describe_(v)])) };
  if (Array.isArray(x)) return { list: await Promise.all(x.map(describe_)) };
  if (x instanceof Tuple) return { list: await Promise.all(x.items.map(describe_)) };
  if (x !== null && typeof x === 'object') return { items: await Promise.all(Object.entries(x).map(async ([k, v]) => [k, await describe_(v)])) };
  return x;
}

/** Python's description with container kinds merged as TS sees them (tuples are arrays, dict kinds alike). */
function asTsSees(d: unknown): unknown {
  if (Array.isArray(d)) return d.map(asTsSees);
  if (d !== null && typeof d === 'object') {
    const o = d as Record<string, unknown>;
    if ('tensor' in o) return o;
    if ('dict' in o) return { items: asTsSees(o.items) };
    if ('tuple' in o) return { list: asTsSees(o.tuple) };
    if ('list' in o) return { list: asTsSees(o.list) };
  }
  return d;
}

describe('TS saves, Python loads', () => {
  it('tensors of every common dtype, views, and nested containers, exactly', async () => {
    torch.manual_seed(0);
    const base = torch.randn(4, 5, { dtype: torch.float64 });
    const obj = {
      f32: torch.randn(3, 2),
      f64: base,
      view: base.transpose(0, 1).i('1:, ::2'), // non-contiguous: torch.save keeps the view's values
      f16: torch.randn(5).to(torch.float16),
      bf16: torch.randn(5).to(torch.bfloat16),
      i64: torch.arange(-3, 3),
      i32: torch.tensor(new Int32Array([7, -8, 9])),
      u8: torch.tensor(new Uint8Array([0, 255])),
      flags: torch.tensor([true, false, true]),
      c64: torch.randn(2, { dtype: torch.complex64 }),
      scalar: torch.tensor(2.5, { dtype: torch.float32 }),
      empty: torch.zeros(0, 3),
      plain: [1, 'two', null, true, 2.5, -(2 ** 40), [[]]],
      nested: { deep: [torch.ones(2), { deeper: torch.eye(2) }] },
      ordered: new Map<unknown, unknown>([['b', 1], ['10', 2], ['2', 3], [5, 'int key'], [new Tuple([1, 'a']), 'tuple key']]),
      pair: new Tuple([torch.zeros(1), 'x']),
      typed: new Float32Array([0.5, 1.5]),
    };
    const path = file('nested.pt');
    await torch.save(obj, path);
    const loaded = twin(DESCRIBE, `print(json.dumps(describe(torch.load(${JSON.stringify(path)}, weights_only=True))))`) as { dict: string; items: [string, unknown][] };
    expect(loaded.dict).toBe('dict');
    const got = Object.fromEntries(loaded.items);
    expect(Object.keys(got)).toEqual(Object.keys(obj)); // the object's order
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'typed') continue;
      const want = await describe_(v);
      expect(asTsSees(got[k]), k).toEqual(want);
    }
    // containers keep their Python kind: Tuple is a tuple, Map a dict with its key types
    expect(got.pair).toMatchObject({ tuple: [{ tensor: 'torch.float32' }, 'x'] });
    expect((got.ordered as { items: unknown[][] }).items.map((kv) => kv[0])).toEqual(['b', '10', '2', 5, { tuple: [1, 'a'] }]);
    expect(got.typed).toEqual({ tensor: 'torch.float32', shape: [2], values: [0.5, 1.5] });
  }, TWIN_TIMEOUT);

  it('writes to a Python file object (io.BytesIO) and reads it back', async () => {
    const io = torch.py.import('io');
    const buffer = io.BytesIO();
    const t = torch.arange(6).reshape(2, 3);
    await torch.save({ t }, buffer);
    buffer.seek(0);
    const back = (await torch.load(buffer)) as { t: Tensor };
    expect(await back.t.tolist()).toEqual(await t.tolist());
    expect(await buffer.getbuffer().nbytes).toBeGreaterThan(0);
  });
});

describe('Python saves, TS loads', () => {
  it('dicts (order and key types kept), lists, tuples, scalars, tensors of every dtype', async () => {
    const path = file('from_python.pt');
    const want = twin(DESCRIBE, `
      from collections import OrderedDict
      torch.manual_seed(1)
      obj = OrderedDict()
      obj['w'] = torch.randn(3, 4)
      obj['b'] = torch.randn(4, dtype=torch.float64)
      obj['idx'] = torch.tensor([3, -1, 2**40])
      obj['half'] = torch.randn(3).half()
      obj['bf'] = torch.randn(3).bfloat16()
      obj['mask'] = torch.tensor([True, False])
      obj['z'] = torch.randn(2, dtype=torch.complex128)
      obj['strided'] = torch.arange(12.).reshape(3, 4).t()
      obj['meta'] = {'epoch': 3, 'lr': 0.125, 'name': 'run', 'done': None, 'ok': True}
      obj['shapes'] = (2, [3, (4,)])
      obj['by_int'] = {1: 'a', 0: 'b'}
      obj['by_digits'] = {'10': 'x', '2': 'y'}
      torch.save(obj, ${JSON.stringify(path)})
      print(json.dumps(describe(obj)))
    `);
    const loaded = await torch.load(path);
    expect(loaded).not.toBeInstanceOf(Map); // string keys in order: a plain object
    expect(await describe_(loaded)).toEqual(asTsSees(want));
    const o = loaded as Record<string, unknown>;
    expect(o.by_int).toBeInstanceOf(Map); // int keys stay ints
    expect([...(o.by_int as Map<number, string>).keys()]).toEqual([1, 0]);
    expect(o.by_digits).toBeInstanceOf(Map); // a JS object would put '2' before '10'
    expect((o.w as Tensor).dtype).toBe(torch.float32);
    expect((o.z as Tensor).dtype).toBe(torch.complex128);
  }, TWIN_TIMEOUT);

  it('map_location puts tensors on the given device', async () => {
    const path = file('located.pt');
    await torch.save([torch.ones(2)], path);
    const [onMeta] = (await torch.load(path, { map_location: 'meta' })) as Tensor[];
    expect(onMeta!.device).toBe('meta');
    const [onCpu] = (await torch.load(path, 'cpu')) as Tensor[];
    expect(await onCpu!.tolist()).toEqual([1, 1]);
  });
});

describe('weights-only loading', () => {
  it('refuses a file holding an arbitrary pickled object, without running it', async () => {
    const path = file('evil.pt');
    const marker = file('evil-ran');
    python(`
      class Evil:
          def __reduce__(self):
              return (open, (${JSON.stringify(marker)}, 'w'))
      torch.save({'w': torch.ones(1), 'payload': Evil()}, ${JSON.stringify(path)})
      print(json.dumps(None))
    `);
    const err = await torch.load(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TorchError);
    expect((err as TorchError).pyType).toBe('UnpicklingError');
    expect((err as TorchError).pyMessage).toMatch(/Weights only load failed/);
    expect(existsSync(marker)).toBe(false);
    // a full unpickle would have run it: the test can fail
    python(`torch.load(${JSON.stringify(path)}, weights_only=False)\nprint(json.dumps(None))`);
    expect(existsSync(marker)).toBe(true);
  }, TWIN_TIMEOUT);

  it('refuses weights_only=false and bad arguments with clear errors', async () => {
    const path = file('plain.pt');
    await torch.save(torch.ones(1), path);
    await expect(torch.load(path, { weights_only: false })).rejects.toThrow(ArgumentError);
    await expect(torch.load(path, { weights_only: false })).rejects.toThrow(/weights_only must be true/);
    await expect(torch.load(path, { pickle_module: 'x' } as never)).rejects.toThrow(/unexpected keyword argument 'pickle_module'/);
    await expect(torch.load(file('missing.pt'))).rejects.toMatchObject({ pyType: 'FileNotFoundError' });
    await expect(torch.save(new torch.nn.Linear(2, 2), path)).rejects.toThrow(/state_dict\(\)/);
    await expect(torch.save({ f: () => 1 }, path)).rejects.toThrow(/torch\.save\(obj\)\.f is a JS function/);
    // the session goes on
    expect(await ((await torch.load(path)) as Tensor).tolist()).toEqual([1]);
  });
});

describe('state dicts: same architecture, identical outputs', () => {
  const ARCH = `
    from torch import nn
    def make():
        return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)).eval()
  `;
  const make = () => {
    const { Sequential, Linear, BatchNorm1d, ReLU } = torch.nn;
    return new Sequential(new Linear(4, 8), new BatchNorm1d(8), new ReLU(), new Linear(8, 3));
  };

  it('a TS model state_dict loads into the Python model and gives the same outputs', async () => {
    torch.manual_seed(3);
    const model = make();
    // non-trivial running statistics: a few training steps of batch norm
    for (let i = 0; i < 3; i++) torch.no_grad(() => model.forward(torch.randn(16, 4)));
    model.eval();
    const x = torch.randn(5, 4);
    const y = torch.no_grad(() => model.forward(x) as Tensor);
    const path = file('ts_model.pt');
    await torch.save({ state: model.state_dict(), x }, path);
    const py = twin<{ keys: string[]; y: number[][]; missing: string[]; unexpected: string[] }>(ARCH, `
      ckpt = torch.load(${JSON.stringify(path)}, weights_only=True)
      m = make()
      r = m.load_state_dict(ckpt['state'])
      with torch.no_grad():
          y = m(ckpt['x'])
      print(json.dumps({'keys': list(ckpt['state'].keys()), 'y': y.tolist(), 'missing': r.missing_keys, 'unexpected': r.unexpected_keys}))
    `);
    expect(py.missing).toEqual([]);
    expect(py.unexpected).toEqual([]);
    expect(py.keys).toEqual(Object.keys(model.state_dict()));
    expect(py.y).toEqual(await y.tolist());
  }, TWIN_TIMEOUT);

  it('a Python model state_dict loads into the TS model and gives the same outputs', async () => {
    const path = file('py_model.pt');
    const py = twin<{ y: number[][] }>(ARCH, `
      torch.manual_seed(4)
      m = make().train()
      for _ in range(3):
          m(torch.randn(16, 4))
      m.eval()
      x = torch.randn(5, 4)
      with torch.no_grad():
          y = m(x)
      torch.save({'state': m.state_dict(), 'x': x}, ${JSON.stringify(path)})
      print(json.dumps({'y': y.tolist()}))
    `);
    const ckpt = (await torch.load(path)) as { state: Record<string, Tensor>; x: Tensor };
    const model = make();
    expect(model.load_state_dict(ckpt.state)).toEqual({ missing_keys: [], unexpected_keys: [] });
    model.eval();
    const y = torch.no_grad(() => model.forward(ckpt.x) as Tensor);
    expect(await y.tolist()).toEqual(py.y);
  }, TWIN_TIMEOUT);
});
