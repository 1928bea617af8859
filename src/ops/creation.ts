/** Factories: zeros/ones/full/empty, arange/linspace/eye, random, *_like, manual_seed. */
import { defineOp, invoke, type OutSpec } from './dispatch.js';
import type { Bound } from './signature.js';
import { splitArgs } from './signature.js';
import type { Tensor } from '../tensor/tensor.js';
import { DType, bool, get_default_dtype, int64 } from '../tensor/dtype.js';
import { normalizeDevice } from '../tensor/device.js';
import { ArgumentError, torchError } from '../errors.js';
import { currentSession } from '../session/current.js';
import { isPyInt } from '../mirror/promotion.js';

function checkSizes(size: number[], op: string): number[] {
  for (const s of size) {
    if (s >= 0) continue;
    // torch.zeros checks sizes in its own kernel, with its own words
    if (op === 'zeros') throw torchError('RuntimeError', 'zeros: Dimension size must be non-negative.', op);
    throw torchError('RuntimeError', `Trying to create tensor with negative dimension ${s}: [${size.join(', ')}]`, op);
  }
  return size;
}

function checkRequiresGrad(a: Bound, dtype: DType, op: string): boolean {
  const rg = a.requires_grad === true;
  if (rg && dtype.category !== 'float' && dtype.category !== 'complex') {
    throw torchError('RuntimeError', 'Only Tensors of floating point and complex dtype can require gradients', op);
  }
  return rg;
}

function deviceOf(a: Bound, fallback = 'cpu'): string {
  return a.device ? normalizeDevice(a.device as string) : fallback;
}

function factory(a: Bound, op: string, shape: number[], dtype: DType, device = deviceOf(a)): OutSpec {
  return { shape: checkSizes(shape, op), dtype, device, requires_grad: checkRequiresGrad(a, dtype, op) };
}

const FACTORY_KW = 'dtype? dtype=None, any layout=None, device? device=None, bool pin_memory=False, bool requires_grad=False';

const sized = (name: string, defaultDtype?: () => DType) =>
  defineOp(`${name}(int... size, *, any generator=None, any memory_format=None, ${FACTORY_KW})`, (a, op) =>
    factory(a, op, a.size as number[], (a.dtype as DType | undefined) ?? (defaultDtype ?? get_default_dtype)()),
  );

const defs = {
  zeros: sized('zeros'),
  ones: sized('ones'),
  empty: sized('empty'),
  rand: sized('rand'),
  randn: sized('randn'),
  full: defineOp(`full(int[] size, Scalar fill_value, *, ${FACTORY_KW})`, (a, op) => {
    const fill = a.fill_value as number | boolean | bigint;
    const inferred = typeof fill === 'boolean' ? bool : typeof fill === 'bigint' || isPyInt(fill) ? int64 : get_default_dtype();
    return factory(a, op, a.size as number[], (a.dtype as DType | undefined) ?? inferred);
  }),
  arange: defineOp(`arange(Scalar start, Scalar end=None, Scalar step=1, *, ${FACTORY_KW})`, (a, op) => {
    const [start, end] = a.end === undefined ? [0, Number(a.start)] : [Number(a.start), Number(a.end)];
    const step = Number(a.step ?? 1);
    if (step === 0) throw torchError('RuntimeError', 'step must be nonzero', op);
    if ((step > 0 && end < start) || (step < 0 && end > start)) {
      throw torchError('RuntimeError', 'upper bound and lower bound inconsistent with step sign', op);
    }
    const allInts = [a.start, a.end, a.step].every((v) => v === undefined || typeof v === 'bigint' || isPyInt(v as number));
    const dtype = (a.dtype as DType | undefined) ?? (allInts ? int64 : get_default_dtype());
    return factory(a, op, [Math.ceil((end - start) / step)], dtype);
  }),
  linspace: defineOp(`linspace(Scalar start, Scalar end, int steps, *, ${FACTORY_KW})`, (a, op) => {
    if ((a.steps as number) < 0) throw torchError('RuntimeError', 'number of steps must be non-negative', op);
    return factory(a, op, [a.steps as number], (a.dtype as DType | undefined) ?? get_default_dtype());
  }),
  eye: defineOp(`eye(int n, int m=None, *, ${FACTORY_KW})`, (a, op) => {
    const n = a.n as number;
    const m = (a.m as number | undefined) ?? n;
    if (n < 0) throw torchError('RuntimeError', `n must be greater or equal to 0, got ${n}`, op);
    if (m < 0) throw torchError('RuntimeError', `m must be greater or equal to 0, got ${m}`, op);
    return factory(a, op, [n, m], (a.dtype as DType | undefined) ?? get_default_dtype());
  }),
  // randint(high, size) or randint(low, high, size): bound by position count below
  randint: defineOp(`randint(int low, int high, int[] size, *, any generator=None, ${FACTORY_KW})`, (a, op) => {
    if ((a.low as number) >= (a.high as number)) {
      throw torchError('RuntimeError', `random_ expects 'from' to be less than 'to', but got from=${a.low} >= to=${a.high}`, op);
    }
    return factory(a, op, a.size as number[], (a.dtype as DType | undefined) ?? int64);
  }),
};

