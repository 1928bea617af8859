/** Dimension arguments: wrapping negatives and torch's range errors. */
import { torchError } from '../errors.js';

export function wrapDim(dim: number, ndim: number, op?: string): number {
  const n = Math.max(ndim, 1); // a 0-dim tensor accepts dims -1 and 0
  if (dim < -n || dim >= n) {
    throw torchError('IndexError', `Dimension out of range (expected to be in range of [${-n}, ${n - 1}], but got ${dim})`, op);
  }
  return dim < 0 ? dim + n : dim;
}

/** The reduced dims of a reduction's `dim` argument (null/undefined/[] = all dims). */
export function reductionDims(dim: number | readonly number[] | null | undefined, ndim: number, op?: string): Set<number> {
  if (dim === null || dim === undefined || (Array.isArray(dim) && dim.length === 0)) {
    return new Set(Array.from({ length: ndim }, (_, i) => i));
  }
  const dims = typeof dim === 'number' ? [dim] : dim;
  const seen = new Set<number>();
  for (const d of dims) {
    const w = wrapDim(d, ndim, op);
    if (seen.has(w)) throw torchError('RuntimeError', `dim ${w} appears multiple times in the list of dims`, op);
    seen.add(w);
  }
  return seen;
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}
