/** Views and copies that change shape or layout. */
import { PENDING } from './dispatch.js';
import { rule } from './rules.js';
import { is_grad_enabled } from '../autograd/grad_mode.js';
import type { Tensor } from '../tensor/tensor.js';
import { torchError } from '../errors.js';
import { numel, wrapDim } from '../mirror/dims.js';

export function inferShape(shape: readonly number[], total: number, op: string): number[] {
  let infer = -1;
  let known = 1;
  shape.forEach((s, i) => {
    if (s === -1) {
      if (infer >= 0) throw torchError('RuntimeError', 'only one dimension can be inferred', op);
      infer = i;
    } else if (s < 0) {
      throw torchError('RuntimeError', `invalid shape dimension ${s} at index ${i} of shape [${shape.join(', ')}]`, op);
    } else known *= s;
  });
  const out = [...shape];
  if (infer >= 0) {
    if (known === 0) {
      throw torchError(
        'RuntimeError',
        `cannot reshape tensor of 0 elements into shape [${shape.join(', ')}] because the unspecified dimension size -1 can be any value and is ambiguous`,
        op,
      );
    }
    if (total % known !== 0) {
      throw torchError('RuntimeError', `shape '[${shape.join(', ')}]' is invalid for input of size ${total}`, op);
    }
    out[infer] = total / known;
  } else if (known !== total) {
    throw torchError('RuntimeError', `shape '[${shape.join(', ')}]' is invalid for input of size ${total}`, op);
  }
  return out;
}

rule('reshape', (a, op) => {
  const x = a.input as Tensor;
  const shape = typeof a.shape === 'number' ? [a.shape] : (a.shape as number[]);
  return { shape: inferShape(shape, numel(x.shape), op), dtype: x.dtype, device: x.device };
});

rule('transpose', (a, op) => {
  const x = a.input as Tensor;
  const d0 = wrapDim(a.dim0 as number, x.ndim, op);
  const d1 = wrapDim(a.dim1 as number, x.ndim, op);
  const shape = [...x.shape];
  if (shape.length > 0) [shape[d0], shape[d1]] = [shape[d1]!, shape[d0]!];
  return { shape, dtype: x.dtype, device: x.device };
});

const same = (a: { input?: unknown }) => {
  const x = a.input as Tensor;
  return { shape: [...x.shape], dtype: x.dtype, device: x.device };
};

rule('clone', same);
// Returns its input when already contiguous, else a copy. The mirror does not track strides, so
// for a leaf that requires grad (where the two differ in is_leaf) it asks the runtime.
rule('contiguous', (a) => {
  const x = a.input as Tensor;
  if (x.is_leaf && x.requires_grad && is_grad_enabled()) return PENDING;
  return x.is_leaf ? { ...same(a), alias: x } : same(a);
});
rule('detach', (a) => ({ ...same(a), requires_grad: false }));
