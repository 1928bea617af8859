/**
 * The generated API's harder shapes (stubs/generate_ts.mjs, src/ops/generated_support.ts):
 * overloads chosen by a literal argument (return_indices=True), a tensor-or-tuple return
 * (atleast_1d), a Python-level method (Tensor.unflatten), a value-or-tensor method
 * (Tensor.type), list returns whose length is known only at run time, and None entries in
 * adaptive pooling sizes. Results are compared with the same program run by Python's torch;
 * strict mode (vitest.config.ts) checks every mirrored output's metadata as well.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import torch, { ArgumentError, Tensor, TorchError } from '../src/index.js';
import { python } from './fixtures/python_twin.js';

const F = torch.nn.functional;
// each Python twin starts an interpreter with torch: slow on a loaded machine
vi.setConfig({ testTimeout: 240_000 });

beforeAll(async () => {
  await torch.init();
});
afterAll(async () => {
  await torch.shutdown();
});

/** The same deterministic input on both sides: sin of 0..n-1, so every maximum is unique. */
const input = (...shape: number[]) => torch.arange(shape.reduce((p, s) => p * s, 1), { dtype: torch.float32 }).sin().reshape(shape);
const PY_INPUT = 'def input(*shape): return torch.arange(math.prod(shape), dtype=torch.float32).sin().reshape(shape)';

interface Out {
  shape: number[];
  dtype: string;
  values: unknown;
}
const describeOut = async (t: Tensor): Promise<Out> => {
  await t.ready();
  return { shape: [...t.shape], dtype: String(t.dtype), values: await t.tolist() };
};
const PY_DESCRIBE = 'def describe(t): return {"shape": list(t.shape), "dtype": str(t.dtype), "values": t.tolist()}';

/** Every case's outputs from Python, keyed by case name (one interpreter start for a block). */
function twin(cases: Record<string, string>): Record<string, Out | Out[]> {
  const body = Object.entries(cases)
    .map(([k, expr]) => `r = ${expr}\nout[${JSON.stringify(k)}] = [describe(t) for t in r] if isinstance(r, (tuple, list)) else describe(r)`)
    .join('\n');
  return python(`${PY_INPUT}\n${PY_DESCRIBE}\nF = torch.nn.functional\nout = {}\n${body}\nprint(json.dumps(out))`);
}

async function outputs(r: Tensor | Tensor[]): Promise<Out | Out[]> {
  return Array.isArray(r) ? Promise.all(r.map(describeOut)) : describeOut(r);
}

