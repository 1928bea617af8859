/** Reductions with dim / keepdim / dtype. */
import type { OutSpec } from './dispatch.js';
import { rule } from './rules.js';
import type { Bound } from './signature.js';
import { reductionDims } from '../mirror/dims.js';
import { int64, type DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { torchError } from '../errors.js';

function reduce(a: Bound, op: string, dtype: DType): OutSpec {
  const x = a.input as Tensor;
  const dims = reductionDims(a.dim as number | number[] | null | undefined, x.ndim, op);
  const keep = a.keepdim === true;
  const shape: number[] = [];
  x.shape.forEach((s, i) => {
    if (!dims.has(i)) shape.push(s);
    else if (keep) shape.push(1);
  });
  return { shape, dtype, device: x.device };
}

rule('sum', (a, op) => {
  const x = a.input as Tensor;
  const given = a.dtype as DType | null | undefined;
  // integral and bool sums accumulate in int64 unless a dtype is given
  const dtype = given ?? (x.dtype.category === 'int' || x.dtype.category === 'bool' ? int64 : x.dtype);
  return reduce(a, op, dtype);
});

rule('mean', (a, op) => {
  const x = a.input as Tensor;
  const given = a.dtype as DType | null | undefined;
  const dtype = given ?? x.dtype;
  if (dtype.category !== 'float' && dtype.category !== 'complex') {
    const what = given
      ? `mean(): could not infer output dtype. Optional dtype must be either a floating point or complex dtype. Got: ${dtype.scalarTypeName}`
      : `mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: ${dtype.scalarTypeName}`;
    throw torchError('RuntimeError', what, op);
  }
  return reduce(a, op, dtype);
});
