/**
 * Tensor creation and the core ops, checked against real torch in the runtime:
 *  - the mirror's synchronous metadata equals what the runtime reports for the same tensor
 *    (torch.runtime.meta), and equals the metadata of the same call made through the
 *    un-mirrored escape hatch (torch.call: Python computes it, nothing is predicted);
 *  - values (tolist and str) equal those of that Python-side call;
 *  - errors the mirror predicts are thrown synchronously with torch's own type and text
 *    (compared with the TorchError the same call raises in Python).
 */
import { afterAll, describe, expect, it } from 'vitest';
import torch, { ArgumentError, PendingMetadataError, Tensor, TorchError } from '../src/index.js';

type Meta = { shape: number[]; dtype: unknown; device: string; requires_grad: boolean; is_leaf: boolean; grad_fn: string | null };

/** The mirror's metadata, read synchronously. */
function mirror(t: Tensor): Meta {
  return { shape: [...t.shape], dtype: t.dtype, device: t.device, requires_grad: t.requires_grad, is_leaf: t.is_leaf, grad_fn: t.grad_fn?.name() ?? null };
}

/** The mirror agrees with the runtime about t. */
async function expectMirrorMatches(t: Tensor): Promise<void> {
  const rt = (await torch.runtime.meta(t)) as unknown as Meta;
  expect(mirror(t)).toEqual(rt);
  expect(t.dtype).toBe(rt.dtype);
}

/**
 * t (made by a mirrored op) matches Python's torch.<name>(*args, **kwargs), run through the
 * escape hatch: same metadata (mirror, runtime and Python's own result) and same values.
 */
async function expectSameAsPython(
  t: Tensor,
  name: string,
  args: unknown[],
  kwargs: Record<string, unknown> = {},
  opts: { values?: boolean } = {},
): Promise<void> {
  const predicted = mirror(t); // synchronously known, before any await
  const ref = torch.call(name, args, kwargs) as Tensor;
  await ref.ready();
  expect(predicted).toEqual(mirror(ref));
  await expectMirrorMatches(t);
  if (opts.values !== false) {
    expect(await t.tolist()).toEqual(await ref.tolist());
    expect(await t.str()).toBe(await ref.str());
  }
  ref.dispose();
}

