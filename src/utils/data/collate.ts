/**
 * default_collate, as Python's: a list of samples becomes one batch of the same structure.
 * Tensors are stacked (torch.stack); numbers become a tensor (booleans → bool, all integers →
 * int64, otherwise float64, as Python's ints and floats do); TypedArrays (JS's NumPy arrays)
 * are stacked into a [batch, length] tensor of their own dtype; strings stay a list; arrays
 * (Python sequences) are transposed and collated position by position; plain objects
 * (mappings) key by key.
 *
 * The walk is shared with worker threads: only how a leaf tensor is made differs (here a
 * runtime Tensor; in a worker, a shared segment the main thread turns into one).
 */
import { Tensor } from '../../tensor/tensor.js';
import { DType, TensorData, bool, dtypeOfArray, float64, int64 } from '../../tensor/dtype.js';
import { torchError } from '../../errors.js';
import { generatedTorch } from '../../ops/index.js';
import { tensorFromFill, type Fill } from './batch_tensor.js';

/** Makes a leaf tensor of `dtype` and `shape` whose contents `fill` writes. */
export type LeafMaker = (dtype: DType, shape: number[], fill: Fill) => unknown;

const ERR = 'default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found';

function typeName(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  return typeof x;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== 'object') return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
}

function collateNumbers(batch: unknown[], make: LeafMaker): unknown {
  let allBool = true;
  let allInt = true;
  for (const v of batch) {
    if (typeof v === 'boolean') continue;
    allBool = false;
    if (typeof v === 'bigint') continue;
    if (typeof v !== 'number') throw torchError('TypeError', `${ERR} a mix of numbers and ${typeName(v)}`, 'default_collate');
    if (!Number.isInteger(v)) allInt = false;
  }
  const n = batch.length;
  if (allBool) return make(bool, [n], (out) => batch.forEach((v, i) => ((out as Uint8Array)[i] = v ? 1 : 0)));
  if (allInt) {
    return make(int64, [n], (out) => batch.forEach((v, i) => ((out as BigInt64Array)[i] = typeof v === 'bigint' ? v : BigInt(Number(v)))));
  }
  return make(float64, [n], (out) => batch.forEach((v, i) => ((out as Float64Array)[i] = Number(v))));
}

function collateArrays(batch: unknown[], make: LeafMaker): unknown {
  const first = batch[0] as TensorData;
  const dtype = dtypeOfArray(first);
  if (!dtype) throw torchError('TypeError', `${ERR} ${typeName(first)}`, 'default_collate');
  const len = first.length;
  batch.forEach((a, i) => {
    if (!ArrayBuffer.isView(a) || a.constructor !== first.constructor) {
      throw torchError('TypeError', `default_collate: expected every item to be a ${typeName(first)} like item 0, item ${i} is a ${typeName(a)}`, 'default_collate');
    }
    if ((a as TensorData).length !== len) {
      throw torchError('RuntimeError', `stack expects each tensor to be equal size, but got [${len}] at entry 0 and [${(a as TensorData).length}] at entry ${i}`, 'default_collate');
    }
  });
  return make(dtype, [batch.length, len], (out) => {
    batch.forEach((a, i) => (out as Float64Array).set(a as Float64Array, i * len));
  });
}

/** Collate `batch` with `make` for leaves (and torch.stack for Tensors, on the main thread). */
export function collateWith(batch: unknown[], make: LeafMaker): unknown {
  if (batch.length === 0) throw torchError('IndexError', 'default_collate: the batch is empty', 'default_collate');
  const elem = batch[0];
  if (elem instanceof Tensor) {
    batch.forEach((t, i) => {
      if (!(t instanceof Tensor)) throw torchError('TypeError', `default_collate: item 0 is a Tensor but item ${i} is a ${typeName(t)}`, 'default_collate');
    });
    return generatedTorch.stack(batch as Tensor[], 0);
  }
  if (typeof elem === 'number' || typeof elem === 'bigint' || typeof elem === 'boolean') return collateNumbers(batch, make);
  if (ArrayBuffer.isView(elem) && !(elem instanceof DataView)) return collateArrays(batch, make);
  if (typeof elem === 'string') return [...batch];
  if (Array.isArray(elem)) {
    const size = elem.length;
    batch.forEach((b) => {
      if (!Array.isArray(b) || b.length !== size) throw torchError('RuntimeError', 'each element in list of batch should be of equal size', 'default_collate');
    });
    return elem.map((_, k) => collateWith(batch.map((b) => (b as unknown[])[k]), make));
  }
  if (isPlainObject(elem)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(elem)) out[key] = collateWith(batch.map((d) => (d as Record<string, unknown>)[key]), make);
    return out;
  }
  throw torchError('TypeError', `${ERR} ${typeName(elem)}`, 'default_collate');
}

/**
 * The type default_collate makes of samples of type T: tensors and numbers stack into one
 * Tensor, strings gather into a list, and tuples, arrays and objects keep their structure.
 */
export type Collated<T> = 0 extends 1 & T
  ? any // samples typed any (values from torch.py proxies) stay any, not unknown
  : T extends Tensor | number | boolean
    ? Tensor
    : T extends string
      ? string[]
      : T extends readonly unknown[] | Record<string, unknown>
        ? { [K in keyof T]: Collated<T[K]> }
        : unknown;

/** Python's torch.utils.data.default_collate, on the main thread: leaves become runtime tensors. */
export function default_collate(batch: unknown[]): unknown {
  return collateWith(batch, (dtype, shape, fill) => tensorFromFill(dtype, shape, fill));
}

/** Python's default_convert (batch_size=None): samples pass through as they are. */
export function default_convert<T>(data: T): T {
  return data;
}