describe('return_indices=True gives (values, indices)', () => {
  it('max_pool and adaptive_max_pool, every form, match torch', async () => {
    const x1 = input(2, 3, 9);
    const x2 = input(2, 3, 8, 7);
    const x3 = input(1, 2, 4, 6, 5);
    const ts: Record<string, Tensor | Tensor[]> = {
      mp1: F.max_pool1d(x1, 3, { return_indices: true }),
      mp1_plain: F.max_pool1d(x1, 3),
      mp1_wi: F.max_pool1d_with_indices(x1, 2),
      mp2: F.max_pool2d(x2, 2, { return_indices: true }),
      mp2_pos: F.max_pool2d(x2, 3, 2, 1, 1, false, true),
      mp2_false: F.max_pool2d(x2, 2, { return_indices: false }),
      mp2_kw: F.max_pool2d(x2, { kernel_size: [2, 3], return_indices: true }),
      mp2_wi: F.max_pool2d_with_indices(x2, 2, { stride: 1 }),
      mp3: F.max_pool3d(x3, 2, { return_indices: true }),
      mp3_wi: F.max_pool3d_with_indices(x3, [1, 2, 2]),
      amp1: F.adaptive_max_pool1d(x1, 4, { return_indices: true }),
      amp1_wi: F.adaptive_max_pool1d_with_indices(x1, 5),
      amp2: F.adaptive_max_pool2d(x2, [3, 2], { return_indices: true }),
      amp2_plain: F.adaptive_max_pool2d(x2, 3),
      amp2_wi: F.adaptive_max_pool2d_with_indices(x2, 2),
      amp3: F.adaptive_max_pool3d(x3, 2, { return_indices: true }),
      amp3_wi: F.adaptive_max_pool3d_with_indices(x3, [1, 2, 3]),
    };
    const py = twin({
      mp1: 'F.max_pool1d(input(2, 3, 9), 3, return_indices=True)',
      mp1_plain: 'F.max_pool1d(input(2, 3, 9), 3)',
      mp1_wi: 'F.max_pool1d_with_indices(input(2, 3, 9), 2)',
      mp2: 'F.max_pool2d(input(2, 3, 8, 7), 2, return_indices=True)',
      mp2_pos: 'F.max_pool2d(input(2, 3, 8, 7), 3, 2, 1, 1, False, True)',
      mp2_false: 'F.max_pool2d(input(2, 3, 8, 7), 2, return_indices=False)',
      mp2_kw: 'F.max_pool2d(input(2, 3, 8, 7), kernel_size=[2, 3], return_indices=True)',
      mp2_wi: 'F.max_pool2d_with_indices(input(2, 3, 8, 7), 2, stride=1)',
      mp3: 'F.max_pool3d(input(1, 2, 4, 6, 5), 2, return_indices=True)',
      mp3_wi: 'F.max_pool3d_with_indices(input(1, 2, 4, 6, 5), [1, 2, 2])',
      amp1: 'F.adaptive_max_pool1d(input(2, 3, 9), 4, return_indices=True)',
      amp1_wi: 'F.adaptive_max_pool1d_with_indices(input(2, 3, 9), 5)',
      amp2: 'F.adaptive_max_pool2d(input(2, 3, 8, 7), [3, 2], return_indices=True)',
      amp2_plain: 'F.adaptive_max_pool2d(input(2, 3, 8, 7), 3)',
      amp2_wi: 'F.adaptive_max_pool2d_with_indices(input(2, 3, 8, 7), 2)',
      amp3: 'F.adaptive_max_pool3d(input(1, 2, 4, 6, 5), 2, return_indices=True)',
      amp3_wi: 'F.adaptive_max_pool3d_with_indices(input(1, 2, 4, 6, 5), [1, 2, 3])',
    });
    for (const [k, r] of Object.entries(ts)) expect(await outputs(r), k).toEqual(py[k]);
    await torch.sync();
  });

  it('is typed as a pair exactly when return_indices is true', () => {
    const x = input(1, 4, 4);
    // checked by tsc (npm run typecheck): plain assignments, and @ts-expect-error where a type must not fit
    const pair: [Tensor, Tensor] = F.max_pool2d(x, 2, { return_indices: true });
    const single: Tensor = F.max_pool2d(x, 2);
    const unflagged: Tensor = F.max_pool2d(x, 2, { return_indices: false });
    // @ts-expect-error without return_indices it is one tensor, not a pair
    const notPair: [Tensor, Tensor] = F.max_pool2d(x, 2);
    // @ts-expect-error with return_indices it is a pair, not one tensor
    const notSingle: Tensor = F.max_pool2d(x, 2, { return_indices: true });
    const adaptive: [Tensor, Tensor] = F.adaptive_max_pool1d(x, 2, { return_indices: true });
    const withIndices: [Tensor, Tensor] = F.max_pool1d_with_indices(x, 2);
    for (const [r, n] of [[pair, 2], [single, 1], [unflagged, 1], [notPair, 1], [notSingle, 2], [adaptive, 2], [withIndices, 2]] as const) {
      expect(Array.isArray(r) ? r.length : 1).toBe(n);
    }
  });

  it('the indices gather the values back (they are real indices, not a copy)', async () => {
    const x = input(1, 2, 6, 6);
    const [v, i] = F.max_pool2d(x, 2, { return_indices: true });
    expect(i.dtype).toBe(torch.int64);
    const back = x.flatten(2).gather(2, i.flatten(2)).reshape([...v.shape]);
    expect(await back.tolist()).toEqual(await v.tolist());
  });
});