/** The error fn throws synchronously (fails the test if it returns). */
function thrownBy(fn: () => unknown): Error {
  let result: unknown;
  try {
    result = fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error(`expected a synchronous throw, got ${String(result)}`);
}

/** The TorchError Python raises for torch.<name>(*args, **kwargs). */
async function pythonError(name: string, args: unknown[], kwargs: Record<string, unknown> = {}): Promise<TorchError> {
  try {
    await torch.callValue(name, args, kwargs);
  } catch (err) {
    expect(err).toBeInstanceOf(TorchError);
    return err as TorchError;
  }
  throw new Error(`torch.${name} did not fail in Python`);
}

/** fn throws at the call site the same error type and message Python gives for the call. */
async function expectSameErrorAsPython(fn: () => unknown, name: string, args: unknown[], kwargs: Record<string, unknown> = {}) {
  const local = thrownBy(fn);
  expect(local).toBeInstanceOf(TorchError);
  const py = await pythonError(name, args, kwargs);
  const mine = local as TorchError;
  expect({ type: mine.pyType, message: mine.pyMessage }).toEqual({ type: py.pyType, message: py.pyMessage });
  return mine;
}

afterAll(async () => {
  await torch.shutdown();
});

describe('torch.tensor', () => {
  it('infers dtypes exactly as torch does from JS values', async () => {
    const cases: [unknown, string][] = [
      [[1, 2, 3], 'int64'],
      [[1.5, 2, 3], 'float32'],
      [[true, false], 'bool'],
      [[true, 2], 'int64'],
      [[true, 2.5], 'float32'],
      [[1n, 2n], 'int64'],
      [[[1, 2], [3, 4.5]], 'float32'],
      [[], 'float32'],
    ];
    for (const [data, dtype] of cases) {
      const t = torch.tensor(data as never);
      expect(t.dtype.name, JSON.stringify(data, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))).toBe(dtype);
      if (typeof (data as unknown[])[0] !== 'bigint') await expectSameAsPython(t, 'tensor', [data]);
      else await expectMirrorMatches(t);
    }
  });

  it('infers TypedArray dtypes from the element type', async () => {
    const cases: [ArrayBufferView, string, unknown[]][] = [
      [new Float64Array([1.5, -2]), 'float64', [1.5, -2]],
      [new Float32Array([0.5, 3]), 'float32', [0.5, 3]],
      [new Int32Array([1, -2, 3]), 'int32', [1, -2, 3]],
      [new BigInt64Array([1n, -2n, 2n ** 40n]), 'int64', [1, -2, 2 ** 40]],
      [new Uint8Array([0, 255, 7]), 'uint8', [0, 255, 7]],
      [new Int16Array([-300, 300]), 'int16', [-300, 300]],
      [new Int8Array([-128, 127]), 'int8', [-128, 127]],
    ];
    for (const [arr, dtype, values] of cases) {
      const t = torch.tensor(arr);
      expect(t.dtype.name).toBe(dtype);
      expect(t.shape).toEqual([values.length]);
      await expectMirrorMatches(t);
      expect(await t.tolist()).toEqual(values);
    }
    expect(await torch.tensor(new Float64Array([1.5])).str()).toBe('tensor([1.5000], dtype=torch.float64)');
  });

  it('gives nested arrays their shape, scalars 0 dims', async () => {
    const shapes: [unknown, number[]][] = [
      [[[1, 2, 3], [4, 5, 6]], [2, 3]],
      [[[[1, 2]], [[3, 4]]], [2, 1, 2]],
      [[[]], [1, 0]],
      [[[], []], [2, 0]],
      [3, []],
      [2.5, []],
      [true, []],
    ];
    for (const [data, shape] of shapes) {
      const t = torch.tensor(data as never);
      expect(t.shape).toEqual(shape);
      expect(t.ndim).toBe(shape.length);
      await expectSameAsPython(t, 'tensor', [data]);
    }
    const big = torch.tensor(5n);
    expect(big.shape).toEqual([]);
    expect(big.dtype).toBe(torch.int64);
    expect(await big.item()).toBe(5);
  });

  it('rejects ragged arrays synchronously with torch\'s ValueError text', async () => {
    for (const data of [
      [[1, 2], [3]],
      [[1], [2, 3]],
      [[[1, 2], [3, 4]], [[1, 2], [3]]],
    ]) {
      const err = await expectSameErrorAsPython(() => torch.tensor(data), 'tensor', [data]);
      expect(err.pyType).toBe('ValueError');
      expect(err.pyMessage).toMatch(/^expected sequence of length \d+ at dim \d+ \(got \d+\)$/);
    }
    expect(thrownBy(() => torch.tensor([[1, 2], [3]])).message).toBe('ValueError: expected sequence of length 2 at dim 1 (got 1)');
    // a scalar where a sequence is expected: torch says TypeError 'not a sequence'
    await expectSameErrorAsPython(() => torch.tensor([[1, 2], 3] as never), 'tensor', [[[1, 2], 3]]);
  });

  it('rejects a sequence where a number is expected with torch\'s error (TypeError)', async () => {
    await expectSameErrorAsPython(() => torch.tensor([1, [2, 3]] as never), 'tensor', [[1, [2, 3]]]);
  });

  it('honours {dtype} when the values are packed in that dtype', async () => {
    const cases: [unknown, Record<string, unknown>][] = [
      [[1, 2], { dtype: torch.float32 }],
      [[1, 2], { dtype: torch.float64 }],
      [[1.7, -1.7, 3], { dtype: torch.int32 }],
      [[1, 0, 2], { dtype: torch.bool }],
      [[200, 3], { dtype: torch.uint8 }],
      [[1.5, 2], { dtype: torch.float32, requires_grad: true }],
    ];
    for (const [data, kw] of cases) {
      const t = torch.tensor(data as never, kw as never);
      expect(t.dtype).toBe(kw.dtype);
      await expectSameAsPython(t, 'tensor', [data], kw);
    }
  });

  it('honours {dtype: float16 / bfloat16}: values rounded as torch rounds them', async () => {
    for (const dtype of [torch.float16, torch.bfloat16]) {
      const t = torch.tensor([0.1, 2.5, -3], { dtype });
      expect(t.dtype).toBe(dtype);
      await expectSameAsPython(t, 'tensor', [[0.1, 2.5, -3]], { dtype });
    }
  });

  it('honours {dtype: complex64}', async () => {
    const t = torch.tensor([1, 2.5], { dtype: torch.complex64 });
    await expectSameAsPython(t, 'tensor', [[1, 2.5]], { dtype: torch.complex64 });
  });

  // Same root cause: a TypedArray goes on the wire in its own dtype and {dtype} is dropped.
  it('honours {dtype} for a TypedArray of another element type', async () => {
    const t = torch.tensor(new Int32Array([1, 2]), { dtype: torch.float64 });
    expect(t.dtype).toBe(torch.float64);
    await expectMirrorMatches(t);
    expect(await t.str()).toBe('tensor([1., 2.], dtype=torch.float64)');
  });

  it('{dtype: bool} converts numbers by truthiness, like torch', async () => {
    const data = [0.5, 256, -0.2, 0];
    const t = torch.tensor(data, { dtype: torch.bool });
    await expectSameAsPython(t, 'tensor', [data], { dtype: torch.bool });
  });

  //  - a narrower integer dtype wraps (2**31 -> -2147483648 in int32, 300 -> 44 in uint8);
  //    torch raises RuntimeError 'value cannot be converted to type int32 without overflow'.
  //    Fix: range-check against the dtype and throw torch's error at the call site.
  it('out-of-range values for an integer {dtype} raise torch\'s overflow error', async () => {
    await expectSameErrorAsPython(() => torch.tensor([2 ** 31], { dtype: torch.int32 }), 'tensor', [[2 ** 31]], { dtype: torch.int32 });
    await expectSameErrorAsPython(() => torch.tensor([300, -1], { dtype: torch.uint8 }), 'tensor', [[300, -1]], { dtype: torch.uint8 });
  });

  //  - integers outside int64 are inferred as int64 and wrapped by BigInt64Array: 1e40 -> 0,
  //    2**63 -> -9223372036854775808, 2n**64n -> 0. torch never wraps: Python gets these JS
  //    numbers as floats (msgpack) and makes float32 (inf, 9.2234e+18); a bigint out of range
  //    raises ValueError 'Overflow when unpacking long long'. Fix: infer float for numbers that
  //    are not safe integers (as the wire does), and range-check bigints.
  it('numbers beyond int64 are not silently wrapped', async () => {
    for (const v of [1e40, 2 ** 63, -(2 ** 64)]) {
      const mine = await torch.tensor([v]).tolist();
      const py = await (torch.call('tensor', [[v]]) as Tensor).tolist();
      expect(mine, String(v)).toEqual(py);
    }
    const err = thrownBy(() => torch.tensor([2n ** 63n]));
    expect(err).toBeInstanceOf(TorchError);
    expect((err as TorchError).pyMessage).toBe('Overflow when unpacking long long');
  });
});

