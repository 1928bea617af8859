/**
 * Data from JS into tensors: torch.tensor (a copy, inline or through shared memory),
 * torch.frombuffer over a shared array (zero-copy), and torch.shared_array.
 */
import { bind } from './signature.js';
import { defineOp } from './dispatch.js';
import { Tensor, newTensor } from '../tensor/tensor.js';
import { DType, TensorData, bool, dtypeOfArray, float64, get_default_dtype, int64 } from '../tensor/dtype.js';
import { normalizeDevice } from '../tensor/device.js';
import { ArgumentError, torchError } from '../errors.js';
import { currentSession } from '../session/current.js';
import type { DataPayload } from '../session/session.js';
import { INLINE_MAX_BYTES } from '../transport/protocol.js';
import { allocShared, markMapped, sharedInfoOf } from '../memory/shared_array.js';
import { arrayLength } from '../tensor/data.js';
import { isPyInt, resultType } from '../mirror/promotion.js';

type Value = number | boolean | bigint;
type Nested = Value | Nested[];
export type TensorLike = Nested | ArrayBufferView;

interface Flat {
  shape: number[];
  values: Value[];
  /** a list found where a number belongs: torch's TypeError depends on the final dtype */
  misplacedList: boolean;
}

/** Shape from the first elements, values in row-major order, raggedness as torch reports it. */
function flatten(data: Nested, op: string): Flat {
  const shape: number[] = [];
  for (let v: Nested = data; Array.isArray(v); v = v[0] as Nested) {
    shape.push(v.length);
    if (v.length === 0) break;
  }
  const values: Value[] = [];
  let misplacedList = false;
  const walk = (v: Nested, dim: number): void => {
    if (dim === shape.length) {
      if (Array.isArray(v)) {
        misplacedList = true;
        return;
      }
      if (typeof v !== 'number' && typeof v !== 'boolean' && typeof v !== 'bigint') {
        throw new ArgumentError(`torch.tensor(): could not infer dtype of ${v === null ? 'null' : typeof v}`);
      }
      values.push(v);
      return;
    }
    if (!Array.isArray(v)) throw torchError('TypeError', 'not a sequence', op);
    if (v.length !== shape[dim]) throw torchError('ValueError', `expected sequence of length ${shape[dim]} at dim ${dim} (got ${v.length})`, op);
    for (const x of v) walk(x, dim + 1);
  };
  walk(data, 0);
  return { shape, values, misplacedList };
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function inferDtype(values: readonly Value[], op: string): DType {
  if (values.length === 0) return get_default_dtype();
  let acc: DType | undefined;
  for (const v of values) {
    if (typeof v === 'bigint' && (v < INT64_MIN || v > INT64_MAX)) throw torchError('ValueError', 'Overflow when unpacking long long', op);
    const t = typeof v === 'boolean' ? bool : typeof v === 'bigint' || isPyInt(v) ? int64 : get_default_dtype();
    acc = acc === undefined ? t : resultType({ dtype: acc, ndim: 1 }, { dtype: t, ndim: 1 });
  }
  return acc!;
}

/** Integer conversion with torch's overflow rule (uint8 also takes -255..-1, wrapping). */
function toInt(v: Value, dtype: DType, op: string): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'boolean') b = v ? 1n : 0n;
  else {
    if (!Number.isFinite(v)) throw torchError('RuntimeError', `value cannot be converted to type ${dtype.name} without overflow`, op);
    b = BigInt(Math.trunc(v));
  }
  const bits = BigInt(dtype.itemsize * 8);
  const [lo, hi] = dtype.signed ? [-(1n << (bits - 1n)), (1n << (bits - 1n)) - 1n] : [-((1n << bits) - 1n), (1n << bits) - 1n];
  if (b < lo || b > hi) {
    if (typeof v === 'bigint' && (v < INT64_MIN || v > INT64_MAX)) throw torchError('ValueError', 'Overflow when unpacking long long', op);
    throw torchError('RuntimeError', `value cannot be converted to type ${dtype.name} without overflow`, op);
  }
  return dtype.signed ? b : ((b % (1n << bits)) + (1n << bits)) % (1n << bits);
}

/**
 * Values as the TypedArray the wire carries: int and bool dtypes as themselves (checked as
 * torch checks), float16/bfloat16/complex as float64 for the runtime to convert with torch's
 * own rounding.
 */
