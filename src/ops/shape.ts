/**
 * Views and copies that change shape or layout: view/reshape/flatten, squeeze/unsqueeze,
 * permute/transpose, expand/repeat, cat/stack/split, narrow/select, flip/roll/rot90, diagonals.
 *
 * Views share autograd state with their input in a way copies do not: made under no_grad, a
 * view of a tensor that requires grad still requires grad (and is a leaf). `view()` below
 * encodes that; ops that are a view or a copy depending on strides (reshape, flatten) ask the
 * runtime when the input may be non-contiguous (mirror/layout.ts), the one case where they differ.
 */
import { PENDING, isTensor, type OutSpec } from './dispatch.js';
import { rule } from './rules.js';
import { is_grad_enabled } from '../autograd/grad_mode.js';
import type { Tensor } from '../tensor/tensor.js';
import { torchError } from '../errors.js';
import { numel, reductionDims, wrapDim } from '../mirror/dims.js';
import { broadcastShapes, sameShape } from '../mirror/broadcast.js';
import { promoteTypes } from '../mirror/promotion.js';
import { DType } from '../tensor/dtype.js';
import { maybeStrided } from '../mirror/layout.js';

// ---------------------------------------------------------------------------------------------
// Helpers shared with the other families (linalg.ts, gather_scatter.ts)

export const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

export function fail(message: string, op: string, type = 'RuntimeError'): Error {
  return torchError(type, message, op);
}

/** ATen's self.size(dim): a 0-dim tensor has no dimension to ask for. */
export function sizeAt(x: Tensor, dim: number, op: string): number {
  if (x.ndim === 0) throw fail(`Dimension specified as ${dim} but tensor has no dimensions`, op, 'IndexError');
  return x.shape[wrapDim(dim, x.ndim, op)]!;
}

/**
 * A view of x: it requires grad exactly when x does, grad mode or not (made under no_grad, it is
 * then a leaf); other tensor arguments (view_as's other, broadcast_tensors' others) never count.
 */
export function view(x: Tensor, shape: readonly number[], dtype: DType = x.dtype): OutSpec {
  // same strides, sizes split, merged or of size 1: contiguous exactly when x is
  const spec: OutSpec = { shape, dtype, device: x.device, contiguous: !maybeStrided(x) };
  if (!x.requires_grad) spec.requires_grad = false;
  else if (!is_grad_enabled()) spec.requires_grad = true;
  return spec;
}

/** A view that changes the layout (transpose, expand, diagonal...): maybe non-contiguous. */
export function stridedView(x: Tensor, shape: readonly number[]): OutSpec {
  return { ...view(x, shape), contiguous: false };
}

/**
 * A slice or selection along `dim` (narrow, select, split...): contiguous when x is and every dim
 * before it has size 1; otherwise maybe not.
 */
function slicedView(x: Tensor, dim: number, shape: readonly number[]): OutSpec {
  const spec = view(x, shape);
  for (let i = 0; i < dim; i++) if (x.shape[i] !== 1) spec.contiguous = false;
  return spec;
}

/** A fresh result with x's dtype and device. */
export function copy(x: Tensor, shape: readonly number[], dtype: DType = x.dtype): OutSpec {
  return { shape, dtype, device: x.device };
}

/** The op returns x itself. */
function alias(x: Tensor): OutSpec {
  return { shape: x.shape, dtype: x.dtype, device: x.device, alias: x };
}

/** A view when reshaping x to `shape` never needs a copy whatever x's strides are. */
function alwaysViewable(from: readonly number[], to: readonly number[]): boolean {
  if (from.length === 0 || numel(from) === 0) return true;
  const a = from.filter((s) => s !== 1);
  const b = to.filter((s) => s !== 1);
  return sameShape(a, b);
}

/**
 * reshape-like ops: a view (ViewBackward0) of a contiguous tensor. Of another, a view
 * (ReshapeAliasBackward0) if the strides allow, else a copy (UnsafeViewBackward0), which under
 * no_grad also differ in requires_grad: the runtime answers when x may be non-contiguous and
 * requires grad. Without grad only the layout is unknown: a view keeps x's, a copy is contiguous.
 */
function reshaped(x: Tensor, shape: readonly number[]): OutSpec | typeof PENDING {
  if (x.requires_grad && maybeStrided(x) && (is_grad_enabled() || !alwaysViewable(x.shape, shape))) return PENDING;
  return view(x, shape);
}

/** A varargs list that may be missing (x.permute()): Python's TypeError names the parameter. */
export function required(a: Record<string, unknown>, key: string, op: string): unknown {
  const v = a[key];
  if (v === undefined) throw fail(`${op.replace(/^\./, '')}() missing 1 required positional arguments: "${key}"`, op, 'TypeError');
  return v;
}

/** A list of ints from an int / int[] / varargs argument. */
export function intList(v: unknown): number[] {
  return typeof v === 'number' ? [v] : typeof v === 'bigint' ? [Number(v)] : (v as unknown[]).map(Number);
}

/** torch's legacy type string for a tensor (quoted by expand's message). */
export function tensorTypeString(x: Tensor): string {
  const legacy = ['Byte', 'Char', 'Short', 'Int', 'Long', 'Half', 'Float', 'Double'];
  const name = x.dtype.scalarTypeName;
  const cuda = x.device.startsWith('cuda');
  if (legacy.includes(name)) return cuda ? `torch.cuda.${name}Tensor` : `torch.${name}Tensor`;
  return `${cuda ? 'CUDA' : 'CPU'}${name}Type`;
}

