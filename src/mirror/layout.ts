/**
 * Memory layout, as far as the mirror needs it. torch names some autograd nodes by the input's
 * strides (reshape of a contiguous tensor records ViewBackward0, of a transpose
 * ReshapeAliasBackward0 or UnsafeViewBackward0; contiguous() returns its input or a clone;
 * linear fuses only contiguous inputs). The mirror tracks no strides: one flag per tensor,
 * TensorMeta.maybeNoncontiguous, says whether it could be non-contiguous. Rules whose node
 * depends on the layout take the pending path for such inputs, never a guess.
 *
 * Who sets the flag (dispatch.ts toMeta, from OutSpec.contiguous):
 * - views that change the layout (transpose, permute, expand, diagonal, slices past the leading
 *   dims...): maybe non-contiguous;
 * - every other result follows its inputs (TensorIterator ops, clone, to, cat, conv... keep the
 *   layout of a non-contiguous input): maybe non-contiguous when a tensor input is;
 * - results known to be fresh contiguous tensors (contiguous(), matmul, linear) say so;
 * - a result of at most one element is always contiguous (torch ignores size-1 dims);
 * - metadata reported by the runtime without is_contiguous: maybe non-contiguous.
 */
import type { Tensor } from '../tensor/tensor.js';

/** Whether the mirror cannot rule out that t is non-contiguous. */
export function maybeStrided(t: Tensor): boolean {
  return t._m?.maybeNoncontiguous === true;
}

/** Whether any of these tensors may be non-contiguous. */
export function anyStrided(ts: readonly (Tensor | null | undefined)[]): boolean {
  for (const t of ts) if (t != null && t._m?.maybeNoncontiguous === true) return true;
  return false;
}

/** The flag of a result of this shape that may be non-contiguous: never for one element or none. */
export function stridedUnlessTiny(shape: readonly number[]): boolean {
  let n = 1;
  for (const s of shape) n *= s;
  return n > 1;
}