const like = (name: string, extra = '') =>
  defineOp(`${name}(Tensor input${extra}, *, any memory_format=None, ${FACTORY_KW})`, (a, op) => {
    const x = a.input as Tensor;
    const dtype = (a.dtype as DType | undefined) ?? x.dtype;
    return factory(a, op, [...x.shape], dtype, deviceOf(a, x.device));
  });

const likeDefs = {
  zeros_like: like('zeros_like'),
  ones_like: like('ones_like'),
  empty_like: like('empty_like'),
  rand_like: like('rand_like'),
  randn_like: like('randn_like'),
  full_like: like('full_like', ', Scalar fill_value'),
  randint_like: like('randint_like', ', int low, int high=None'),
};

type SizeArgs = (number | number[] | Record<string, unknown>)[];

export const zeros = (...args: SizeArgs): Tensor => invoke(defs.zeros, args) as Tensor;
export const ones = (...args: SizeArgs): Tensor => invoke(defs.ones, args) as Tensor;
export const empty = (...args: SizeArgs): Tensor => invoke(defs.empty, args) as Tensor;
export const rand = (...args: SizeArgs): Tensor => invoke(defs.rand, args) as Tensor;
export const randn = (...args: SizeArgs): Tensor => invoke(defs.randn, args) as Tensor;
export const full = (size: number[], fill_value: number | boolean | bigint, kwargs?: Record<string, unknown>): Tensor =>
  invoke(defs.full, kwargs ? [size, fill_value, kwargs] : [size, fill_value]) as Tensor;
export const arange = (...args: (number | Record<string, unknown>)[]): Tensor => invoke(defs.arange, args) as Tensor;
export const linspace = (start: number, end: number, steps: number, kwargs?: Record<string, unknown>): Tensor =>
  invoke(defs.linspace, kwargs ? [start, end, steps, kwargs] : [start, end, steps]) as Tensor;
export const eye = (...args: (number | Record<string, unknown>)[]): Tensor => invoke(defs.eye, args) as Tensor;

/** torch.randint(high, size) or torch.randint(low, high, size), then optional kwargs. */
export function randint(...args: (number | number[] | Record<string, unknown>)[]): Tensor {
  const { pos, kw } = splitArgs(args);
  const full = pos.length === 2 ? [0, ...pos] : pos; // Python's randint(high, size) means low=0
  return invoke(defs.randint, kw ? [...full, kw] : full) as Tensor;
}

export const zeros_like = (input: Tensor, kwargs?: Record<string, unknown>): Tensor => invokeLike(likeDefs.zeros_like, [input], kwargs);
export const ones_like = (input: Tensor, kwargs?: Record<string, unknown>): Tensor => invokeLike(likeDefs.ones_like, [input], kwargs);
export const empty_like = (input: Tensor, kwargs?: Record<string, unknown>): Tensor => invokeLike(likeDefs.empty_like, [input], kwargs);
export const rand_like = (input: Tensor, kwargs?: Record<string, unknown>): Tensor => invokeLike(likeDefs.rand_like, [input], kwargs);
export const randn_like = (input: Tensor, kwargs?: Record<string, unknown>): Tensor => invokeLike(likeDefs.randn_like, [input], kwargs);
export const full_like = (input: Tensor, fill_value: number | boolean, kwargs?: Record<string, unknown>): Tensor =>
  invokeLike(likeDefs.full_like, [input, fill_value], kwargs);
/** torch.randint_like(input, high) or (input, low, high). */
export const randint_like = (input: Tensor, ...args: (number | Record<string, unknown>)[]): Tensor => {
  const { pos, kw } = splitArgs(args);
  return invokeLike(likeDefs.randint_like, [input, ...pos], kw);
};

function invokeLike(def: typeof likeDefs.zeros_like, pos: unknown[], kw?: Record<string, unknown>): Tensor {
  return invoke(def, kw ? [...pos, kw] : pos) as Tensor;
}

/** torch.manual_seed: seeds the runtime's generators (CPU and CUDA). */
export function manual_seed(seed: number | bigint): void {
  if (typeof seed !== 'bigint' && !Number.isInteger(seed)) throw new ArgumentError(`manual_seed(): seed must be an int, not ${seed}`);
  currentSession().call(null, 'manual_seed', [seed], null);
}