describe('atleast_1d / 2d / 3d', () => {
  it('a tensor for one tensor, a list for several, for a list, or for none', async () => {
    const s = torch.tensor(1.5);
    const v = input(3);
    const m = input(2, 3);
    const b = input(2, 1, 2, 2);
    const one = torch.atleast_3d(v);
    const typedOne: Tensor = one;
    // @ts-expect-error one tensor gives a tensor, not a list
    const notList: Tensor[] = torch.atleast_3d(v);
    expect(Array.isArray(notList) || !(typedOne instanceof Tensor)).toBe(false);
    expect(one).toBeInstanceOf(Tensor);
    const several = torch.atleast_2d(s, v, m);
    const typedSeveral: Tensor[] = several;
    expect(typedSeveral).toHaveLength(3);
    const listOfOne = torch.atleast_1d([s]);
    expect(Array.isArray(listOfOne) && listOfOne.length).toBe(1);
    expect(torch.atleast_1d()).toEqual([]);
    const ts: Record<string, Tensor | Tensor[]> = {
      one,
      several,
      listOfOne,
      a1: torch.atleast_1d(s, v, m, b),
      a2: torch.atleast_2d([s, v, m, b]),
      a3: torch.atleast_3d(s, v, m, b),
      a3m: torch.atleast_3d(m),
    };
    const py = twin({
      one: 'torch.atleast_3d(input(3))',
      several: 'torch.atleast_2d(torch.tensor(1.5), input(3), input(2, 3))',
      listOfOne: 'torch.atleast_1d([torch.tensor(1.5)])',
      a1: 'torch.atleast_1d(torch.tensor(1.5), input(3), input(2, 3), input(2, 1, 2, 2))',
      a2: 'torch.atleast_2d([torch.tensor(1.5), input(3), input(2, 3), input(2, 1, 2, 2)])',
      a3: 'torch.atleast_3d(torch.tensor(1.5), input(3), input(2, 3), input(2, 1, 2, 2))',
      a3m: 'torch.atleast_3d(input(2, 3))',
    });
    for (const [k, r] of Object.entries(ts)) expect(await outputs(r), k).toEqual(py[k]);
    await torch.sync();
  });

  it('gives views: autograd flags as torch has them, and writes show through', async () => {
    const x = torch.ones(3, { requires_grad: true });
    const [a, b] = torch.atleast_2d(x, x.detach());
    expect([a!.requires_grad, a!.is_leaf, b!.requires_grad]).toEqual([true, false, false]);
    const base = torch.zeros(4);
    torch.atleast_3d(base).add_(2);
    expect(await base.tolist()).toEqual([2, 2, 2, 2]);
    await torch.sync();
  });
});

describe('Tensor.unflatten', () => {
  it('matches torch.unflatten and Python', async () => {
    const x = input(2, 12, 3);
    const ts = { a: x.unflatten(1, [3, 4]), b: x.unflatten(-2, [2, -1, 3]), c: x.unflatten(2, [3]), d: torch.unflatten(x, 1, [4, 3]) };
    const py = twin({
      a: 'input(2, 12, 3).unflatten(1, (3, 4))',
      b: 'input(2, 12, 3).unflatten(-2, (2, -1, 3))',
      c: 'input(2, 12, 3).unflatten(2, (3,))',
      d: 'torch.unflatten(input(2, 12, 3), 1, (4, 3))',
    });
    for (const [k, r] of Object.entries(ts)) expect(await outputs(r), k).toEqual(py[k]);
    await torch.sync();
  });

  it("throws torch's error at the call site", () => {
    const msg = python<string>(`
      try:
          torch.zeros(2, 12).unflatten(1, (5, 2))
      except RuntimeError as e:
          print(json.dumps(str(e)))`);
    expect(() => torch.zeros(2, 12).unflatten(1, [5, 2])).toThrow(msg);
    // an unsized int list takes no single int in torch's parser (position differs by form)
    const single = python<string[]>(`
      out = []
      for f in (lambda: torch.zeros(2, 12).unflatten(1, 12), lambda: torch.unflatten(torch.zeros(2, 12), 1, 12)):
          try:
              f()
          except TypeError as e:
              out.append(str(e))
      print(json.dumps(out))`);
    expect(single).toHaveLength(2);
    expect(() => torch.zeros(2, 12).unflatten(1, 12)).toThrow(single[0]);
    expect(() => torch.unflatten(torch.zeros(2, 12), 1, 12)).toThrow(single[1]);
  });
});