function pack(values: readonly Value[], dtype: DType, op: string): { array: ArrayBufferView; wire: DType } {
  const n = values.length;
  if (dtype.category === 'bool') {
    const arr = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      arr[i] = typeof v === 'bigint' ? Number(v !== 0n) : v === 0 || v === false ? 0 : 1; // Python truthiness (NaN is true)
    }
    return { array: arr, wire: bool };
  }
  if (dtype.category === 'int') {
    if (dtype.arrayType === BigInt64Array || dtype.arrayType === BigUint64Array) {
      const arr = new dtype.arrayType(n);
      for (let i = 0; i < n; i++) arr[i] = toInt(values[i]!, dtype, op);
      return { array: arr, wire: dtype };
    }
    const arr = new dtype.arrayType(n) as Int32Array;
    for (let i = 0; i < n; i++) arr[i] = Number(toInt(values[i]!, dtype, op));
    return { array: arr, wire: dtype };
  }
  const wire = dtype.category === 'float' && (dtype.arrayType === Float32Array || dtype.arrayType === Float64Array) ? dtype : float64;
  const arr = new (wire.arrayType as Float64ArrayConstructor)(n);
  for (let i = 0; i < n; i++) arr[i] = Number(values[i]!);
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
  const requires_grad = kw.requires_grad === true;
  if (requires_grad && dtype.category !== 'float' && dtype.category !== 'complex') {
    throw torchError('RuntimeError', 'Only Tensors of floating point and complex dtype can require gradients', op);
  }
  const t = newTensor(s, { shape, dtype, device, requires_grad, is_leaf: true, grad_fn: null }, op);
  let payload: DataPayload;
  if (share) {
    if (!s.shm) throw noSharedMemory('torch.frombuffer()', 'use torch.tensor(array) to copy it');
    const shared = sharedInfoOf(array);
    if (!shared || shared.session !== s) {
      throw new ArgumentError(
        'torch.frombuffer(): the array must come from torch.shared_array() (of the current runtime) to share memory; use torch.tensor(array) to copy it',
      );
    }
    markMapped(shared);
    t._keepAlive = array.buffer; // the client's mapping lives as long as the tensor
    payload = [shared.name, shared.nbytes, 1, array.byteOffset];
  } else if (array.byteLength <= INLINE_MAX_BYTES) {
    // inline, copied now: the message is encoded later, and the caller may write the array meanwhile
    payload = Buffer.from(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  } else if (!s.shm) {
    // a served runtime that cannot map our shared memory: the session sends it in chunks, read
    // from the array itself as they go (no copy of the whole; see tensor()'s note)
    payload = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  } else {
    const buf = allocShared(s, array.byteLength);
    new Uint8Array(buf).set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
    const info = sharedInfoOf(new Uint8Array(buf))!;
    payload = [info.name, info.nbytes, 0, 0]; // one-shot: the runtime maps, unlinks, owns it
  }
  const kwargs: Record<string, unknown> = {};
  if (dtype !== wire) kwargs.dtype = dtype;
  if (kw.device) kwargs.device = kw.device;
  if (requires_grad) kwargs.requires_grad = true;
  s.fromData(t.id, wire, shape, payload, Object.keys(kwargs).length ? kwargs : null, device !== 'cpu');
  return t;
}

const tensorDef = defineOp(`tensor(any data, *, dtype? dtype=None, device? device=None, bool requires_grad=False, bool pin_memory=False)`);

/**
 * torch.tensor(data): nested arrays, a TypedArray, or a scalar. dtype is inferred as torch does
 * (bools -> bool, integers -> int64, any non-integer -> float32, TypedArrays by element type).
 * JS has one number type: 2.0 is the integer 2, so pass {dtype} to get floats from whole numbers.
 *
 * A copy of the data, taken at once, except for a TypedArray over 64 KiB sent to a served
 * runtime that cannot map this process's shared memory (another host, a container, `{shm:
 * false}`): its bytes are sent in chunks straight from the array as the runtime takes them in,
 * so do not write to it until the tensor exists there (`await torch.sync()`), as with a
 * non_blocking copy in torch.
 */
export function tensor(data: TensorLike, kwargs?: { dtype?: DType; device?: string; requires_grad?: boolean }): Tensor {
  const bound = bind(tensorDef.sigs[0]!, [data], kwargs as Record<string, unknown> | undefined);
  const kw = { dtype: bound.dtype as DType | undefined, device: bound.device as string | undefined, requires_grad: bound.requires_grad as boolean | undefined };
  if (ArrayBuffer.isView(data)) {
    const natural = data instanceof DataView ? undefined : dtypeOfArray(data);
    if (!natural) throw new ArgumentError('torch.tensor(): unsupported array type');
    return fromData('tensor', data, natural, [data.byteLength / natural.itemsize], kw, false);
  }
  const { shape, values, misplacedList } = flatten(data as Nested, 'tensor');
  const dtype = kw.dtype ?? inferDtype(values, 'tensor');
  if (misplacedList) {
    const msg = dtype.category === 'float' || dtype.category === 'complex' ? 'must be real number, not list' : "'list' object cannot be interpreted as an integer";
    throw torchError('TypeError', msg, 'tensor');
  }
  const { array, wire } = pack(values, dtype, 'tensor');
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
    throw torchError(
      'ValueError',
      `requested buffer length (${count} * ${dtype.itemsize} bytes) after offset (${offset} bytes) must not be greater than actual buffer length (${array.byteLength} bytes)`,
      'frombuffer',
    );
  }
  const view = new Uint8Array(array.buffer, array.byteOffset + offset, count * dtype.itemsize);
  return fromData('frombuffer', view, dtype, [count], { requires_grad: kwargs.requires_grad }, true);
}

/** A TypedArray of `numel` elements of `dtype` in shared memory, for torch.frombuffer. */
export function shared_array<A extends TensorData = Float32Array>(numel: number, dtype: DType<A> = get_default_dtype() as never): A {
  if (!Number.isInteger(numel) || numel < 0) throw new ArgumentError(`shared_array(): numel must be a non-negative integer, not ${numel}`);
  const s = currentSession();
  if (!s.shm) throw noSharedMemory('torch.shared_array()', 'use an ordinary TypedArray and torch.tensor(array)');
  const buf = allocShared(s, numel * dtype.itemsize);
  return new dtype.arrayType(buf, 0, arrayLength(dtype, numel)) as A;
}

/** Sharing memory needs a runtime on this host that maps our segments (a served one may not). */
function noSharedMemory(what: string, instead: string): ArgumentError {
  return new ArgumentError(
    `${what} shares memory with the runtime, and this session's runtime cannot map this process's shared memory ` +
      `(it is served from another host or container, or was connected with {shm: false}, or its handshake has not finished: await torch.init() first); ${instead}`,
  );
}