/** uint16/32/64: few CPU kernels, and promotion only with floating types. */
const BAREBONES_UNSIGNED = new Set(['uint16', 'uint32', 'uint64']);

/** c10::promoteTypes, including its rule for uint16/32/64 (only a float type promotes them). */
export function promote(a: DType, b: DType, op: string): DType {
  if (a === b) return a;
  if (BAREBONES_UNSIGNED.has(a.name) || BAREBONES_UNSIGNED.has(b.name)) {
    if (a.category === 'float') return a;
    if (b.category === 'float') return b;
    throw fail(`Promotion for uint16, uint32, uint64 types is not supported, attempted to promote ${a.scalarTypeName} and ${b.scalarTypeName}`, op);
  }
  const t = promoteTypes(a, b);
  if (!t) throw fail(`Promotion for ${a.scalarTypeName} and ${b.scalarTypeName} is not supported`, op);
  return t;
}

/** The common device of a list of tensors that must all agree (cat, stack...). */
function sameDevice(ts: readonly Shaped[], op: string): string {
  const d = ts[0]!.device;
  for (const t of ts) {
    if (t.device !== d) {
      throw fail(`Expected all tensors to be on the same device, but found at least two devices, ${d} and ${t.device}!`, op);
    }
  }
  return d;
}

// ---------------------------------------------------------------------------------------------
// view / reshape family

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
  return reshaped(x, inferShape(intList(required(a, 'shape', op)), numel(x.shape), op));
});

rule('reshape_as', (a, op) => {
  const x = a.input as Tensor;
  return reshaped(x, inferShape((a.other as Tensor).shape, numel(x.shape), op));
});

/** view(dtype): the last dim scales with the element sizes; strides must allow it. */
function viewDtype(x: Tensor, dtype: DType, op: string): OutSpec | typeof PENDING {
  const out = (shape: readonly number[]): OutSpec => ({ shape, dtype, device: x.device, requires_grad: false });
  const from = x.dtype.itemsize;
  const to = dtype.itemsize;
  if (from === to) return out(x.shape);
  const what = `to view ${x.dtype.scalarTypeName} as ${dtype.scalarTypeName} (different element sizes)`;
  if (x.ndim === 0) throw fail(`self.dim() cannot be 0 ${what}`, op);
  const last = x.shape[x.ndim - 1]!;
  // The strides must allow it: true for a contiguous non-empty tensor; an empty one may have
  // any strides (results of other ops), so the runtime decides (the mirror does not track strides).
  const empty = numel(x.shape) === 0;
  if (from > to) return empty ? PENDING : out([...x.shape.slice(0, -1), (last * from) / to]);
  const ratio = to / from;
  if (last % ratio !== 0) throw fail(`self.size(-1) must be divisible by ${ratio} ${what}, but got ${last}`, op);
  return empty ? PENDING : out([...x.shape.slice(0, -1), last / ratio]);
}

rule(
  'view',
  (a, op) => {
    const x = a.input as Tensor;
    if (a.dtype instanceof DType) return viewDtype(x, a.dtype, op);
    if (a.size === undefined) return PENDING; // x.view(): torch lists both overloads
    return view(x, inferShape(intList(a.size), numel(x.shape), op));
  },
  { mayFail: true }, // a view of a non-contiguous tensor may be impossible (strides)
);

rule(
  'view_as',
  (a, op) => {
    const x = a.input as Tensor;
    return view(x, inferShape((a.other as Tensor).shape, numel(x.shape), op));
  },
  { mayFail: true },
);

rule('flatten', (a, op) => {
  const x = a.input as Tensor;
  const start = wrapDim((a.start_dim as number | undefined) ?? 0, x.ndim, op);
  const end = wrapDim((a.end_dim as number | undefined) ?? -1, x.ndim, op);
  if (start > end) throw fail('flatten() has invalid args: start_dim cannot come after end_dim', op);
  if (x.ndim === 0) return view(x, [1]);
  if (start === end) return alias(x);
  const shape = [...x.shape.slice(0, start), numel(x.shape.slice(start, end + 1)), ...x.shape.slice(end + 1)];
  return reshaped(x, shape);
});

rule('unflatten', (a, op) => {
  const x = a.input as Tensor;
  // sizes is an unsized IntArrayRef: torch's parser takes no single int for it
  if (typeof a.sizes === 'number') {
    throw fail(`unflatten(): argument 'sizes' (position ${op.startsWith('.') ? 2 : 3}) must be tuple of ints, not int`, op, 'TypeError');
  }
  const sizes = intList(a.sizes);
  // Tensor.unflatten (Python) checks the sizes before the dim; torch.unflatten the other way
  if (op.startsWith('.') && sizes.length === 0) throw fail('unflatten: sizes must be non-empty', op);
  const dim = wrapDim(a.dim as number, x.ndim, op);
  if (sizes.length === 0) throw fail('unflatten: sizes must be non-empty', op);
  if (x.ndim === 0) return PENDING; // torch's message carries a C++ backtrace
  const size = x.shape[dim]!;
  const infer = sizes.filter((s) => s === -1).length;
  const known = numel(sizes.filter((s) => s !== -1));
  // these inferSize failures reach the user with a C++ backtrace in the message
  if (infer > 1 || sizes.some((s) => s < -1) || (infer === 1 && known === 0)) return PENDING;
  if (infer ? size % known !== 0 : known !== size) {
    throw fail(`unflatten: Provided sizes ${fmt(sizes)} don't multiply up to the size of dim ${dim} (${size}) in the input tensor`, op);
  }
  const filled = sizes.map((s) => (s === -1 ? size / known : s));
  return view(x, [...x.shape.slice(0, dim), ...filled, ...x.shape.slice(dim + 1)]);
});

