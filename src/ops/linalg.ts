/** The matmul family. */
import { defineOp } from './dispatch.js';
import type { Tensor } from '../tensor/tensor.js';
import { torchError } from '../errors.js';
import { commonDevice } from './pointwise.js';
import { broadcastShapes } from '../mirror/broadcast.js';

export const matmul = defineOp('matmul(Tensor input, Tensor other)', (a, op) => {
  const x = a.input as Tensor;
  const y = a.other as Tensor;
  const device = commonDevice([x, y], op);
  if (x.ndim === 0 || y.ndim === 0) {
    throw torchError(
      'RuntimeError',
      `both arguments to matmul need to be at least 1D, but they are ${x.ndim}D and ${y.ndim}D`,
      op,
    );
  }
  if (x.dtype !== y.dtype) {
    throw torchError(
      'RuntimeError',
      `expected m1 and m2 to have the same dtype, but got: ${x.dtype.scalarTypeName.toLowerCase()} != ${y.dtype.scalarTypeName.toLowerCase()}`,
      op,
    );
  }
  const xs = x.shape;
  const ys = y.shape;
  if (x.ndim === 1 && y.ndim === 1) {
    if (xs[0] !== ys[0]) {
      throw torchError(
        'RuntimeError',
        `inconsistent tensor size, expected tensor [${xs[0]}] and src [${ys[0]}] to have the same number of elements, but got ${xs[0]} and ${ys[0]} elements respectively`,
        op,
      );
    }
    return { shape: [], dtype: x.dtype, device };
  }
  // Treat 1-D operands as a row (left) or column (right) vector, then drop that dim again.
  const a2 = x.ndim === 1 ? [1, xs[0]!] : [...xs];
  const b2 = y.ndim === 1 ? [ys[0]!, 1] : [...ys];
  const n = a2[a2.length - 2]!;
  const k = a2[a2.length - 1]!;
  const k2 = b2[b2.length - 2]!;
  const m = b2[b2.length - 1]!;
  if (k !== k2) {
    if (x.ndim <= 2 && y.ndim <= 2) {
      const sa = x.ndim === 1 ? `1x${k}` : `${n}x${k}`;
      const sb = y.ndim === 1 ? `${k2}x1` : `${k2}x${m}`;
      throw torchError('RuntimeError', `mat1 and mat2 shapes cannot be multiplied (${sa} and ${sb})`, op);
    }
    throw torchError(
      'RuntimeError',
      `Expected size for first two dimensions of batch2 tensor to be: [${batchNumel(a2)}, ${k}] but got: [${batchNumel(b2)}, ${k2}].`,
      op,
    );
  }
  const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2), op);
  const shape = [...batch];
  if (x.ndim !== 1) shape.push(n);
  if (y.ndim !== 1) shape.push(m);
  return { shape, dtype: x.dtype, device };
});

function batchNumel(s: number[]): number {
  return s.slice(0, -2).reduce((p, v) => p * v, 1);
}
