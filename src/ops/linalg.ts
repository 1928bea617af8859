/** The matmul family, with the messages of the kernel torch dispatches each case to. */
import { rule } from './rules.js';
import type { Tensor } from '../tensor/tensor.js';
import { torchError } from '../errors.js';
import { commonDevice } from './pointwise.js';
import { broadcastShapes } from '../mirror/broadcast.js';
import type { DType } from '../tensor/dtype.js';

const prod = (s: readonly number[]) => s.reduce((p, v) => p * v, 1);

rule('matmul', (a, op) => {
  const x = a.input as Tensor;
  const y = a.other as Tensor;
  const device = commonDevice([x, y], op);
  const xs = x.shape;
  const ys = y.shape;
  const fail = (msg: string) => torchError('RuntimeError', msg, op);
  if (x.ndim === 0 || y.ndim === 0) {
    throw fail(`both arguments to matmul need to be at least 1D, but they are ${x.ndim}D and ${y.ndim}D`);
  }
  // Which ATen kernel matmul folds the call into decides the error text.
  let kernel: 'dot' | 'mv' | 'mm' | 'bmm';
  let shape: number[];
  if (x.ndim === 1 && y.ndim === 1) {
    kernel = 'dot';
    if (xs[0] !== ys[0]) {
      throw fail(
        `inconsistent tensor size, expected tensor [${xs[0]}] and src [${ys[0]}] to have the same number of elements, but got ${xs[0]} and ${ys[0]} elements respectively`,
      );
    }
    shape = [];
  } else if (y.ndim === 1) {
    kernel = 'mv'; // (..., n, k) @ (k)
    const rows = prod(xs.slice(0, -1));
    const k = xs[xs.length - 1]!;
    if (k !== ys[0]) throw fail(`size mismatch, got input (${rows}), mat (${rows}x${k}), vec (${ys[0]})`);
    shape = xs.slice(0, -1);
  } else if (y.ndim === 2 && x.ndim !== 2 && x.ndim !== 1) {
    kernel = 'mm'; // batch folded into rows: (b*n, k) @ (k, m)
    const rows = prod(xs.slice(0, -1));
    const k = xs[xs.length - 1]!;
    if (k !== ys[0]) throw fail(`mat1 and mat2 shapes cannot be multiplied (${rows}x${k} and ${ys[0]}x${ys[1]})`);
    shape = [...xs.slice(0, -1), ys[1]!];
  } else if (y.ndim === 2) {
    kernel = 'mm'; // (n, k) or (k) as (1, k), @ (k, m)
    const [n, k] = x.ndim === 1 ? [1, xs[0]!] : [xs[0]!, xs[1]!];
    if (k !== ys[0]) throw fail(`mat1 and mat2 shapes cannot be multiplied (${n}x${k} and ${ys[0]}x${ys[1]})`);
    shape = x.ndim === 1 ? [ys[1]!] : [n, ys[1]!];
  } else {
    kernel = 'bmm'; // batched on the right: broadcast the batch dims, then (B, n, k) @ (B, k, m)
    const a2 = x.ndim === 1 ? [1, xs[0]!] : [...xs];
    const n = a2[a2.length - 2]!;
    const k = a2[a2.length - 1]!;
    const k2 = ys[ys.length - 2]!;
    const m = ys[ys.length - 1]!;
    const batch = broadcastShapes(a2.slice(0, -2), ys.slice(0, -2), op);
    if (k !== k2) {
      throw fail(`Expected size for first two dimensions of batch2 tensor to be: [${prod(batch)}, ${k}] but got: [${prod(batch)}, ${k2}].`);
    }
    shape = x.ndim === 1 ? [...batch, m] : [...batch, n, m];
  }
  if (x.dtype !== y.dtype) throw fail(dtypeMismatch(kernel, x.dtype, y.dtype));
  return { shape, dtype: x.dtype, device };
});

function dtypeMismatch(kernel: 'dot' | 'mv' | 'mm' | 'bmm', a: DType, b: DType): string {
  if (kernel === 'dot') return `dot : expected both vectors to have same dtype, but found ${a.scalarTypeName} and ${b.scalarTypeName}`;
  if (kernel === 'mm') return `expected m1 and m2 to have the same dtype, but got: ${a.cppTypeName} != ${b.cppTypeName}`;
  return `expected scalar type ${a.scalarTypeName} but found ${b.scalarTypeName}`;
}