// ---------------------------------------------------------------------------------------------
// squeeze / unsqueeze / permute / transpose

function squeezeShape(x: Tensor, dim: unknown, op: string): number[] {
  if (dim === undefined || dim === null) return x.shape.filter((s) => s !== 1);
  if (typeof dim === 'number') {
    const d = wrapDim(dim, x.ndim, op);
    return x.shape.filter((s, i) => i !== d || s !== 1);
  }
  const dims = intList(dim);
  if (dims.length === 0) return [...x.shape];
  const set = reductionDims(dims, x.ndim, op);
  return x.shape.filter((s, i) => !set.has(i) || s !== 1);
}

rule('squeeze', (a, op) => {
  const x = a.input as Tensor;
  return view(x, squeezeShape(x, a.dim, op));
});

function unsqueezeShape(x: Tensor, dim: number, op: string): number[] {
  const d = wrapDim(dim, x.ndim + 1, op);
  const shape = [...x.shape];
  shape.splice(d, 0, 1);
  return shape;
}

rule('unsqueeze', (a, op) => {
  const x = a.input as Tensor;
  return view(x, unsqueezeShape(x, a.dim as number, op));
});

function permuteShape(x: Tensor, dims: number[], op: string): number[] {
  if (dims.length !== x.ndim) {
    throw fail(
      `permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = ${x.ndim} is not equal to len(dims) = ${dims.length}`,
      op,
    );
  }
  const seen = new Set<number>();
  return dims.map((d) => {
    const w = wrapDim(d, x.ndim, op);
    if (seen.has(w)) throw fail('permute(): duplicate dims are not allowed.', op);
    seen.add(w);
    return x.shape[w]!;
  });
}

rule('permute', (a, op) => {
  const x = a.input as Tensor;
  return stridedView(x, permuteShape(x, intList(required(a, 'dims', op)), op));
});

function transposeShape(x: Tensor, dim0: number, dim1: number, op: string): number[] {
  const d0 = wrapDim(dim0, x.ndim, op);
  const d1 = wrapDim(dim1, x.ndim, op);
  const shape = [...x.shape];
  if (shape.length > 0) [shape[d0], shape[d1]] = [shape[d1]!, shape[d0]!];
  return shape;
}

const transposeArgs = (a: Record<string, unknown>): [number, number] =>
  a.dim0 !== undefined ? [a.dim0 as number, a.dim1 as number] : [a.axis0 as number, a.axis1 as number];

for (const name of ['transpose', 'swapaxes', 'swapdims']) {
  rule(name, (a, op) => {
    const x = a.input as Tensor;
    return stridedView(x, transposeShape(x, ...transposeArgs(a), op));
  });
}

function tShape(x: Tensor, op: string, name: string): number[] {
  if (x.ndim > 2) throw fail(`${name}() expects a tensor with <= 2 dimensions, but self is ${x.ndim}D`, op);
  return x.ndim === 2 ? [x.shape[1]!, x.shape[0]!] : [...x.shape];
}

rule('t', (a, op) => {
  const x = a.input as Tensor;
  return stridedView(x, tShape(x, op, 't'));
});

/**
 * In-place shape changers (squeeze_, t_ ...): self takes the new shape. The runtime keeps the
 * same tensor, so the mirror updates self's metadata here, once every check has passed.
 */
function inplaceShape(name: string, shapeOf: (x: Tensor, a: Record<string, unknown>, op: string) => number[], changesLayout = false): void {
  rule(name, (a, op) => {
    const x = a.input as Tensor;
    if (is_grad_enabled() && x.is_leaf && x.requires_grad) {
      throw fail('a leaf Variable that requires grad is being used in an in-place operation.', op);
    }
    const shape = shapeOf(x, a, op);
    x._setMeta(changesLayout ? { ...x._m!, shape, maybeNoncontiguous: true } : { ...x._m!, shape });
    return { shape, dtype: x.dtype, device: x.device, inplace: x };
  });
}

inplaceShape('squeeze_', (x, a, op) => squeezeShape(x, a.dim, op));
inplaceShape('unsqueeze_', (x, a, op) => unsqueezeShape(x, a.dim as number, op));
inplaceShape('t_', (x, _a, op) => tShape(x, op, 't_'), true);
for (const name of ['transpose_', 'swapaxes_', 'swapdims_']) inplaceShape(name, (x, a, op) => transposeShape(x, ...transposeArgs(a), op), true);

// ---------------------------------------------------------------------------------------------
// expand / broadcast / repeat

