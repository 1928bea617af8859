/** Broadcasting shapes as torch does, with torch's error text. */
import { torchError } from '../errors.js';

/** The broadcast shape; shapes are never mutated, so an input's array may be returned as is. */
export function broadcastShapes(a: readonly number[], b: readonly number[], op?: string): readonly number[] {
  if (a === b || sameShape(a, b)) return a;
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = n - 1, ia = a.length - 1, ib = b.length - 1; i >= 0; i--, ia--, ib--) {
    const da = ia >= 0 ? a[ia]! : 1;
    const db = ib >= 0 ? b[ib]! : 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else {
      throw torchError(
        'RuntimeError',
        `The size of tensor a (${da}) must match the size of tensor b (${db}) at non-singleton dimension ${i}`,
        op,
      );
    }
  }
  return out;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
