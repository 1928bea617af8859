/** Factories: torch.tensor, zeros/ones/full/empty, arange/linspace/eye, random, *_like. */
import { defineOp, invoke, type OutSpec } from './dispatch.js';
import type { Bound } from './signature.js';
import { bind, splitArgs } from './signature.js';
import type { TensorData } from '../tensor/data.js';
import { Tensor, newTensor } from '../tensor/tensor.js';
import { DType, bool, float64, get_default_dtype, int64, dtypeOfArray } from '../tensor/dtype.js';
import { normalizeDevice } from '../tensor/device.js';
import { ArgumentError, torchError } from '../errors.js';
import { currentSession } from '../session/current.js';
import { OP, INLINE_MAX_BYTES } from '../transport/protocol.js';
import { allocShared, markMapped, sharedInfoOf } from '../memory/shared_array.js';
import { arrayLength } from '../tensor/data.js';
import { resultType } from '../mirror/promotion.js';

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
    const inferred = typeof fill === 'boolean' ? bool : typeof fill === 'bigint' || Number.isInteger(fill) ? int64 : get_default_dtype();
    return factory(a, op, a.size as number[], (a.dtype as DType | undefined) ?? inferred);
  }),
  arange: defineOp(`arange(Scalar start, Scalar end=None, Scalar step=1, *, ${FACTORY_KW})`, (a, op) => {
    const [start, end] = a.end === undefined ? [0, Number(a.start)] : [Number(a.start), Number(a.end)];
    const step = Number(a.step ?? 1);
    if (step === 0) throw torchError('RuntimeError', 'step must be nonzero', op);
    if ((step > 0 && end < start) || (step < 0 && end > start)) {
      throw torchError('RuntimeError', 'upper bound and larger bound inconsistent with step sign', op);
    }
    const allInts = [a.start, a.end, a.step].every((v) => v === undefined || typeof v === 'bigint' || Number.isInteger(v));
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

// ---- torch.tensor / frombuffer: data from JS -----------------------------------------------

type Nested = number | boolean | bigint | Nested[];
export type TensorLike = Nested | ArrayBufferView;

interface Flat {
  shape: number[];
  values: (number | boolean | bigint)[];
}

function flatten(data: Nested, op: string): Flat {
  const shape: number[] = [];
  for (let v: Nested = data; Array.isArray(v); v = v[0] as Nested) {
    shape.push(v.length);
    if (v.length === 0) break;
  }
  const values: (number | boolean | bigint)[] = [];
  const walk = (v: Nested, dim: number): void => {
    if (dim === shape.length) {
      if (Array.isArray(v)) throw torchError('ValueError', `expected sequence of length ${shape[dim - 1]} at dim ${dim - 1} (got ${v.length})`, op);
      if (typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'bigint') {
        throw new ArgumentError(`torch.tensor(): could not infer dtype of ${typeof v}`);
      }
      values.push(v);
      return;
    }
    if (!Array.isArray(v)) throw torchError('TypeError', `not a sequence`, op);
    if (v.length !== shape[dim]) throw torchError('ValueError', `expected sequence of length ${shape[dim]} at dim ${dim} (got ${v.length})`, op);
    for (const x of v) walk(x, dim + 1);
  };
  walk(data, 0);
  return { shape, values };
}

function inferDtype(values: readonly (number | boolean | bigint)[]): DType {
  if (values.length === 0) return get_default_dtype();
  return resultType(...values.map((v) => ({ dtype: scalarTypeOf(v), ndim: 1 })))!;
}

function scalarTypeOf(v: number | boolean | bigint): DType {
  if (typeof v === 'boolean') return bool;
  if (typeof v === 'bigint' || Number.isInteger(v)) return int64;
  return get_default_dtype();
}

/** Pack values into the TypedArray the wire carries for `dtype` (float16/bfloat16 go as float64). */
function pack(values: readonly (number | boolean | bigint)[], dtype: DType): { array: ArrayBufferView; wire: DType } {
  const wire = dtype.arrayType === Uint16Array && dtype.category === 'float' ? float64 : dtype.category === 'complex' ? float64 : dtype;
  if (wire.arrayType === BigInt64Array || wire.arrayType === BigUint64Array) {
    const arr = new wire.arrayType(values.length);
    values.forEach((v, i) => (arr[i] = BigInt(typeof v === 'boolean' ? Number(v) : typeof v === 'number' ? Math.trunc(v) : v)));
    return { array: arr, wire };
  }
  const arr = new (wire.arrayType as Float64ArrayConstructor)(values.length);
  values.forEach((v, i) => (arr[i] = Number(v)));
  return { array: arr, wire };
}

/** Send `array` (of dtype `wire`) to the runtime as a new tensor; shared arrays are aliased. */
function fromData(
  op: string,
  array: ArrayBufferView,
  wire: DType,
  shape: number[],
  kw: { dtype?: DType; device?: string; requires_grad?: boolean },
  share: boolean,
): Tensor {
  const s = currentSession();
  const dtype = kw.dtype ?? wire;
  const device = kw.device ? normalizeDevice(kw.device) : 'cpu';
  const requires_grad = checkRequiresGrad({ requires_grad: kw.requires_grad }, dtype, op);
  const t = newTensor(s, { shape, dtype, device, requires_grad, is_leaf: true }, op);
  const shared = sharedInfoOf(array);
  let payload: unknown;
  if (share) {
    if (!shared || shared.session !== s) {
      throw new ArgumentError(
        'torch.frombuffer(): the array must come from torch.shared_array() (of the current runtime) to share memory; use torch.tensor(array) to copy it',
      );
    }
    markMapped(shared);
    payload = [shared.name, shared.nbytes, 1, array.byteOffset];
  } else if (array.byteLength <= INLINE_MAX_BYTES) {
    payload = Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  } else {
    const buf = allocShared(s, array.byteLength);
    new Uint8Array(buf).set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    const info = sharedInfoOf(new Uint8Array(buf))!;
    payload = [info.name, info.nbytes, 0, 0]; // one-shot: the runtime maps, unlinks, owns it
  }
  const kwargs: Record<string, unknown> = {};
  if (kw.dtype && kw.dtype !== wire) kwargs.dtype = kw.dtype;
  if (kw.device) kwargs.device = kw.device;
  if (requires_grad) kwargs.requires_grad = true;
  s.enqueue([OP.FROM_DATA, t.id, wire, shape, payload, Object.keys(kwargs).length ? kwargs : null], device !== 'cpu');
  return t;
}

const tensorDef = defineOp(`tensor(any data, *, dtype? dtype=None, device? device=None, bool requires_grad=False, bool pin_memory=False)`);

/**
 * torch.tensor(data): nested arrays, a TypedArray, or a scalar. dtype is inferred as torch does
 * (bools -> bool, integers -> int64, any non-integer -> float32, TypedArrays by element type).
 * JS has one number type: 2.0 is the integer 2, so pass {dtype} to get floats from whole numbers.
 */
export function tensor(data: TensorLike, kwargs?: { dtype?: DType; device?: string; requires_grad?: boolean }): Tensor {
  const bound = bind(tensorDef.sig, [data], kwargs as Record<string, unknown> | undefined);
  const kw = { dtype: bound.dtype as DType | undefined, device: bound.device as string | undefined, requires_grad: bound.requires_grad as boolean | undefined };
  if (ArrayBuffer.isView(data)) {
    const natural = dtypeOfArray(data);
    if (!natural || data instanceof DataView) throw new ArgumentError('torch.tensor(): unsupported array type');
    return fromData('tensor', data, natural, [data.byteLength / natural.itemsize], kw, false);
  }
  const { shape, values } = flatten(data as Nested, 'tensor');
  const natural = kw.dtype ?? inferDtype(values);
  const { array, wire } = pack(values, natural);
  return fromData('tensor', array, wire, shape, kw, false);
}

/**
 * torch.frombuffer(array): a 1-D tensor sharing memory with a TypedArray from
 * torch.shared_array(), like torch.from_numpy: writes on either side are seen by the other.
 */
export function frombuffer(array: ArrayBufferView, kwargs: { dtype?: DType; count?: number; offset?: number; requires_grad?: boolean } = {}): Tensor {
  const dtype = kwargs.dtype ?? dtypeOfArray(array);
  if (!dtype) throw new ArgumentError('torch.frombuffer(): cannot infer dtype from this array; pass {dtype}');
  const offset = kwargs.offset ?? 0;
  const available = Math.floor((array.byteLength - offset) / dtype.itemsize);
  const count = kwargs.count === undefined || kwargs.count < 0 ? available : kwargs.count;
  if (count > available || offset < 0) {
    throw torchError('ValueError', `requested buffer length (${count} * ${dtype.itemsize} bytes) after offset (${offset} bytes) must not be greater than actual buffer length (${array.byteLength} bytes)`, 'frombuffer');
  }
  const view = new Uint8Array(array.buffer, array.byteOffset + offset, count * dtype.itemsize);
  return fromData('frombuffer', view, dtype, [count], { requires_grad: kwargs.requires_grad }, true);
}

/** A TypedArray of `numel` elements of `dtype` in shared memory, for torch.frombuffer. */
export function shared_array<A extends TensorData = Float32Array>(numel: number, dtype: DType<A> = get_default_dtype() as never): A {
  if (!Number.isInteger(numel) || numel < 0) throw new ArgumentError(`shared_array(): numel must be a non-negative integer, not ${numel}`);
  const buf = allocShared(currentSession(), numel * dtype.itemsize);
  return new dtype.arrayType(buf, 0, arrayLength(dtype, numel)) as A;
}