describe('factories', () => {
  it('zeros / ones / full / eye / arange / linspace match torch (sizes as varargs or an array)', async () => {
    const cases: [Tensor, string, unknown[], Record<string, unknown>?][] = [
      [torch.zeros(2, 3), 'zeros', [2, 3]],
      [torch.zeros([2, 3]), 'zeros', [[2, 3]]],
      [torch.zeros(4, { dtype: torch.int32 }), 'zeros', [4], { dtype: torch.int32 }],
      [torch.zeros([]), 'zeros', [[]]],
      [torch.zeros(2, 0), 'zeros', [2, 0]],
      [torch.ones(3), 'ones', [3]],
      [torch.ones([2, 2], { dtype: torch.float64 }), 'ones', [[2, 2]], { dtype: torch.float64 }],
      [torch.ones(2, { dtype: torch.bool }), 'ones', [2], { dtype: torch.bool }],
      [torch.full([2, 3], 7), 'full', [[2, 3], 7]],
      [torch.full([2], 1.5), 'full', [[2], 1.5]],
      [torch.full([2], true), 'full', [[2], true]],
      [torch.full([2, 2], 3, { dtype: torch.float32 }), 'full', [[2, 2], 3], { dtype: torch.float32 }],
      [torch.eye(3), 'eye', [3]],
      [torch.eye(2, 4), 'eye', [2, 4]],
      [torch.eye(3, { dtype: torch.int64 }), 'eye', [3], { dtype: torch.int64 }],
      [torch.arange(5), 'arange', [5]],
      [torch.arange(1, 10, 3), 'arange', [1, 10, 3]],
      [torch.arange(10, 0, -3), 'arange', [10, 0, -3]],
      [torch.arange(0, 1, 0.25), 'arange', [0, 1, 0.25]],
      [torch.arange(0, 0.3, 0.1), 'arange', [0, 0.3, 0.1]],
      [torch.arange(5, { dtype: torch.float32 }), 'arange', [5], { dtype: torch.float32 }],
      [torch.arange(0, 3, { dtype: torch.float64 }), 'arange', [0, 3], { dtype: torch.float64 }],
      [torch.linspace(0, 1, 5), 'linspace', [0, 1, 5]],
      [torch.linspace(-1, 1, 4, { dtype: torch.float64 }), 'linspace', [-1, 1, 4], { dtype: torch.float64 }],
      [torch.linspace(0, 1, 0), 'linspace', [0, 1, 0]],
    ];
    for (const [t, name, args, kw] of cases) await expectSameAsPython(t, name, args, kw ?? {});
    // known values, independent of the escape hatch
    expect(await torch.arange(1, 10, 3).tolist()).toEqual([1, 4, 7]);
    expect(await torch.arange(0, 1, 0.25).tolist()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(await torch.callValue('arange', [0, 1, 0.25])).toEqual([0, 0.25, 0.5, 0.75]);
    expect(await torch.eye(2, 3).str()).toBe('tensor([[1., 0., 0.],\n        [0., 1., 0.]])');
  });

  it('empty has the right metadata', async () => {
    const cases: [Tensor, string, unknown[], Record<string, unknown>?][] = [
      [torch.empty(2, 3), 'empty', [2, 3]],
      [torch.empty([4], { dtype: torch.int16 }), 'empty', [[4]], { dtype: torch.int16 }],
    ];
    for (const [t, name, args, kw] of cases) await expectSameAsPython(t, name, args, kw ?? {}, { values: false });
  });

  it('rand / randn / randint (and the *_like forms) equal Python under the same seed', async () => {
    const a = torch.tensor([[1.5, -2, 3], [4, 5, 6]]);
    const ai = torch.tensor([[1, 2], [3, 4]]);
    const cases: [() => Tensor, string, unknown[], Record<string, unknown>?][] = [
      [() => torch.rand(2, 3), 'rand', [2, 3]],
      [() => torch.rand([4], { dtype: torch.float64 }), 'rand', [[4]], { dtype: torch.float64 }],
      [() => torch.randn(3, 2), 'randn', [3, 2]],
      [() => torch.randn([5]), 'randn', [[5]]],
      [() => torch.randint(10, [6]), 'randint', [10, [6]]],
      [() => torch.randint(2, 5, [2, 2], { dtype: torch.int32 }), 'randint', [2, 5, [2, 2]], { dtype: torch.int32 }],
      [() => torch.rand_like(a), 'rand_like', [a]],
      [() => torch.randn_like(a, { dtype: torch.float64 }), 'randn_like', [a], { dtype: torch.float64 }],
      [() => torch.randint_like(a, 10), 'randint_like', [a, 10]],
      [() => torch.randint_like(ai, 3, 8), 'randint_like', [ai, 3, 8]],
    ];
    for (const [make, name, args, kw] of cases) {
      torch.manual_seed(1234);
      const t = make();
      const predicted = mirror(t);
      torch.manual_seed(1234);
      const ref = torch.call(name, args, kw ?? {}) as Tensor;
      await ref.ready();
      expect(predicted, name).toEqual(mirror(ref));
      await expectMirrorMatches(t);
      expect(await t.str(), name).toBe(await ref.str());
    }
    // ranges
    const r = (await torch.rand(1000).tolist()) as number[];
    expect(Math.min(...r)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...r)).toBeLessThan(1);
    const ri = (await torch.randint(3, 7, [1000]).tolist()) as number[];
    expect(new Set(ri)).toEqual(new Set([3, 4, 5, 6]));
  });

  it('manual_seed(0) then randn twice gives exactly Python\'s numbers', async () => {
    torch.manual_seed(0);
    const a = await torch.randn(3).tolist();
    const b = await torch.randn(3).tolist();
    torch.manual_seed(0);
    const pa = await torch.callValue('randn', [3]);
    const pb = await torch.callValue('randn', [3]);
    expect(a).toEqual(pa);
    expect(b).toEqual(pb);
    expect(a).not.toEqual(b);
    // printed by python: torch.manual_seed(0); torch.randn(3).tolist(); torch.randn(3).tolist()
    expect(a).toEqual([1.5409960746765137, -0.293428897857666, -2.1787893772125244]);
    expect(b).toEqual([0.5684312582015991, -1.0845223665237427, -1.3985954523086548]);
  });

  it('the deterministic *_like forms match torch', async () => {
    const a = torch.tensor([[1.5, -2, 3], [4, 5, 6]]);
    const ai = torch.tensor([1, 2, 3]);
    const x = torch.tensor([0.5, 1.5], { requires_grad: true });
    const cases: [Tensor, string, unknown[], Record<string, unknown>?][] = [
      [torch.zeros_like(a), 'zeros_like', [a]],
      [torch.ones_like(ai), 'ones_like', [ai]],
      [torch.ones_like(ai, { dtype: torch.float32 }), 'ones_like', [ai], { dtype: torch.float32 }],
      [torch.full_like(a, 7), 'full_like', [a, 7]],
      [torch.full_like(ai, 2.5), 'full_like', [ai, 2.5]],
      [torch.zeros_like(x), 'zeros_like', [x]], // *_like does not inherit requires_grad
    ];
    for (const [t, name, args, kw] of cases) await expectSameAsPython(t, name, args, kw ?? {});
    await expectSameAsPython(torch.empty_like(a, { dtype: torch.float64 }), 'empty_like', [a], { dtype: torch.float64 }, { values: false });
  });

  it('knows metadata synchronously, before the runtime has seen the op', async () => {
    const t = torch.zeros(2, 3, { dtype: torch.float64 });
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe(torch.float64);
    expect(t.device).toBe('cpu');
    expect(t.requires_grad).toBe(false);
    expect(t.is_leaf).toBe(true);
    expect(t.numel()).toBe(6);
    expect(t.ndim).toBe(2);
    expect(t.size(-1)).toBe(3);
    expect(t.element_size()).toBe(8);
    await expectMirrorMatches(t);
  });

  it('factories with {requires_grad: true} make leaves', async () => {
    const a = torch.ones(2, 3);
    const made = [
      torch.zeros(2, 3, { requires_grad: true }),
      torch.ones([2], { dtype: torch.float64, requires_grad: true }),
      torch.randn(3, { requires_grad: true }),
      torch.arange(0, 3, { dtype: torch.float32, requires_grad: true }),
      torch.full([2], 1.5, { requires_grad: true }),
      torch.zeros_like(a, { requires_grad: true }),
      torch.randn_like(a, { requires_grad: true }),
    ];
    for (const t of made) {
      expect([t.requires_grad, t.is_leaf]).toEqual([true, true]);
      await expectMirrorMatches(t);
    }
  });
});

