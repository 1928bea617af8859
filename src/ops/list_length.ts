/**
 * How many tensors an op that returns a list gives, when the mirror cannot say more than that
 * (its outputs' metadata then comes from the runtime). The count often follows from the
 * arguments alone (split sizes, indices, the number of input tensors) and otherwise from input
 * shapes; where it depends on values, or on a shape still pending, there is no answer, only
 * the reason and what to do instead. A guessed count would misnumber the handles, so none is.
 */
import type { Bound } from './signature.js';
import { Tensor } from '../tensor/tensor.js';

/** Either the number of outputs, or why it is unknown (and how to proceed). */
export type Length = number | { why: string; fix?: string };

type Counter = (a: Bound) => Length;

const COUNTERS = new Map<string, Counter>();

/** Whether the number of outputs of this list-returning op can be worked out (for coverage). */
export const hasListLength = (op: string): boolean => COUNTERS.has(op);

/** More outputs than any real call makes: a count from a huge argument, refused rather than allocated. */
const MAX_OUTPUTS = 1 << 20;

export function listLength(op: string, a: Bound): Length {
  const counter = COUNTERS.get(op);
  let n: Length;
  try {
    n = counter ? counter(a) : { why: 'the mirror has no rule for its length' };
  } catch {
    n = { why: 'the arguments are invalid for the input' }; // a counter that cannot read them (a BigInt count)
  }
  if (typeof n !== 'number' || (Number.isSafeInteger(n) && n >= 0 && n <= MAX_OUTPUTS)) return n;
  // torch refuses these arguments itself (negative, fractional), or would make more tensors than anyone wants
  return { why: Number.isSafeInteger(n) && n > MAX_OUTPUTS ? `it would be ${n} tensors, more than ${MAX_OUTPUTS}` : 'the arguments are invalid for the input' };
}

const count = (names: string[], fn: Counter) => names.forEach((n) => COUNTERS.set(n, fn));

/** A tensor argument's shape, or the reason it is not known yet. */
function shapeOf(t: unknown, what: string): readonly number[] | { why: string; fix: string } {
  if (!(t instanceof Tensor)) return { why: `${what} is not a tensor`, fix: `pass a tensor as ${what}` };
  if (t._m === undefined) return { why: `it depends on the shape of ${what}, which is pending`, fix: `await ${what}.ready() first` };
  return t._m.shape;
}

const sizeAlong = (shape: readonly number[], dim: unknown): number | undefined => {
  const d = typeof dim === 'number' ? dim : 0;
  const i = d < 0 ? d + shape.length : d;
  return shape[i];
};

const lengthOf = (v: unknown): number | undefined => (Array.isArray(v) ? v.length : typeof v === 'number' ? 1 : undefined);

/** split(split_size) pieces: ceil(size / split_size), at least one. */
function splitCount(a: Bound): Length {
  const size = a.split_size ?? a.split_size_or_sections ?? a.split_sizes;
  if (Array.isArray(size)) return size.length;
  const shape = shapeOf(a.input ?? a.tensor, 'the input');
  if (!Array.isArray(shape)) return shape as { why: string };
  const n = sizeAlong(shape as number[], a.dim);
  if (n === undefined || typeof size !== 'number' || size < 0 || (size === 0 && n !== 0)) return { why: 'the arguments are invalid for the input' };
  return size === 0 ? 1 : Math.max(Math.ceil(n / size), 1);
}
count(['split', 'unsafe_split', 'split_with_sizes', 'unsafe_split_with_sizes'], splitCount);

/** tensor_split / hsplit / vsplit / dsplit: indices give len + 1 pieces, sections that many. */
function sectionsCount(a: Bound): Length {
  const t = a.tensor_indices_or_sections;
  if (t instanceof Tensor) {
    const shape = shapeOf(t, 'tensor_indices_or_sections');
    if (!Array.isArray(shape)) return shape as { why: string };
    if (shape.length === 1) return shape[0]! + 1;
    return {
      why: 'a 0-dim tensor_indices_or_sections is a number of sections known only from its value',
      fix: 'pass that number instead (await t.item())',
    };
  }
  const v = a.indices ?? a.sections;
  if (Array.isArray(v)) return v.length + 1;
  if (typeof v === 'number') return v;
  return { why: 'no indices or sections were given' };
}
count(['tensor_split', 'hsplit', 'vsplit', 'dsplit'], sectionsCount);

/** chunk: ceil(size / ceil(size / chunks)) pieces, which may be fewer than chunks. */
count(['chunk', 'unsafe_chunk'], (a) => {
  const shape = shapeOf(a.input, 'the input');
  if (!Array.isArray(shape)) return shape as { why: string };
  const n = sizeAlong(shape as number[], a.dim);
  const chunks = a.chunks as number;
  if (n === undefined || !(chunks > 0)) return { why: 'the arguments are invalid for the input' };
  const each = Math.ceil(n / chunks);
  return each === 0 ? chunks : Math.max(Math.ceil(n / each), 1);
});

count(['unbind'], (a) => {
  const shape = shapeOf(a.input, 'the input');
  if (!Array.isArray(shape)) return shape as { why: string };
  return sizeAlong(shape as number[], a.dim) ?? { why: 'dim is out of range' };
});

/** One output per input tensor. */
count(['meshgrid', 'broadcast_tensors', 'align_tensors', 'atleast_1d', 'atleast_2d', 'atleast_3d'], (a) => lengthOf(a.tensors) ?? { why: 'no tensors were given' });

/** nonzero(as_tuple=True) and where(condition): one index tensor per dim (a 0-dim input gives one). */
count(['nonzero', 'where'], (a) => {
  const shape = shapeOf(a.input ?? a.condition, a.input ? 'the input' : 'the condition');
  if (!Array.isArray(shape)) return shape as { why: string };
  return Math.max(shape.length, 1);
});

/** gradient: one tensor per dim in `dim`, else per dim of the input. */
count(['gradient'], (a) => {
  const n = lengthOf(a.dim);
  if (n !== undefined) return n;
  const shape = shapeOf(a.input, 'the input');
  return Array.isArray(shape) ? shape.length : (shape as { why: string });
});

/** unravel_index: one tensor per entry of shape. */
count(['unravel_index'], (a) => lengthOf(a.shape) ?? { why: 'shape is not a number or a list' });
