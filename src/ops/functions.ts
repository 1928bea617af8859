/**
 * The typed function forms (torch.add(a, b)) and method forms (a.add(b)) of the ops defined in
 * this folder. Both route through invoke() with the same op definition.
 */
import { invoke, type OpDef } from './dispatch.js';
import { Tensor, type Scalar } from '../tensor/tensor.js';
import * as pw from './pointwise.js';
import * as red from './reduction.js';
import * as la from './linalg.js';
import * as sh from './shape.js';
import * as conv from './conversion.js';
import { callMethod, type CallOptions } from './escape.js';
import type { DType } from '../tensor/dtype.js';

type Kw<T> = T & Record<string, unknown>;
type Dim = number | number[] | null;
type ReduceKw = Kw<{ keepdim?: boolean; dtype?: DType | null; dim?: Dim }>;

const fn = (def: OpDef) => (...args: unknown[]) => invoke(def, args) as Tensor;

export const add = fn(pw.add) as (input: Tensor, other: Tensor | Scalar, kwargs?: Kw<{ alpha?: Scalar }>) => Tensor;
export const sub = fn(pw.sub) as (input: Tensor, other: Tensor | Scalar, kwargs?: Kw<{ alpha?: Scalar }>) => Tensor;
export const mul = fn(pw.mul) as (input: Tensor, other: Tensor | Scalar) => Tensor;
export const div = fn(pw.div) as (input: Tensor, other: Tensor | Scalar, kwargs?: Kw<{ rounding_mode?: 'trunc' | 'floor' | null }>) => Tensor;
export const pow = fn(pw.pow) as (input: Tensor | Scalar, exponent: Tensor | Scalar) => Tensor;
export const neg = fn(pw.neg) as (input: Tensor) => Tensor;
export const exp = fn(pw.exp) as (input: Tensor) => Tensor;
export const log = fn(pw.log) as (input: Tensor) => Tensor;
export const matmul = fn(la.matmul) as (input: Tensor, other: Tensor) => Tensor;
export const sum = fn(red.sum) as {
  (input: Tensor, kwargs?: ReduceKw): Tensor;
  (input: Tensor, dim: Dim, keepdim?: boolean, kwargs?: ReduceKw): Tensor;
  (input: Tensor, dim: Dim, kwargs?: ReduceKw): Tensor;
};
export const mean = fn(red.mean) as typeof sum;
export const reshape = fn(sh.reshape) as (input: Tensor, shape: number[]) => Tensor;
export const transpose = fn(sh.transpose) as (input: Tensor, dim0: number, dim1: number) => Tensor;
export const clone = fn(sh.clone) as (input: Tensor, kwargs?: Kw<{ memory_format?: unknown }>) => Tensor;
export const detach = fn(sh.detach) as (input: Tensor) => Tensor;

declare module '../tensor/tensor.js' {
  interface Tensor {
    add(other: Tensor | Scalar, kwargs?: Kw<{ alpha?: Scalar }>): Tensor;
    sub(other: Tensor | Scalar, kwargs?: Kw<{ alpha?: Scalar }>): Tensor;
    mul(other: Tensor | Scalar): Tensor;
    div(other: Tensor | Scalar, kwargs?: Kw<{ rounding_mode?: 'trunc' | 'floor' | null }>): Tensor;
    pow(exponent: Tensor | Scalar): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
    matmul(other: Tensor): Tensor;
    sum(kwargs?: ReduceKw): Tensor;
    sum(dim: Dim, keepdim?: boolean, kwargs?: ReduceKw): Tensor;
    sum(dim: Dim, kwargs?: ReduceKw): Tensor;
    mean(kwargs?: ReduceKw): Tensor;
    mean(dim: Dim, keepdim?: boolean, kwargs?: ReduceKw): Tensor;
    mean(dim: Dim, kwargs?: ReduceKw): Tensor;
    /** t.reshape(2, 3) or t.reshape([2, 3]); -1 infers one dimension. */
    reshape(...shape: number[] | [number[]]): Tensor;
    /** t.view(...) is not mirrored yet: use reshape. */
    transpose(dim0: number, dim1: number): Tensor;
    /** to(dtype) | to(device) | to(device, dtype) | to(other) | to({dtype, device, copy}) */
    to(...args: (DType | string | Tensor | Kw<{ dtype?: DType; device?: string; copy?: boolean; non_blocking?: boolean }>)[]): Tensor;
    clone(kwargs?: Kw<{ memory_format?: unknown }>): Tensor;
    detach(): Tensor;
    contiguous(kwargs?: Kw<{ memory_format?: unknown }>): Tensor;
    /** Escape hatch: any Tensor method by its Python name; metadata pending until the runtime answers. */
    call(method: string, args?: unknown[], kwargs?: Record<string, unknown>, opts?: CallOptions): Tensor | Tensor[];
  }
}

const methods: Record<string, OpDef> = {
  add: pw.add,
  sub: pw.sub,
  mul: pw.mul,
  div: pw.div,
  pow: pw.pow,
  neg: pw.neg,
  exp: pw.exp,
  log: pw.log,
  matmul: la.matmul,
  sum: red.sum,
  mean: red.mean,
  reshape: sh.reshape,
  transpose: sh.transpose,
  to: conv.to,
  clone: sh.clone,
  detach: sh.detach,
  contiguous: sh.contiguous,
};

for (const [name, def] of Object.entries(methods)) {
  Object.defineProperty(Tensor.prototype, name, {
    value: function (this: Tensor, ...args: unknown[]) {
      return invoke(def, args, this);
    },
    writable: true,
    configurable: true,
  });
}

Tensor.prototype.call = function (this: Tensor, method: string, args?: unknown[], kwargs?: Record<string, unknown>, opts?: CallOptions) {
  return callMethod(this, method, args, kwargs, opts);
};