describe('ops: metadata and values match torch', () => {
  const a = () => torch.tensor([[1.5, -2, 3], [4, 5.25, -6]]);
  const b = () => torch.tensor([0.5, 2, -1]);
  const ai = () => torch.tensor([[1, 2, 3], [4, 5, 6]]);
  const pos = () => torch.tensor([0.5, 1, 2, 4]);

  it('add / sub / mul / div (function and method forms, kwargs)', async () => {
    const A = a();
    const B = b();
    const AI = ai();
    const cases: [Tensor, string, unknown[], Record<string, unknown>?][] = [
      [torch.add(A, B), 'add', [A, B]],
      [A.add(B), 'Tensor.add', [A, B]],
      [torch.add(A, B, { alpha: 2 }), 'add', [A, B], { alpha: 2 }],
      [A.add(B, { alpha: 0.5 }), 'Tensor.add', [A, B], { alpha: 0.5 }],
      [AI.add(3, { alpha: 2 }), 'Tensor.add', [AI, 3], { alpha: 2 }],
      [torch.sub(A, B), 'sub', [A, B]],
      [A.sub(1, { alpha: 3 }), 'Tensor.sub', [A, 1], { alpha: 3 }],
      [torch.sub(AI, B), 'sub', [AI, B]],
      [torch.mul(A, 2), 'mul', [A, 2]],
      [AI.mul(B), 'Tensor.mul', [AI, B]],
      [AI.mul(true), 'Tensor.mul', [AI, true]],
      [torch.div(A, B), 'div', [A, B]],
      [AI.div(4), 'Tensor.div', [AI, 4]],
      [AI.div(4, { rounding_mode: 'floor' }), 'Tensor.div', [AI, 4], { rounding_mode: 'floor' }],
      [torch.div(A, B, { rounding_mode: 'trunc' }), 'div', [A, B], { rounding_mode: 'trunc' }],
      [torch.div(AI.neg(), 4, { rounding_mode: 'trunc' }), 'div', [AI.neg(), 4], { rounding_mode: 'trunc' }],
      [torch.div(AI, 4, { rounding_mode: null }), 'div', [AI, 4], { rounding_mode: null }],
    ];
    for (const [t, name, args, kw] of cases) await expectSameAsPython(t, name, args, kw ?? {});
  });

  it('neg / pow / exp / log', async () => {
    const A = a();
    const AI = ai();
    const P = pos();
    const cases: [Tensor, string, unknown[], Record<string, unknown>?][] = [
      [torch.neg(AI), 'neg', [AI]],
      [A.neg(), 'Tensor.neg', [A]],
      [torch.pow(A, 2), 'pow', [A, 2]],
      [AI.pow(2), 'Tensor.pow', [AI, 2]],
      [AI.pow(0.5), 'Tensor.pow', [AI, 0.5]],
      [torch.pow(2, A), 'pow', [2, A]],
      [torch.pow(P, P), 'pow', [P, P]],
      [torch.exp(AI), 'exp', [AI]],
      [A.exp(), 'Tensor.exp', [A]],
      [torch.log(P), 'log', [P]],
      [P.log(), 'Tensor.log', [P]],
      [torch.log(AI), 'log', [AI]],
    ];
    for (const [t, name, args, kw] of cases) await expectSameAsPython(t, name, args, kw ?? {});
  });

  it('matmul in every rank combination', async () => {
    torch.manual_seed(7);
    const m23 = torch.randn(2, 3);
    const m34 = torch.randn(3, 4);
    const v3 = torch.randn(3);
    const b423 = torch.randn(4, 2, 3);
    const b135 = torch.randn(1, 3, 5);
    const cases: [Tensor, string, unknown[]][] = [
      [torch.matmul(m23, m34), 'matmul', [m23, m34]],
      [m23.matmul(v3), 'Tensor.matmul', [m23, v3]],
      [v3.matmul(m34), 'Tensor.matmul', [v3, m34]],
      [torch.matmul(v3, v3), 'matmul', [v3, v3]],
      [b423.matmul(m34), 'Tensor.matmul', [b423, m34]],
      [torch.matmul(b423, b135), 'matmul', [b423, b135]],
      [torch.matmul(v3, b135), 'matmul', [v3, b135]],
      [torch.matmul(m23, m23.transpose(0, 1)), 'matmul', [m23, m23.transpose(0, 1)]],
    ];
    for (const [t, name, args] of cases) await expectSameAsPython(t, name, args);
    expect(torch.matmul(b423, b135).shape).toEqual([4, 2, 5]);
  });

  it('sum / mean with dim, keepdim and dtype', async () => {
    const A = a();
    const AI = ai();
    const BOOL = torch.tensor([[true, false, true], [true, true, false]]);
    const cases: [Tensor, string, unknown[], Record<string, unknown>?][] = [
      [torch.sum(A), 'sum', [A]],
      [A.sum(1), 'Tensor.sum', [A, 1]],
      [A.sum(0, true), 'Tensor.sum', [A, 0, true]],
      [torch.sum(A, -1, { keepdim: true }), 'sum', [A, -1], { keepdim: true }],
      [torch.sum(A, { dim: [0, 1], keepdim: true }), 'sum', [A], { dim: [0, 1], keepdim: true }],
      [A.sum([1, 0]), 'Tensor.sum', [A, [1, 0]]],
      [A.sum(1, { dtype: torch.float64 }), 'Tensor.sum', [A, 1], { dtype: torch.float64 }],
      [AI.sum(), 'Tensor.sum', [AI]],
      [torch.sum(AI, 0, { dtype: torch.int32 }), 'sum', [AI, 0], { dtype: torch.int32 }],
      [BOOL.sum(1), 'Tensor.sum', [BOOL, 1]],
      [torch.sum(torch.tensor(2.5)), 'sum', [torch.tensor(2.5)]],
      [A.mean(), 'Tensor.mean', [A]],
      [torch.mean(A, 0), 'mean', [A, 0]],
      [A.mean([0, 1], true), 'Tensor.mean', [A, [0, 1], true]],
      [torch.mean(A, { dim: -1, keepdim: true }), 'mean', [A], { dim: -1, keepdim: true }],
      [AI.mean({ dtype: torch.float64 }), 'Tensor.mean', [AI], { dtype: torch.float64 }],
      [AI.mean(1, { dtype: torch.float32 }), 'Tensor.mean', [AI, 1], { dtype: torch.float32 }],
    ];
    for (const [t, name, args, kw] of cases) await expectSameAsPython(t, name, args, kw ?? {});
  });

  it('reshape / transpose / clone / detach / contiguous', async () => {
    const A = a();
    const T3 = torch.arange(24).reshape(2, 3, 4);
    const cases: [Tensor, string, unknown[], Record<string, unknown>?][] = [
      [A.reshape(3, 2), 'Tensor.reshape', [A, 3, 2]],
      [A.reshape([-1]), 'Tensor.reshape', [A, [-1]]],
      [torch.reshape(A, [3, -1]), 'reshape', [A, [3, -1]]],
      [torch.reshape(A, [1, 6, 1]), 'reshape', [A, [1, 6, 1]]],
      [torch.tensor(4).reshape(1, 1), 'Tensor.reshape', [torch.tensor(4), 1, 1]],
      [torch.transpose(A, 0, 1), 'transpose', [A, 0, 1]],
      [T3.transpose(-1, 0), 'Tensor.transpose', [T3, -1, 0]],
      [T3.transpose(1, 1), 'Tensor.transpose', [T3, 1, 1]],
      [torch.clone(A), 'clone', [A]],
      [A.clone(), 'Tensor.clone', [A]],
      [torch.detach(A), 'detach', [A]],
      [A.detach(), 'Tensor.detach', [A]],
      [A.contiguous(), 'Tensor.contiguous', [A]],
      [T3.transpose(0, 2).contiguous(), 'Tensor.contiguous', [T3.transpose(0, 2)]],
    ];
    for (const [t, name, args, kw] of cases) await expectSameAsPython(t, name, args, kw ?? {});
  });

  it('to(dtype) / to(device) / to(other) / to({dtype}) / to(device, dtype)', async () => {
    const A = a();
    const AI = ai();
    const I32 = torch.tensor(new Int32Array([1, 2]));
    const cases: [Tensor, string, unknown[], Record<string, unknown>?][] = [
      [A.to(torch.float64), 'Tensor.to', [A, torch.float64]],
      [A.to(torch.int32), 'Tensor.to', [A, torch.int32]],
      [AI.to(torch.float16), 'Tensor.to', [AI, torch.float16]],
      [A.to(torch.bfloat16), 'Tensor.to', [A, torch.bfloat16]],
      [A.to(torch.bool), 'Tensor.to', [A, torch.bool]],
      [A.to('cpu'), 'Tensor.to', [A, 'cpu']],
      [A.to(I32), 'Tensor.to', [A, I32]],
      [A.to({ dtype: torch.int64 }), 'Tensor.to', [A], { dtype: torch.int64 }],
      [A.to('cpu', torch.float64), 'Tensor.to', [A, 'cpu', torch.float64]],
      [A.to(torch.float32, { copy: true }), 'Tensor.to', [A, torch.float32], { copy: true }],
      [A.to(torch.complex64), 'Tensor.to', [A, torch.complex64]],
    ];
    for (const [t, name, args, kw] of cases) await expectSameAsPython(t, name, args, kw ?? {});
  });

  it('type promotion', async () => {
    const AI = ai();
    const I32 = torch.tensor(new Int32Array([1, 2, 3]));
    const F32 = torch.tensor([1.5, 2.5, 3.5]);
    const D0 = torch.tensor(2.5, { dtype: torch.float64 });
    const B = torch.tensor([true, false, true]);
    const U8 = torch.tensor(new Uint8Array([250, 3, 4]));
    const I8 = torch.tensor(new Int8Array([-1, 2, 3]));
    const I0 = torch.tensor(7); // 0-dim int64
    const cases: [Tensor, string, unknown[], string][] = [
      [AI.add(2.5), 'add', [AI, 2.5], 'float32'], // int tensor + float scalar
      [I32.add(AI), 'add', [I32, AI], 'int64'], // int32 + int64
      [D0.add(F32), 'add', [D0, F32], 'float32'], // 0-dim float64 + dimensioned float32
      [F32.mul(D0), 'mul', [F32, D0], 'float32'],
      [I32.add(D0), 'add', [I32, D0], 'float64'], // higher category from a 0-dim tensor wins
      [I32.mul(I0), 'mul', [I32, I0], 'int32'], // same category: dimensioned wins
      [B.add(B), 'add', [B, B], 'bool'], // bool + bool
      [B.add(1), 'add', [B, 1], 'int64'],
      [B.mul(2.5), 'mul', [B, 2.5], 'float32'],
      [AI.div(2), 'div', [AI, 2], 'float32'], // int / int -> float
      [I32.div(I32), 'div', [I32, I32], 'float32'],
      [U8.add(I8), 'add', [U8, I8], 'int16'],
      [U8.add(300), 'add', [U8, 300], 'uint8'],
      [I32.add(true), 'add', [I32, true], 'int32'],
      [F32.to(torch.float16).add(F32.to(torch.bfloat16)), 'add', [F32.to(torch.float16), F32.to(torch.bfloat16)], 'float32'],
      [F32.to(torch.float16).add(D0), 'add', [F32.to(torch.float16), D0], 'float16'],
      [F32.add(F32.to(torch.complex64)), 'add', [F32, F32.to(torch.complex64)], 'complex64'],
      [torch.tensor([1.5], { dtype: torch.float64 }).add(F32.to(torch.complex64)), 'add', [torch.tensor([1.5], { dtype: torch.float64 }), F32.to(torch.complex64)], 'complex128'],
    ];
    for (const [t, name, args, dtype] of cases) {
      expect(t.dtype.name, `${name} -> ${dtype}`).toBe(dtype);
      // torch.result_type agrees for binary ops (div promotes ints to float on top of it)
      if (name !== 'div') expect(await torch.callValue('result_type', args)).toBe(t.dtype);
      await expectSameAsPython(t, name, args);
    }
  });

  it('broadcasting', async () => {
    const x = torch.arange(6).reshape(2, 3, 1);
    const y = torch.tensor([10, 20, 30, 40]);
    const z = torch.ones(1, 1, 4, { dtype: torch.float64 });
    const cases: [Tensor, string, unknown[]][] = [
      [x.add(y), 'add', [x, y]],
      [torch.mul(x, z), 'mul', [x, z]],
      [torch.sub(y, x), 'sub', [y, x]],
      [torch.div(torch.ones(3, 1), torch.ones(1, 3)), 'div', [torch.ones(3, 1), torch.ones(1, 3)]],
      [torch.add(torch.tensor(1.5), torch.zeros(0, 3)), 'add', [torch.tensor(1.5), torch.zeros(0, 3)]],
    ];
    for (const [t, name, args] of cases) await expectSameAsPython(t, name, args);
    expect(x.add(y).shape).toEqual([2, 3, 4]);
  });

  it('requires_grad / is_leaf propagation', async () => {
    const x = torch.tensor([0.5, -1.25, 2], { requires_grad: true });
    expect([x.requires_grad, x.is_leaf]).toEqual([true, true]);
    await expectMirrorMatches(x);

    const y = x.mul(2);
    expect([y.requires_grad, y.is_leaf]).toEqual([true, false]);
    await expectSameAsPython(y, 'mul', [x, 2]);

    for (const t of [x.add(1).sum(), x.exp().log(), x.reshape(3, 1).transpose(0, 1), x.clone(), x.to(torch.float64), x.div(x)]) {
      expect([t.requires_grad, t.is_leaf]).toEqual([true, false]);
      await expectMirrorMatches(t);
    }

    const ng = torch.no_grad(() => x.mul(2));
    expect([ng.requires_grad, ng.is_leaf]).toEqual([false, true]);
    await expectMirrorMatches(ng);
    {
      const guard = torch.no_grad();
      const g2 = x.add(x);
      guard.restore();
      expect([g2.requires_grad, g2.is_leaf]).toEqual([false, true]);
      await expectMirrorMatches(g2);
    }
    expect(torch.is_grad_enabled()).toBe(true);

    const d = x.detach();
    expect([d.requires_grad, d.is_leaf]).toEqual([false, true]);
    await expectMirrorMatches(d);
    const d2 = y.detach();
    expect([d2.requires_grad, d2.is_leaf]).toEqual([false, true]);
    await expectMirrorMatches(d2);

    // integer results never require grad
    const asInt = x.to(torch.int64);
    expect([asInt.requires_grad, asInt.is_leaf]).toEqual([false, true]);
    await expectMirrorMatches(asInt);

    // a no-op to() and contiguous() return x itself: a leaf that requires grad
    for (const t of [x.to(torch.float32), x.to('cpu'), x.contiguous()]) {
      expect([t.requires_grad, t.is_leaf]).toEqual([true, true]);
      await expectMirrorMatches(t);
    }
    // factories ignore the grad of their inputs
    const zl = torch.zeros_like(x);
    expect([zl.requires_grad, zl.is_leaf]).toEqual([false, true]);
    await expectMirrorMatches(zl);
  });

  it('contiguous() of a non-contiguous leaf that requires grad is not a leaf', async () => {
    const x = torch.randn(3, 2).transpose(0, 1).call('requires_grad_') as Tensor;
    await x.ready();
    expect([x.requires_grad, x.is_leaf]).toEqual([true, true]);
    const c = x.contiguous();
    await expectMirrorMatches(c);
  });
});