describe('Tensor.type', () => {
  it('type() is the type name; type(dtype or name) converts', async () => {
    const x = input(2, 3);
    const i = torch.tensor([1, 2]);
    const name = x.type();
    const typedName: Promise<string> = name;
    const converted: Tensor = x.type(torch.float64);
    // @ts-expect-error type() with no dtype is a value, not a tensor
    const notTensor: Tensor = x.type();
    expect([typedName instanceof Promise, converted instanceof Tensor, notTensor instanceof Tensor]).toEqual([true, true, false]);
    const py = python<string[]>(`print(json.dumps([torch.zeros(1).type(), torch.tensor([1, 2]).type(), torch.zeros(1, dtype=torch.bool).type()]))`);
    expect([await name, await i.type(), await torch.zeros(1, { dtype: torch.bool }).type()]).toEqual(py);
    const ts = {
      f64: x.type(torch.float64),
      i32: x.type('torch.IntTensor'),
      same: x.type(torch.float32),
      kw: i.type({ dtype: torch.float16 }),
      bool: x.type('torch.BoolTensor'),
    };
    const pyOut = twin({
      f64: 'input(2, 3).type(torch.float64)',
      i32: "input(2, 3).type('torch.IntTensor')",
      same: 'input(2, 3).type(torch.float32)',
      kw: 'torch.tensor([1, 2]).type(dtype=torch.float16)',
      bool: "input(2, 3).type('torch.BoolTensor')",
    });
    for (const [k, r] of Object.entries(ts)) expect(await outputs(r), k).toEqual(pyOut[k]);
    await torch.sync();
  });

  it('keeps autograd as a conversion does, and fails like torch on a bad name', async () => {
    const x = torch.ones(2, { requires_grad: true });
    const y = x.type(torch.float64);
    expect([y.requires_grad, y.is_leaf]).toEqual([true, false]);
    expect([x.type(torch.float32).is_leaf]).toEqual([true]); // self, unchanged
    const msg = python<string>(`
      try:
          torch.ones(2).type('torch.NoSuchTensor')
      except ValueError as e:
          print(json.dumps(str(e)))`);
    const bad = x.type('torch.NoSuchTensor');
    await expect(bad.ready()).rejects.toThrow(msg);
    await expect(torch.sync()).rejects.toThrow(msg); // the failed op is reported once at a sync point too
  });
});

describe('list returns whose length is known only at run time', () => {
  it('tensor_split by an index tensor: len + 1 pieces, sizes from the runtime', async () => {
    const x = input(10, 2);
    const idx = torch.tensor([2, 7]);
    const pieces = torch.tensor_split(x, idx);
    expect(pieces.length).toBe(3);
    const methods = x.tensor_split(torch.tensor([1, 1, 4]), 0);
    expect(methods.length).toBe(4);
    const py = twin({
      pieces: 'torch.tensor_split(input(10, 2), torch.tensor([2, 7]))',
      methods: 'input(10, 2).tensor_split(torch.tensor([1, 1, 4]), 0)',
    });
    expect(await outputs(pieces)).toEqual(py.pieces);
    expect(await outputs(methods)).toEqual(py.methods);
  });

  it('a 0-dim sections tensor, or a pending shape that decides the count, is refused clearly', async () => {
    const x = input(10);
    expect(() => torch.tensor_split(x, torch.tensor(3))).toThrow(ArgumentError);
    expect(() => torch.tensor_split(x, torch.tensor(3))).toThrow(/0-dim .*await t\.item\(\)/);
    const nz = torch.nonzero(x.gt(0)); // shape known only to the runtime
    expect(() => nz.split(2)).toThrow(/torch\.split|Tensor\.split/);
    expect(() => nz.split(2)).toThrow(/pending.*ready\(\)/);
    // ... while a count that follows from the arguments works on the pending tensor
    const py = twin({ parts: 'torch.nonzero(input(10).gt(0)).split([2, 4])', chunks: 'torch.nonzero(input(10).gt(0)).chunk(4)' });
    expect(await outputs(nz.split([2, 4]))).toEqual(py.parts);
    await nz.ready();
    expect(await outputs(nz.chunk(4))).toEqual(py.chunks); // 6 rows in 4 chunks: 3 pieces of 2
  });

  it('where(condition) and nonzero(as_tuple=True): one index tensor per dim', async () => {
    const m = input(3, 4);
    const w = torch.where(m.gt(0));
    const n = m.nonzero({ as_tuple: true });
    const s = torch.nonzero(torch.tensor(2.0), { as_tuple: true });
    const typedN: Tensor[] = n;
    const typedPlain: Tensor = m.nonzero();
    expect([typedN.length, typedPlain instanceof Tensor]).toEqual([2, true]);
    const py = twin({
      w: 'torch.where(input(3, 4).gt(0))',
      n: 'input(3, 4).nonzero(as_tuple=True)',
      s: 'torch.nonzero(torch.tensor(2.0), as_tuple=True)',
      plain: 'input(3, 4).nonzero()',
    });
    expect(await outputs(w)).toEqual(py.w);
    expect(await outputs(n)).toEqual(py.n);
    expect(await outputs(s)).toEqual(py.s);
    expect(await outputs(m.nonzero())).toEqual(py.plain);
  });
});