function expandShape(x: Tensor, sizes: number[], op: string): number[] | typeof PENDING {
  if (sizes.length < x.ndim) {
    throw fail(
      `expand(${tensorTypeString(x)}{${fmt(x.shape)}}, size=${fmt(sizes)}): the number of sizes provided (${sizes.length}) must be greater or equal to the number of dimensions in the tensor (${x.ndim})`,
      op,
    );
  }
  if (x.ndim === 0 && sizes.some((s) => s < 0)) return PENDING; // torch fails with an overflow message
  const n = sizes.length;
  const out = new Array<number>(n);
  for (let i = n - 1; i >= 0; i--) {
    const dim = x.ndim - (n - i);
    let size = dim >= 0 ? x.shape[dim]! : 1;
    let target = sizes[i]!;
    if (target === -1) {
      if (dim < 0) throw fail(`The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension ${i}`, op);
      target = size;
    }
    if (size !== target) {
      if (size !== 1) {
        throw fail(
          `The expanded size of the tensor (${target}) must match the existing size (${size}) at non-singleton dimension ${i}.  Target sizes: ${fmt(sizes)}.  Tensor sizes: ${fmt(x.shape)}`,
          op,
        );
      }
      size = target;
    }
    out[i] = size;
  }
  if (out.some((s) => s < 0)) return PENDING; // a negative size on a singleton dim: torch's overflow message
  return out;
}

/** expand_size(t, sizes) / t.expand(sizes) with concrete sizes: expand's checks and messages. */
export function expandCheck(t: Tensor, sizes: readonly number[], op: string): void {
  expandShape(t, [...sizes], op);
}

function expandRule(sizesOf: (a: Record<string, unknown>, op: string) => number[]) {
  return (a: Record<string, unknown>, op: string) => {
    const x = a.input as Tensor;
    const shape = expandShape(x, sizesOf(a, op), op);
    if (shape === PENDING) return PENDING;
    return sameShape(shape, x.shape) ? view(x, shape) : stridedView(x, shape);
  };
}

rule('expand', expandRule((a, op) => intList(required(a, 'size', op))));
rule('broadcast_to', expandRule((a, op) => intList(required(a, 'size', op))));
rule('expand_as', expandRule((a) => [...(a.other as Tensor).shape]));

rule('broadcast_tensors', (a, op) => {
  const ts = (a.tensors as Tensor[] | undefined) ?? []; // broadcast_tensors() is an empty tuple
  if (ts.length === 0) return [];
  let shape: readonly number[] = ts[0]!.shape;
  for (let i = 1; i < ts.length; i++) shape = broadcastShapes(shape, ts[i]!.shape, op);
  return ts.map((t) => (sameShape(t.shape, shape) ? alias(t) : stridedView(t, shape)));
});

function repeatShape(x: Tensor, reps: number[], op: string): number[] {
  if (reps.length < x.ndim) {
    throw fail('Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor', op);
  }
  const padded = [...new Array<number>(reps.length - x.ndim).fill(1), ...x.shape];
  const out = padded.map((s, i) => s * reps[i]!);
  const neg = out.find((s) => s < 0);
  if (neg !== undefined) throw fail(`Trying to create tensor with negative dimension ${neg}: ${fmt(out)}`, op);
  return out.map((s) => s + 0); // no -0
}

rule('repeat', (a, op) => {
  const x = a.input as Tensor;
  return copy(x, repeatShape(x, intList(required(a, 'repeats', op)), op));
});

rule('tile', (a, op) => {
  const x = a.input as Tensor;
  const dims = intList(required(a, 'dims', op));
  const reps = dims.length < x.ndim ? [...new Array<number>(x.ndim - dims.length).fill(1), ...dims] : dims;
  return copy(x, repeatShape(x, reps, op));
});

// ---------------------------------------------------------------------------------------------
// cat / stack

const skipInCat = (t: Shaped): boolean => t.shape.length === 1 && t.shape[0] === 0;

/** at::cat: promotion across the inputs, the legacy rule that skips 1-D empty tensors. */
/** What cat needs to know of an input. */
export interface Shaped {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly device: string;
}

export function catSpec(ts: readonly Shaped[], dimArg: number, op: string): OutSpec {
  ts.forEach((t, i) => {
    if (t.shape.length === 0) throw fail(`zero-dimensional tensor (at position ${i}) cannot be concatenated`, op);
  });
  const valid = ts.findIndex((t) => !skipInCat(t));
  const dim = valid >= 0 ? wrapDim(dimArg, ts[valid]!.shape.length, op) : dimArg;
  if (ts.length === 0) throw fail('torch.cat(): expected a non-empty list of Tensors', op, 'ValueError');
  let dtype = ts[0]!.dtype;
  for (const t of ts) dtype = promote(dtype, t.dtype, op);
  const device = sameDevice(ts, op);
  if (valid < 0) return { shape: [...ts[0]!.shape], dtype, device };
  const first = ts[valid]!;
  const shape = [...first.shape];
  shape[dim] = 0;
  ts.forEach((t, i) => {
    if (skipInCat(t)) return;
    const n = first.shape.length;
    if (t.shape.length !== n) throw fail(`Tensors must have same number of dimensions: got ${n} and ${t.shape.length}`, op);
    for (let d = 0; d < n; d++) {
      if (d !== dim && t.shape[d] !== first.shape[d]) {
        throw fail(
          `Sizes of tensors must match except in dimension ${dim}. Expected size ${first.shape[d]} but got size ${t.shape[d]} for tensor number ${i} in the list.`,
          op,
        );
      }
    }
    shape[dim]! += t.shape[dim]!;
  });
  return { shape, dtype, device };
}