describe('errors at the call site', () => {
  it('shape mismatch in a pointwise op: torch\'s message, thrown synchronously', async () => {
    const x = torch.ones(2, 3);
    const y = torch.ones(4);
    const err = await expectSameErrorAsPython(() => x.add(y), 'add', [x, y]);
    expect(err.pyType).toBe('RuntimeError');
    expect(err.pyMessage).toBe('The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1');
    await expectSameErrorAsPython(() => torch.mul(torch.ones(2, 1, 3), torch.ones(5, 2)), 'mul', [torch.ones(2, 1, 3), torch.ones(5, 2)]);
    // nothing was queued: the runtime is fine afterwards
    await torch.sync();
  });

  it('matmul shape mismatch', async () => {
    const m23 = torch.ones(2, 3);
    const m45 = torch.ones(4, 5);
    const v4 = torch.ones(4);
    const v3 = torch.ones(3);
    await expectSameErrorAsPython(() => m23.matmul(m45), 'matmul', [m23, m45]);
    expect(thrownBy(() => m23.matmul(m45)).message).toBe('RuntimeError: mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)');
    await expectSameErrorAsPython(() => torch.matmul(v3, v4), 'matmul', [v3, v4]);
    await expectSameErrorAsPython(() => torch.matmul(v4, m23), 'matmul', [v4, m23]);
    await expectSameErrorAsPython(() => torch.matmul(torch.ones(2), torch.tensor(1.5)), 'matmul', [torch.ones(2), torch.tensor(1.5)]);
    const b423 = torch.ones(4, 2, 3);
    const b445 = torch.ones(4, 4, 5);
    const b535 = torch.ones(5, 3, 5);
    await expectSameErrorAsPython(() => b423.matmul(b445), 'matmul', [b423, b445]);
    await expectSameErrorAsPython(() => b423.matmul(b535), 'matmul', [b423, b535]);
    const d = torch.ones(3, 3, { dtype: torch.float64 });
    await expectSameErrorAsPython(() => torch.matmul(torch.ones(3, 3), d), 'matmul', [torch.ones(3, 3), d]);
  });

  it('matmul mismatch of a matrix (or batch) with a vector: torch\'s mv message', async () => {
    const m23 = torch.ones(2, 3);
    const v4 = torch.ones(4);
    await expectSameErrorAsPython(() => torch.matmul(m23, v4), 'matmul', [m23, v4]);
    const b235 = torch.ones(2, 3, 5);
    await expectSameErrorAsPython(() => torch.matmul(b235, v4), 'matmul', [b235, v4]);
  });

  it('matmul mismatch of a batch with a matrix, and a vector with a batch: torch\'s message', async () => {
    const b423 = torch.ones(4, 2, 3);
    const m45 = torch.ones(4, 5);
    await expectSameErrorAsPython(() => torch.matmul(b423, m45), 'matmul', [b423, m45]);
    const v4 = torch.ones(4);
    const b235 = torch.ones(2, 3, 5);
    await expectSameErrorAsPython(() => torch.matmul(v4, b235), 'matmul', [v4, b235]);
  });

  it('matmul dtype mismatch: torch\'s message', async () => {
    const i = torch.ones(3, 3, { dtype: torch.int64 });
    await expectSameErrorAsPython(() => torch.matmul(torch.ones(3, 3), i), 'matmul', [torch.ones(3, 3), i]);
  });

  it('reshape to an invalid size', async () => {
    const x = torch.ones(2, 3);
    await expectSameErrorAsPython(() => x.reshape(4, 2), 'reshape', [x, [4, 2]]);
    await expectSameErrorAsPython(() => x.reshape(-1, 4), 'reshape', [x, [-1, 4]]);
    await expectSameErrorAsPython(() => torch.reshape(x, [-1, -1]), 'reshape', [x, [-1, -1]]);
    await expectSameErrorAsPython(() => x.reshape(-2, 3), 'reshape', [x, [-2, 3]]);
  });

  it('reshape of an empty tensor with an ambiguous -1: torch\'s message', async () => {
    const e = torch.ones(0);
    await expectSameErrorAsPython(() => e.reshape(-1, 0), 'reshape', [e, [-1, 0]]);
  });

  it('dim out of range', async () => {
    const x = torch.ones(2, 3);
    const err = await expectSameErrorAsPython(() => x.sum(2), 'sum', [x, 2]);
    expect(err.pyType).toBe('IndexError');
    await expectSameErrorAsPython(() => torch.mean(x, -3), 'mean', [x, -3]);
    await expectSameErrorAsPython(() => x.transpose(0, 5), 'transpose', [x, 0, 5]);
    await expectSameErrorAsPython(() => torch.sum(x, [0, 0]), 'sum', [x, [0, 0]]);
  });

  it('negative sizes in factories (ones / empty / randn / full)', async () => {
    await expectSameErrorAsPython(() => torch.ones(2, -3), 'ones', [2, -3]);
    await expectSameErrorAsPython(() => torch.empty([-1]), 'empty', [[-1]]);
    await expectSameErrorAsPython(() => torch.randn(-2), 'randn', [-2]);
    await expectSameErrorAsPython(() => torch.full([-1], 1), 'full', [[-1], 1]);
  });

  it('negative size in zeros: torch\'s own message', async () => {
    const err = await expectSameErrorAsPython(() => torch.zeros(2, -3), 'zeros', [2, -3]);
    expect(err.pyMessage).toBe('zeros: Dimension size must be non-negative.');
    await expectSameErrorAsPython(() => torch.zeros([-1]), 'zeros', [[-1]]);
  });

  it('invalid arange / linspace / eye / randint arguments', async () => {
    await expectSameErrorAsPython(() => torch.arange(0, 5, 0), 'arange', [0, 5, 0]);
    await expectSameErrorAsPython(() => torch.linspace(0, 1, -1), 'linspace', [0, 1, -1]);
    await expectSameErrorAsPython(() => torch.eye(-1), 'eye', [-1]);
    await expectSameErrorAsPython(() => torch.randint(5, 5, [2]), 'randint', [5, 5, [2]]);
  });

  it('arange with a step of the wrong sign: torch\'s message', async () => {
    await expectSameErrorAsPython(() => torch.arange(5, 0, 1), 'arange', [5, 0, 1]);
  });

  it('dtype rules torch enforces', async () => {
    const b = torch.tensor([true, false]);
    const i = torch.tensor([1, 2]);
    await expectSameErrorAsPython(() => b.sub(b), 'sub', [b, b]);
    await expectSameErrorAsPython(() => b.neg(), 'neg', [b]);
    await expectSameErrorAsPython(() => i.mean(), 'mean', [i]);
    await expectSameErrorAsPython(() => i.pow(-1), 'pow', [i, -1]);
    await expectSameErrorAsPython(() => i.add(1, { alpha: 0.5 }), 'add', [i, 1], { alpha: 0.5 });
    await expectSameErrorAsPython(() => i.sub(1, { alpha: 0.5 }), 'sub', [i, 1], { alpha: 0.5 });
    await expectSameErrorAsPython(() => torch.mean(i, { dtype: torch.int64 }), 'mean', [i], { dtype: torch.int64 });
    await expectSameErrorAsPython(
      () => torch.zeros(2, { dtype: torch.int64, requires_grad: true }),
      'zeros',
      [2],
      { dtype: torch.int64, requires_grad: true },
    );
  });

  it('add/sub alpha checks follow torch', async () => {
    const b = torch.tensor([true, false]);
    const i = torch.tensor([1, 2]);
    const f = torch.tensor([1.5, 2]);
    await expectSameAsPython(torch.add(b, b, { alpha: 2 }), 'add', [b, b], { alpha: 2 });
    await expectSameErrorAsPython(() => torch.add(i, 1, { alpha: true }), 'add', [i, 1], { alpha: true });
    await expectSameErrorAsPython(() => torch.sub(f, 1, { alpha: true }), 'sub', [f, 1], { alpha: true });
    await expectSameErrorAsPython(() => torch.add(b, b, { alpha: 0.5 }), 'add', [b, b], { alpha: 0.5 });
  });

  it('div with an unknown rounding_mode: torch\'s RuntimeError', async () => {
    const i = torch.tensor([1, 2]);
    await expectSameErrorAsPython(() => i.div(2, { rounding_mode: 'round' as never }), 'div', [i, 2], { rounding_mode: 'round' });
  });

  it('wrong argument types and unknown keywords throw ArgumentError synchronously', () => {
    const x = torch.ones(2, 3);
    const cases: (() => unknown)[] = [
      () => torch.add(x, 'a' as never),
      () => (torch.add as (...a: unknown[]) => unknown)(x),
      () => (torch.add as (...a: unknown[]) => unknown)(x, x, x),
      () => x.add(x, { alpha: 'two' } as never),
      () => x.reshape('a' as never),
      () => x.reshape(2.5, 2),
      () => torch.zeros('3' as never),
      () => x.sum(1.5),
      () => (x.transpose as (this: Tensor, ...a: unknown[]) => unknown).call(x, 0),
      () => x.sum({ keepdim: 1 } as never),
      () => torch.sum(x, { foo: 1 } as never),
      () => x.add(x, { beta: 1 } as never),
      () => torch.ones(2, { dtyp: torch.float32 } as never),
      () => x.to(42 as never),
      () => x.to({ dtype: 'float32' } as never),
      () => torch.tensor([{}] as never),
      () => torch.call('not a name!', [x]),
      () => torch.call('__class__', [x]),
    ];
    for (const fn of cases) {
      const err = thrownBy(fn);
      expect(err, fn.toString()).toBeInstanceOf(ArgumentError);
    }
    expect(thrownBy(() => torch.sum(x, { foo: 1 } as never)).message).toBe("sum() got an unexpected keyword argument 'foo'");
  });

  it('an error only the runtime finds surfaces at the next sync point as a TorchError', async () => {
    const x = torch.ones(2);
    const bad = torch.call('nn.functional.softmax', [x], { dim: 3 }) as Tensor;
    const err = await bad.ready().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TorchError);
    const py = await pythonError('nn.functional.softmax', [x], { dim: 3 });
    expect((err as TorchError).pyMessage).toBe(py.pyMessage);
    expect((err as TorchError).pyType).toBe('IndexError');
    await torch.sync().catch(() => undefined); // anything left unreported
    expect(await torch.ones(1).item()).toBe(1); // the session goes on
  });
});