describe('adaptive pooling sizes with None, layer_norm sizes', () => {
  it('null entries keep the input size, as torch', async () => {
    const x2 = input(2, 3, 8, 7);
    const x3 = input(1, 2, 4, 6, 5);
    const ts: Record<string, Tensor | Tensor[]> = {
      avg2: F.adaptive_avg_pool2d(x2, [null, 3]),
      avg2b: F.adaptive_avg_pool2d(input(3, 8, 7), [4, null]),
      avg3: F.adaptive_avg_pool3d(x3, [null, 3, null]),
      max2: F.adaptive_max_pool2d(x2, [null, 3], { return_indices: true }),
      max2n: F.adaptive_max_pool2d(x2, [null, null]),
      max3: F.adaptive_max_pool3d(x3, [2, null, 1]),
    };
    const py = twin({
      avg2: 'F.adaptive_avg_pool2d(input(2, 3, 8, 7), (None, 3))',
      avg2b: 'F.adaptive_avg_pool2d(input(3, 8, 7), (4, None))',
      avg3: 'F.adaptive_avg_pool3d(input(1, 2, 4, 6, 5), (None, 3, None))',
      max2: 'F.adaptive_max_pool2d(input(2, 3, 8, 7), (None, 3), return_indices=True)',
      max2n: 'F.adaptive_max_pool2d(input(2, 3, 8, 7), (None, None))',
      max3: 'F.adaptive_max_pool3d(input(1, 2, 4, 6, 5), (2, None, 1))',
    });
    for (const [k, r] of Object.entries(ts)) expect(await outputs(r), k).toEqual(py[k]);
    await torch.sync();
  });

  it("null where torch has no input size to take: torch's error", () => {
    const msg = python<string>(`
      try:
          torch.nn.functional.adaptive_avg_pool2d(torch.zeros(8), (None, 3))
      except ValueError as e:
          print(json.dumps(str(e)))`);
    expect(() => F.adaptive_avg_pool2d(torch.zeros(8), [null, 3])).toThrow(msg);
  });

  it('layer_norm takes a list of sizes; an int normalized_shape is refused as torch refuses it', async () => {
    const py = python<{ msg: string; out: Out }>(`
      ${PY_INPUT}
      ${PY_DESCRIBE}
      try:
          torch.nn.functional.layer_norm(input(2, 4), 4)
      except TypeError as e:
          msg = str(e)
      print(json.dumps({"msg": msg, "out": describe(torch.nn.functional.layer_norm(input(2, 4), [4]))}))`);
    let err: unknown;
    try {
      F.layer_norm(input(2, 4), 4);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TorchError);
    expect((err as TorchError).pyType).toBe('TypeError');
    expect((err as TorchError).pyMessage).toBe(py.msg);
    expect(await describeOut(F.layer_norm(input(2, 4), [4]))).toEqual(py.out);
  });
});