const tensorList = (a: Record<string, unknown>): Tensor[] | undefined => {
  const ts = a.tensors;
  return Array.isArray(ts) && ts.every(isTensor) ? (ts as Tensor[]) : undefined;
};

for (const name of ['cat', 'concat', 'concatenate']) {
  rule(name, (a, op) => {
    const ts = tensorList(a);
    if (!ts) return PENDING;
    return catSpec(ts, (a.dim as number | undefined) ?? 0, op);
  });
}

rule('stack', (a, op) => {
  const ts = tensorList(a);
  if (!ts) return PENDING;
  if (ts.length === 0) throw fail('stack expects a non-empty TensorList', op);
  const entry = ts[0]!.shape;
  const dim = wrapDim((a.dim as number | undefined) ?? 0, entry.length + 1, op);
  ts.forEach((t, i) => {
    if (!sameShape(t.shape, entry)) {
      throw fail(`stack expects each tensor to be equal size, but got ${fmt(entry)} at entry 0 and ${fmt(t.shape)} at entry ${i}`, op);
    }
  });
  let dtype = ts[0]!.dtype;
  for (const t of ts) dtype = promote(dtype, t.dtype, op);
  const shape = [...entry];
  shape.splice(dim, 0, ts.length);
  return { shape, dtype, device: sameDevice(ts, op) };
});

/** The shape atleast_{1,2,3}d gives. */
function atLeast(shape: readonly number[], n: number): readonly number[] {
  if (shape.length >= n) return shape;
  if (shape.length === 0) return new Array<number>(n).fill(1);
  if (n === 2) return [1, ...shape]; // 1-D
  return shape.length === 1 ? [1, shape[0]!, 1] : [...shape, 1]; // 3-D from 1-D or 2-D
}

/** hstack / vstack / dstack: atleast_Nd, then cat along a dim. */
function stackLike(name: string, n: number, dimOf: (first: Shaped) => number): void {
  rule(name, (a, op) => {
    const ts = tensorList(a);
    if (!ts) return PENDING;
    if (ts.length === 0) throw fail(`${name === 'row_stack' ? 'vstack' : name} expects a non-empty TensorList`, op);
    const shaped = ts.map((t): Shaped => ({ shape: atLeast(t.shape, n), dtype: t.dtype, device: t.device }));
    return catSpec(shaped, dimOf(shaped[0]!), op);
  });
}

stackLike('hstack', 1, (first) => (first.shape.length === 1 ? 0 : 1));
stackLike('vstack', 2, () => 0);
stackLike('row_stack', 2, () => 0);
stackLike('dstack', 3, () => 2);

rule('column_stack', (a, op) => {
  const ts = tensorList(a);
  if (!ts) return PENDING;
  if (ts.length === 0) throw fail('column_stack expects a non-empty TensorList', op);
  const shaped = ts.map((t): Shaped => ({ shape: t.ndim <= 1 ? [numel(t.shape), 1] : t.shape, dtype: t.dtype, device: t.device }));
  return catSpec(shaped, 1, op);
});

rule('atleast_1d', (a) => atLeastRule(a, 1));
rule('atleast_2d', (a) => atLeastRule(a, 2));
rule('atleast_3d', (a) => atLeastRule(a, 3));

function atLeastRule(a: Record<string, unknown>, n: number): OutSpec | OutSpec[] {
  const ts = (a.tensors as Tensor[] | undefined) ?? []; // atleast_1d() is an empty tuple
  // torch returns the tensor itself when it has the dims, else a reshape (0-dim) or unsqueeze view
  const one = (t: Tensor): OutSpec =>
    t.ndim >= n ? alias(t) : { ...view(t, atLeast(t.shape, n)), grad_fn: t.ndim === 0 ? 'ViewBackward0' : 'UnsqueezeBackward0' };
  return ts.length === 1 ? one(ts[0]!) : ts.map(one);
}

// ---------------------------------------------------------------------------------------------
// split / chunk / unbind / tensor_split / narrow / select

function splitSizes(x: Tensor, splitSize: number, dimArg: number, op: string): number[] {
  if (x.ndim === 0) throw fail('split expects at least a 1-dimensional tensor', op);
  if (splitSize < 0) throw fail(`split expects split_size be non-negative, but got split_size=${splitSize}`, op);
  const size = x.shape[wrapDim(dimArg, x.ndim, op)]!;
  if (splitSize === 0 && size !== 0) throw fail(`split_size can only be 0 if dimension size is 0, but got dimension size of ${size}`, op);
  const n = splitSize === 0 ? 1 : Math.max(Math.ceil(size / splitSize), 1);
  const last = splitSize - (splitSize * n - size);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? last : splitSize));
}

function checkSplitWithSizes(x: Tensor, sizes: number[], dimArg: number, op: string): number {
  if (x.ndim === 0) throw fail('split expects at least a 1-dimensional tensor', op);
  const dim = wrapDim(dimArg, x.ndim, op);
  if (sizes.some((s) => s < 0)) {
    throw fail(`split_with_sizes expects split_sizes have only non-negative entries, but got split_sizes=${fmt(sizes)}`, op);
  }
  const size = x.shape[dim]!;
  if (sizes.reduce((p, s) => p + s, 0) !== size) {
    throw fail(
      `split_with_sizes expects split_sizes to sum exactly to ${size} (input tensor's size at dimension ${dimArg}), but got split_sizes=${fmt(sizes)}`,
      op,
    );
  }
  return dim;
}