describe('escape hatch', () => {
  it('torch.call gives a tensor whose metadata is pending until ready()', async () => {
    const x = torch.tensor([[-1, 0.5], [2, -3]]);
    const g = torch.call('nn.functional.gelu', [x]) as Tensor;
    expect(() => g.shape).toThrow(PendingMetadataError);
    expect(() => g.dtype).toThrow(PendingMetadataError);
    expect(thrownBy(() => g.shape).message).toMatch(/await t\.ready\(\)/);
    expect(String(g)).toBe('Tensor(pending)');
    expect(await g.ready()).toBe(g);
    expect(g.shape).toEqual([2, 2]);
    expect(g.dtype).toBe(torch.float32);
    await expectMirrorMatches(g);
    expect(await g.tolist()).toEqual(await torch.callValue('nn.functional.gelu', [x]));
    // ops on it are mirrored once known, and queue fine while it is still pending
    const p = torch.call('nn.functional.relu', [x]) as Tensor;
    const q = p.add(1); // pending input -> pending output
    expect(() => q.shape).toThrow(PendingMetadataError);
    await q.ready();
    expect(await q.tolist()).toEqual([[1, 1.5], [3, 1]]);
  });

  it('{outputs: 2}: torch.max(x, 1) gives values and indices', async () => {
    const x = torch.tensor([[1, 5, 3], [7, 2, 9]]);
    const outs = torch.call('max', [x, 1], {}, { outputs: 2 }) as Tensor[];
    expect(outs).toHaveLength(2);
    const [values, indices] = outs as [Tensor, Tensor];
    await values.ready();
    await indices.ready();
    expect(values.shape).toEqual([2]);
    expect(indices.dtype).toBe(torch.int64);
    await expectMirrorMatches(values);
    await expectMirrorMatches(indices);
    expect([await values.tolist(), await indices.tolist()]).toEqual(await torch.callValue('max', [x, 1]));
    expect([await values.tolist(), await indices.tolist()]).toEqual([[5, 9], [1, 2]]);
  });

  it('t.call(method) and torch.callValue', async () => {
    const x = torch.tensor([1, 2, 3], { dtype: torch.float64 });
    const s = x.call('softmax', [0]) as Tensor;
    await s.ready();
    expect(s.dtype).toBe(torch.float64);
    await expectMirrorMatches(s);
    expect(await s.tolist()).toEqual(await torch.callValue('softmax', [x, 0]));
    const total = ((await s.tolist()) as number[]).reduce((p, v) => p + v, 0);
    expect(total).toBeCloseTo(1, 12);

    expect(await torch.callValue('is_tensor', [x])).toBe(true);
    expect(await torch.callValue('numel', [torch.ones(3, 4)])).toBe(12);
    expect(await torch.callValue('is_floating_point', [torch.tensor([1])])).toBe(false);
    expect(await torch.callValue('promote_types', [torch.int32, torch.float16])).toBe(torch.float16);
    expect(await torch.callValue('Tensor.tolist', [torch.tensor([[1, 2]])])).toEqual([[1, 2]]);

    // a non-tensor result through torch.call is an error that points at callValue
    const n = torch.call('numel', [x]) as Tensor;
    const err = await n.ready().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TorchError);
    expect((err as Error).message).toMatch(/callValue/);
  });
});

describe('runtime threads', () => {
  it('set_num_threads is queued in order and get_num_threads reads it back', async () => {
    const before = await torch.get_num_threads();
    torch.set_num_threads(1);
    expect(await torch.get_num_threads()).toBe(1);
    torch.set_num_threads(before);
    expect(await torch.get_num_threads()).toBe(before);
    expect(() => torch.set_num_threads(0)).toThrow("argument 'nthreads' must be a positive int");
  });
});