function pieces(x: Tensor, dim: number, sizes: number[]): OutSpec[] {
  return sizes.map((s) => {
    const shape = [...x.shape];
    shape[dim] = s;
    return slicedView(x, dim, shape);
  });
}

function splitRule(a: Record<string, unknown>, op: string): OutSpec[] {
  const x = (a.input ?? a.tensor) as Tensor;
  const size = a.split_size ?? a.split_size_or_sections ?? a.split_sizes;
  const dimArg = (a.dim as number | undefined) ?? 0;
  if (typeof size === 'number') {
    const sizes = splitSizes(x, size, dimArg, op);
    return pieces(x, wrapDim(dimArg, x.ndim, op), sizes);
  }
  const sizes = intList(size);
  return pieces(x, checkSplitWithSizes(x, sizes, dimArg, op), sizes);
}

rule('split', splitRule);
rule('split_with_sizes', splitRule);

rule('chunk', (a, op) => {
  const x = a.input as Tensor;
  const chunks = a.chunks as number;
  const dimArg = (a.dim as number | undefined) ?? 0;
  if (x.ndim === 0) throw fail('chunk expects at least a 1-dimensional tensor', op);
  if (chunks <= 0) throw fail(`chunk expects \`chunks\` to be greater than 0, got: ${chunks}`, op);
  const dim = wrapDim(dimArg, x.ndim, op);
  const size = x.shape[dim]!;
  const splitSize = Math.ceil(size / chunks);
  if (splitSize === 0 && size === 0) return pieces(x, dim, new Array<number>(chunks).fill(0));
  return pieces(x, dim, splitSizes(x, splitSize, dimArg, op));
});

rule('unbind', (a, op) => {
  const x = a.input as Tensor;
  const dim = wrapDim((a.dim as number | undefined) ?? 0, x.ndim, op);
  const n = sizeAt(x, dim, op);
  const shape = x.shape.filter((_, i) => i !== dim);
  return Array.from({ length: n }, () => slicedView(x, dim, shape));
});

/** The length of x[start:end] along a dim of this size (Python slice clamping). */
function sliceLength(size: number, start: number, end: number): number {
  const s = Math.min(Math.max(start < 0 ? start + size : start, 0), size);
  const e = Math.min(Math.max(end < 0 ? end + size : end, 0), size);
  return Math.max(e - s, 0);
}

rule('tensor_split', (a, op) => {
  const x = a.input as Tensor;
  const t = a.tensor_indices_or_sections;
  if (isTensor(t)) {
    if (t.dtype.name !== 'int64') throw fail(`tensor_split expected tensor_indices_or_sections to have dtype of long, but got ${t.dtype.scalarTypeName}`, op);
    if (t.ndim > 1) {
      throw fail(`tensor_split expected tensor_indices_or_sections to be a zero-dimensional or one-dimensional tensor, but got a tensor with ${t.ndim} dims`, op);
    }
    return PENDING; // the pieces' sizes depend on the values (their number: list_length.ts)
  }
  if (x.ndim === 0) throw fail(`tensor_split expected at least a 1-dimensional tensor, but got a tensor with ${x.ndim} dims`, op);
  const dim = wrapDim((a.dim as number | undefined) ?? 0, x.ndim, op);
  const size = x.shape[dim]!;
  const sections = typeof a.sections === 'number' ? a.sections : typeof a.indices === 'number' ? a.indices : undefined;
  if (sections !== undefined) {
    if (sections <= 0) throw fail(`number of sections must be larger than 0, got ${sections}`, op);
    const min = Math.floor(size / sections);
    const extra = size % sections;
    return pieces(x, dim, Array.from({ length: sections }, (_, i) => (i < extra ? min + 1 : min)));
  }
  const idx = intList(a.indices);
  const sizes: number[] = [];
  let start = 0;
  for (const end of idx) {
    sizes.push(sliceLength(size, start, end));
    start = end;
  }
  sizes.push(sliceLength(size, start, size));
  return pieces(x, dim, sizes);
});

rule(
  'narrow',
  (a, op) => {
    const x = a.input as Tensor;
    const length = a.length as number;
    const start = a.start;
    if (isTensor(start)) {
      if (start.ndim !== 0 || start.dtype.category !== 'int') throw fail('start must be an 0-dim integral Tensor.', op);
    }
    if (x.ndim === 0) throw fail('narrow() cannot be applied to a 0-dim tensor.', op);
    if (length < 0) throw fail('narrow(): length must be non-negative.', op);
    const dim = wrapDim(a.dim as number, x.ndim, op);
    const size = x.shape[dim]!;
    if (typeof start === 'number') {
      if (start < -size || start > size) throw fail(`start out of range (expected to be in range of [${-size}, ${size}], but got ${start})`, op, 'IndexError');
      const s = start < 0 ? start + size : start;
      if (s > size - length) throw fail(`start (${s}) + length (${length}) exceeds dimension size (${size}).`, op);
    }
    const shape = [...x.shape];
    shape[dim] = length;
    return slicedView(x, dim, shape);
  },
  { mayFail: true }, // a tensor start is checked by the runtime
);

// narrow_copy has checks of its own (and a raw message for a too large dim)
rule('narrow_copy', (a, op) => {
  const x = a.input as Tensor;
  const length = a.length as number;
  const start = a.start as number;
  const dimArg = a.dim as number;
  if (x.ndim === 0) throw fail('narrow() cannot be applied to a 0-dim tensor.', op);
  if (dimArg >= x.ndim) {
    throw fail(
      'Expected dim < static_cast<int64_t>(self_sizes.size()) to be true, but got false.  (Could this error message be improved?  If so, please report an enhancement request to PyTorch.)',
      op,
    );
  }
  const dim = wrapDim(dimArg, x.ndim, op);
  const size = x.shape[dim]!;
  if (start < -size || start > size) throw fail(`start out of range (expected to be in range of [${-size}, ${size}], but got ${start})`, op, 'IndexError');
  const s = start < 0 ? start + size : start;
  if (!(length >= 0 && s <= size - length)) throw fail(`start (${s}) + length (${length}) exceeds dimension size (${size}).`, op);
  const shape = [...x.shape];
  shape[dim] = length;
  return copy(x, shape);
});

rule('select', (a, op) => {
  const x = a.input as Tensor;
  const index = a.index as number;
  if (x.ndim === 0) throw fail('select() cannot be applied to a 0-dim tensor.', op, 'IndexError');
  const dim = wrapDim(a.dim as number, x.ndim, op);
  const size = x.shape[dim]!;
  if (size <= -1 - index || size <= index) {
    throw fail(`select(): index ${index} out of range for tensor of size ${fmt(x.shape)} at dimension ${dim}`, op, 'IndexError');
  }
  return slicedView(
    x,
    dim,
    x.shape.filter((_, i) => i !== dim),
  );
});

// ---------------------------------------------------------------------------------------------
// movedim / flip / roll / rot90

function movedimRule(a: Record<string, unknown>, op: string): OutSpec {
  const x = a.input as Tensor;
  const src = intList(a.source);
  const dst = intList(a.destination);
  if (src.length !== dst.length) {
    throw fail(
      `movedim: Invalid source or destination dims: source (${fmt(src)} dims) should contain the same number of dims as destination (${fmt(dst)} dims)`,
      op,
    );
  }
  const n = x.ndim;
  const ns = src.map((d) => wrapDim(d, n, op));
  const nd = dst.map((d) => wrapDim(d, n, op));
  if (new Set(ns).size !== ns.length) throw fail(`movedim: repeated dim in \`source\` (${fmt(src)})`, op);
  if (new Set(nd).size !== nd.length) throw fail(`movedim: repeated dim in \`destination\` (${fmt(dst)})`, op);
  if (n === 0) return view(x, []);
  if (ns.every((s, i) => s === nd[i])) return view(x, [...x.shape]); // nothing moves
  const order = new Array<number>(n).fill(-1);
  ns.forEach((s, i) => (order[nd[i]!] = s));
  const rest = Array.from({ length: n }, (_, i) => i).filter((i) => !ns.includes(i));
  let k = 0;
  for (let i = 0; i < n; i++) if (order[i] === -1) order[i] = rest[k++]!;
  return stridedView(
    x,
    order.map((d) => x.shape[d]!),
  );
}

rule('movedim', movedimRule);
rule('moveaxis', movedimRule);

// flip has no CPU kernel for uint16/32/64 in most cases: the runtime answers for them
rule('flip', (a, op) => {
  const x = a.input as Tensor;
  const dims = intList(required(a, 'dims', op));
  if (dims.length > 0) reductionDims(dims, x.ndim, op);
  return BAREBONES_UNSIGNED.has(x.dtype.name) ? PENDING : copy(x, x.shape);
});

rule('fliplr', (a, op) => {
  const x = a.input as Tensor;
  if (x.ndim < 2) throw fail('Input must be >= 2-d.', op);
  return BAREBONES_UNSIGNED.has(x.dtype.name) ? PENDING : copy(x, x.shape);
});

rule('flipud', (a, op) => {
  const x = a.input as Tensor;
  if (x.ndim < 1) throw fail('Input must be >= 1-d.', op);
  return BAREBONES_UNSIGNED.has(x.dtype.name) ? PENDING : copy(x, x.shape);
});

rule('roll', (a, op) => {
  const x = a.input as Tensor;
  const shifts = intList(a.shifts);
  const dims = a.dims === undefined || a.dims === null ? [] : intList(a.dims);
  const check = (d: number) => {
    if (numel(x.shape) > 0) sizeAt(x, d, op);
  };
  if (dims.length === 1 && shifts.length === 1) check(dims[0]!);
  else {
    if (shifts.length === 0) throw fail('`shifts` required', op);
    if (!(dims.length === 0 && shifts.length === 1)) {
      if (shifts.length !== dims.length) throw fail(`shifts and dimensions must align. shifts: ${shifts.length}, dims:${dims.length}`, op);
      dims.forEach(check);
    }
  }
  return copy(x, x.shape);
});

rule('rot90', (a, op) => {
  const x = a.input as Tensor;
  const k = (a.k as number | undefined) ?? 1;
  const dims = a.dims === undefined ? [0, 1] : intList(a.dims);
  const n = x.ndim;
  if (dims.length !== 2) throw fail(`expected total rotation dims == 2, but got dims = ${dims.length}`, op);
  if (n < 2) throw fail(`expected total dims >= 2, but got total dims = ${n}`, op);
  const [d0, d1] = dims as [number, number];
  if (d0 === d1 || Math.abs(d0 - d1) === n) throw fail(`expected rotation dims to be different, but got dim0 = ${d0} and dim1 = ${d1}`, op);
  if (d0 >= n || d0 < -n) throw fail(`Rotation dim0 out of range, dim0 = ${d0}`, op);
  if (d1 >= n || d1 < -n) throw fail(`Rotation dim1 out of range, dim1 = ${d1}`, op);
  if (BAREBONES_UNSIGNED.has(x.dtype.name)) return PENDING; // no CPU flip kernel for uint16/32/64
  const shape = [...x.shape];
  if (((k % 4) + 4) % 2 === 1) {
    const w0 = d0 < 0 ? d0 + n : d0;
    const w1 = d1 < 0 ? d1 + n : d1;
    [shape[w0], shape[w1]] = [shape[w1]!, shape[w0]!];
    return { ...copy(x, shape), contiguous: false }; // flip(...).transpose_(...)
  }
  return copy(x, shape);
});

// ---------------------------------------------------------------------------------------------
// triangles and diagonals

for (const name of ['tril', 'triu']) {
  rule(name, (a, op) => {
    const x = a.input as Tensor;
    if (x.ndim < 2) throw fail(`${name}: input tensor must have at least 2 dimensions`, op);
    if (BAREBONES_UNSIGNED.has(x.dtype.name)) return PENDING; // no CPU kernel for uint16/32/64
    return copy(x, x.shape);
  });
}

function diagSize(rows: number, cols: number, offset: number): number {
  return offset >= 0 ? Math.max(Math.min(rows, cols - offset), 0) : Math.max(Math.min(rows + offset, cols), 0);
}

function diagonalShape(x: Tensor, offset: number, dim1Arg: number, dim2Arg: number, op: string): number[] {
  const d1 = wrapDim(dim1Arg, x.ndim, op);
  const d2 = wrapDim(dim2Arg, x.ndim, op);
  if (d1 === d2) throw fail(`diagonal dimensions cannot be identical ${dim1Arg}, ${dim2Arg}`, op);
  const size = diagSize(x.shape[d1]!, x.shape[d2]!, offset);
  return [...x.shape.filter((_, i) => i !== d1 && i !== d2), size];
}

rule('diagonal', (a, op) => {
  const x = a.input as Tensor;
  return stridedView(x, diagonalShape(x, (a.offset as number | undefined) ?? 0, (a.dim1 as number | undefined) ?? 0, (a.dim2 as number | undefined) ?? 1, op));
});

rule('linalg.diagonal', (a, op) => {
  const x = a.A as Tensor;
  return stridedView(x, diagonalShape(x, (a.offset as number | undefined) ?? 0, (a.dim1 as number | undefined) ?? -2, (a.dim2 as number | undefined) ?? -1, op));
});

function diagEmbedShape(x: Tensor, offset: number, dim1Arg: number, dim2Arg: number, op: string): number[] {
  const n = x.ndim + 1;
  const d1 = wrapDim(dim1Arg, n, op);
  const d2 = wrapDim(dim2Arg, n, op);
  if (d1 === d2) throw fail(`diagonal dimensions cannot be identical ${dim1Arg}, ${dim2Arg}`, op);
  const len = Math.abs(offset) + x.shape[x.ndim - 1]!;
  const shape = x.shape.slice(0, -1);
  shape.splice(Math.min(d1, d2), 0, len);
  shape.splice(Math.max(d1, d2), 0, len);
  return shape;
}

rule('diag_embed', (a, op) => {
  const x = a.input as Tensor;
  return copy(x, diagEmbedShape(x, (a.offset as number | undefined) ?? 0, (a.dim1 as number | undefined) ?? -2, (a.dim2 as number | undefined) ?? -1, op));
});

rule('diag', (a, op) => {
  const x = a.input as Tensor;
  const offset = (a.diagonal as number | undefined) ?? 0;
  if (x.ndim !== 1 && x.ndim !== 2) throw fail(`diag(): Supports 1D or 2D tensors. Got ${x.ndim}D`, op);
  if (x.ndim === 1) {
    const n = x.shape[0]! + Math.abs(offset);
    return copy(x, [n, n]);
  }
  return copy(x, [diagSize(x.shape[0]!, x.shape[1]!, offset)]);
});

// ---------------------------------------------------------------------------------------------
// clone / contiguous / detach

const same = (a: { input?: unknown }): OutSpec => {
  const x = a.input as Tensor;
  return { shape: x.shape, dtype: x.dtype, device: x.device };
};

rule('clone', same);

// Returns its input when already contiguous (in that memory format), else a copy
// (CloneBackward0). For an input that may not be contiguous, the two differ in autograd
// metadata when it requires grad: then the runtime answers.
rule('contiguous', (a) => {
  const x = a.input as Tensor;
  const plain = a.memory_format === undefined || a.memory_format === null;
  if (plain && !maybeStrided(x)) return alias(x);
  if (x.requires_grad) return PENDING;
  return { ...same(a), contiguous: plain };
});

rule('detach', (a) => ({ ...same(a), requires_grad: false }));
