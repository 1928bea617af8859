/**
 * Python indexing for tensors: `x[...]` and `x[...] = v`.
 *
 *   x.index(0, torch.slice(1, 3), '...', null)   // x[0, 1:3, ..., None]
 *   x.i('0, 1:3, ..., None')                      // the same, in Python syntax
 *   x.i(':, $0', idx)                             // x[:, idx]: $n are the extra arguments
 *   x.setitem([mask], 0)                          // x[mask] = 0, in place; returns x
 *   x.index_put_([rows, cols], values)            // torch's own Tensor.index_put_ (a rule here)
 *
 * An index item is an int, `torch.slice(start, stop, step)` (null = omitted), '...', null
 * (None), a boolean, a Tensor (integer: advanced indexing; bool: a mask) or a number[]
 * (a list, as in Python: an advanced index; a list of booleans is a mask).
 *
 * The mirror follows torch's own algorithm (ATen/TensorIndexing.h applySlicing, then
 * make_info/AdvancedIndex for advanced indices), so shapes and errors are torch's: negative
 * ints, slice clamping, `step must be greater than zero`, `too many indices...`, out-of-range
 * ints, advanced indices broadcast together and placed where torch puts them (in place when
 * adjacent in the sliced tensor, else first). Masks whose counts depend on data (bool
 * tensors) take the pending path: their metadata is known once the runtime answers.
 *
 * On the wire: Tensor.__getitem__(x, index) and Tensor.__setitem__(x, index, value), where the
 * index is the bare item (x[0]) or a Tuple (x[0, 1]), exactly as Python would pass it.
 */
import { Tensor, awaitMeta, newTensor, opName } from '../tensor/tensor.js';
import { link } from '../autograd/graph.js';
import { Ellipsis, Slice, Tuple } from '../transport/codec.js';
import { describeMeta, describeMismatch, mirror, sessionOf, strict, type MetaRule, type OutSpec } from './dispatch.js';
import { backward } from '../mirror/grad_fn.js';
import { rule } from './rules.js';
import type { Session } from '../session/session.js';
import { is_grad_enabled } from '../autograd/grad_mode.js';
import { metaFromWire, resultMetaFromWire, type TensorMeta, type WireMeta } from '../tensor/meta.js';
import { stridedUnlessTiny } from '../mirror/layout.js';
import { ArgumentError, torchError } from '../errors.js';
import { resolveIndex } from './index_parse.js';
import { probe, restateFromRuntime } from './probe.js';
import { bool as boolType, int32, int64, uint8, type DType } from '../tensor/dtype.js';
import { isPyInt } from '../mirror/promotion.js';

// ---------------------------------------------------------------------------------------------
// Public types and the slice helper

/** A Python list used as an index: ints (advanced indexing) or booleans (a mask), nested. */
export type IndexList = ReadonlyArray<number | bigint | boolean | IndexList>;

/** One index item, as in `x[item, item, ...]`. */
export type Index = number | bigint | boolean | null | Slice | '...' | typeof Ellipsis | Tensor | IndexList;

/** A value for setitem: a tensor (broadcast to the indexed shape) or a Python scalar. */
export type SetValue = Tensor | number | boolean | bigint;

/**
 * Python's slice `start:stop:step` for `x.index(...)`; null (or leaving it out) means omitted:
 * `torch.slice(1)` is `1:`, `torch.slice(null, 3)` is `:3`, `torch.slice(null, null, 2)` is `::2`.
 */
export function slice(start: number | bigint | null = null, stop: number | bigint | null = null, step: number | bigint | null = null): Slice {
  return new Slice(start as number | null, stop as number | null, step as number | null);
}

// ---------------------------------------------------------------------------------------------
// Normalised index items

type Item =
  | { k: 'int'; v: number; text: string }
  | { k: 'float' }
  | { k: 'slice'; s: Slice }
  | { k: 'ellipsis' }
  | { k: 'none' }
  | { k: 'bool'; v: boolean }
  | { k: 'tensor'; t: Tensor }
  | { k: 'list'; l: ListIndex };

interface ListIndex {
  shape: number[];
  /** row-major values (as torch converts them: floats truncated, booleans 0/1) */
  values: number[];
  isBool: boolean;
  /** what torch.tensor(list) would raise, thrown when the item is reached */
  error?: { type: string; message: string };
}

const INVALID_INDEX = 'only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices';
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

function normalize(v: unknown, what: string): Item {
  if (typeof v === 'number') {
    if (isPyInt(v)) return { k: 'int', v: v === 0 ? 0 : v, text: String(v) };
    return { k: 'float' };
  }
  if (typeof v === 'bigint') {
    if (v > INT64_MAX || v < INT64_MIN) throw new ArgumentError(`${what}(): the index ${v} does not fit in int64`);
    return { k: 'int', v: Number(v), text: String(v) };
  }
  if (typeof v === 'boolean') return { k: 'bool', v };
  if (v === null) return { k: 'none' };
  if (v === '...' || v === Ellipsis) return { k: 'ellipsis' };
  if (v instanceof Slice) return { k: 'slice', s: v };
  if (v instanceof Tensor) {
    v._check();
    return { k: 'tensor', t: v };
  }
  if (Array.isArray(v)) return { k: 'list', l: listIndex(v, what) };
  if (typeof v === 'string') {
    throw new ArgumentError(`${what}(): '${v}' is not an index item; for Python index syntax use x.i('${v}')`);
  }
  throw new ArgumentError(
    `${what}(): an index item must be an int, torch.slice(...), '...', null, a boolean, a Tensor or an array of ints/booleans, not ${describe(v)}`,
  );
}

/** What torch.tensor(list) makes of a list index (torch/csrc/utils/tensor_new.cpp). */
function listIndex(list: readonly unknown[], what: string): ListIndex {
  // sizes follow the first element at each depth
  const shape: number[] = [];
  let cur: unknown = list;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  // dtype inference over every leaf
  let sawNumber = false;
  let sawBool = false;
  let inferError: ListIndex['error'];
  const infer = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(infer);
    else if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new ArgumentError(`${what}(): a list index must hold finite numbers, not ${v}`);
      sawNumber = true;
    } else if (typeof v === 'bigint') sawNumber = true;
    else if (typeof v === 'boolean') sawBool = true;
    else if (v === null) inferError ??= { type: 'RuntimeError', message: 'Could not infer dtype of NoneType' };
    else if (typeof v === 'string') inferError ??= { type: 'TypeError', message: "new(): invalid data type 'str'" };
    else throw new ArgumentError(`${what}(): a list index must hold ints or booleans (or lists of them), not ${describe(v)}`);
  };
  infer(list);
  const isBool = sawBool && !sawNumber;
  if (inferError) return { shape, values: [], isBool, error: inferError };
  const values: number[] = [];
  let error: ListIndex['error'];
  const numel = shape.reduce((a, b) => a * b, 1);
  const store = (v: unknown, dim: number): void => {
    if (error) return;
    if (dim === shape.length) {
      if (Array.isArray(v)) error = { type: 'TypeError', message: "'list' object cannot be interpreted as an integer" };
      else values.push(typeof v === 'boolean' ? Number(v) : typeof v === 'bigint' ? Number(v) : Math.trunc(v as number));
      return;
    }
    if (!Array.isArray(v)) {
      error = { type: 'TypeError', message: 'not a sequence' };
      return;
    }
    if (v.length !== shape[dim]) {
      error = { type: 'ValueError', message: `expected sequence of length ${shape[dim]} at dim ${dim} (got ${v.length})` };
      return;
    }
    for (const x of v) store(x, dim + 1);
  };
  if (numel > 0) store(list, 0);
  return { shape, values, isBool, error };
}

/** The item as Python receives it: ints beyond 32 bits as int64 (msgpackr would send floats). */
function wireItem(v: unknown): unknown {
  if (typeof v === 'number') return isPyInt(v) && (v > 0x7fffffff || v < -0x80000000) ? BigInt(v) : v;
  if (v === '...') return Ellipsis;
  if (v instanceof Slice) {
    const w = (b: number | null) => (b === null || b === undefined ? null : wireItem(b));
    return new Slice(w(v.start) as number | null, w(v.stop) as number | null, w(v.step) as number | null);
  }
  if (Array.isArray(v)) return v.map(wireItem);
  return v;
}

// ---------------------------------------------------------------------------------------------
// The mirror: torch's applySlicing (basic indexing) and make_info (advanced indexing)

/** An advanced index recorded by applySlicing (outIndices). */
interface Entry {
  mask: boolean;
  /** index/mask shape; undefined when it depends on data (a 0-dim bool tensor) */
  shape: number[] | undefined;
  /** dims of the sliced tensor it covers (a k-dim mask covers k) */
  k: number;
  /** values, when known (lists, booleans) */
  values?: number[];
  /** true-count of a mask, when known (bool lists) */
  count?: number;
  tensor?: Tensor;
}

interface Plan {
  /** shape after the basic (view) part of the indexing */
  sliced: number[];
  /** the basic part left the tensor itself (torch's slice optimisation, Ellipsis) */
  slicedIsSelf: boolean;
  /** grad_fn name of the last view op of the basic part (for torch's no_grad-view message) */
  lastView: string | undefined;
  entries: (Entry | undefined)[] | undefined;
  /** index values the mirror cannot see (tensors): the op may still fail in the runtime */
  valueDependent: boolean;
}

/** The mirror cannot follow this case: fall back to the runtime (pending metadata). */
class Uncertain extends Error {}

function isMaskType(t: DType): boolean {
  return t === boolType || t === uint8;
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function indexError(message: string, op: string): never {
  throw torchError('IndexError', message, op);
}

/** Python's __PySlice_Unpack + Slice(): None filled in, zero step refused. */
function unpackSlice(s: Slice, op: string): { start: number; stop: number; step: number } {
  const num = (b: unknown, dflt: number): number => {
    if (b === null || b === undefined) return dflt;
    if (typeof b === 'bigint') return Number(b);
    if (typeof b === 'number' && isPyInt(b)) return b;
    throw torchError('TypeError', 'slice indices must be integers or None or have an __index__ method', op);
  };
  const step = num(s.step, 1);
  const start = num(s.start, step < 0 ? Infinity : 0);
  const stop = num(s.stop, step < 0 ? -Infinity : Infinity);
  if (step === 0) throw torchError('ValueError', 'slice step cannot be zero', op);
  return { start, stop, step };
}

/**
 * torch's basic indexing over `shape` (Python's THPVariable_getitem / setitem and ATen's
 * applySlicing): throws torch's errors, returns the sliced shape and the advanced indices.
 * `single`: Python got one plain item (x[0]), not a tuple. `setitem`: torch's slice
 * optimisation (a full slice leaves the tensor itself) applies to the single-slice form too.
 */
function plan(shape: readonly number[], items: Item[], single: boolean, setitem: boolean, op: string): Plan {
  const st = new Slicer(shape, op);
  if (single) {
    const it = items[0]!;
    switch (it.k) {
      case 'int':
        st.select(it.v, it.text, 0);
        break;
      case 'slice':
        st.slice(it.s, setitem);
        break;
      case 'none':
        st.unsqueeze();
        break;
      case 'ellipsis':
        break;
      case 'bool':
        st.unsqueeze();
        // getitem: advanced indexing by a long index [0] or []; setitem: x[True] = v copies into
        // the unsqueezed view, x[False] = v does nothing (the caller handles both)
        if (!setitem) st.record({ mask: false, shape: [it.v ? 1 : 0], k: 1, values: it.v ? [0] : [] });
        break;
      default:
        throw new Error('unreachable');
    }
    return st;
  }

  // count_specified_dimensions
  const ndim = shape.length;
  let specified = 0;
  for (const it of items) {
    if (it.k === 'tensor') {
      const m = it.t._m;
      if (m === undefined) throw new Uncertain();
      specified += isMaskType(m.dtype) ? m.shape.length : 1;
    } else if (it.k !== 'none' && it.k !== 'ellipsis' && it.k !== 'bool') specified++;
  }
  if (specified > ndim) indexError(`too many indices for tensor of dimension ${ndim}`, op);

  for (let realDim = 0; realDim < items.length; realDim++) {
    const it = items[realDim]!;
    switch (it.k) {
      case 'int':
        st.select(it.v, it.text, realDim);
        break;
      case 'float':
        indexError(`${INVALID_INDEX} (got float)`, op);
        break;
      case 'slice':
        st.slice(it.s, true);
        st.skip(1);
        break;
      case 'ellipsis':
        st.skip(ndim - specified);
        break;
      case 'none':
        st.unsqueeze();
        st.skip(1);
        break;
      case 'bool':
        st.unsqueeze();
        st.record({ mask: false, shape: [it.v ? 1 : 0], k: 1, values: it.v ? [0] : [] });
        break;
      case 'tensor': {
        const m = it.t._m!;
        if (m.shape.length === 0 && (m.dtype.category === 'int' || m.dtype.category === 'bool')) {
          if (!isMaskType(m.dtype)) {
            // a 0-dim integer tensor selects, like an int whose value the mirror cannot see
            st.selectUnknown();
          } else {
            // a 0-dim bool tensor: a size-1 dim indexed by [0] or [] depending on its value
            st.unsqueeze();
            st.record({ mask: false, shape: undefined, k: 1 });
          }
        } else if (isMaskType(m.dtype)) {
          st.record({ mask: true, shape: [...m.shape], k: m.shape.length, tensor: it.t });
        } else {
          st.record({ mask: false, shape: [...m.shape], k: 1, tensor: it.t });
          st.valueDependent = true;
        }
        break;
      }
      case 'list': {
        const l = it.l;
        if (l.error) throw torchError(l.error.type, l.error.message, op);
        if (l.isBool) st.record({ mask: true, shape: l.shape, k: l.shape.length, count: l.values.reduce((a, b) => a + b, 0) });
        else st.record({ mask: false, shape: l.shape, k: 1, values: l.values });
        break;
      }
    }
  }
  return st;
}

/** applySlicing's state: the shape so far, the dim pointer, the advanced indices recorded. */
class Slicer implements Plan {
  sliced: number[];
  slicedIsSelf = true;
  lastView: string | undefined = undefined;
  entries: (Entry | undefined)[] | undefined = undefined;
  valueDependent = false;
  private dim = 0;

  constructor(
    shape: readonly number[],
    private readonly op: string,
  ) {
    this.sliced = shape.slice();
  }

  select(v: number, text: string, realDim: number): void {
    const cur = this.sliced;
    const dim = this.dim;
    if (dim >= cur.length) {
      if (v === 0 && dim === 0 && cur.length === 0) {
        indexError(
          'invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ to convert a 0-dim tensor to a number',
          this.op,
        );
      }
      if (cur.length === 0) indexError(`index ${text} is out of bounds for dimension ${realDim} with size 0`, this.op);
      throw new Uncertain();
    }
    const size = cur[dim]!;
    if (!(size > -1 - v && size > v)) indexError(`index ${text} is out of bounds for dimension ${realDim} with size ${size}`, this.op);
    cur.splice(dim, 1);
    this.slicedIsSelf = false;
    this.lastView = 'SelectBackward0';
  }

  /** select by a 0-dim index tensor: its value (and so the bounds check) is the runtime's */
  selectUnknown(): void {
    if (this.dim >= this.sliced.length) throw new Uncertain();
    this.sliced.splice(this.dim, 1);
    this.slicedIsSelf = false;
    this.lastView = 'SelectBackward0';
    this.valueDependent = true;
  }

  slice(s: Slice, optimize: boolean): void {
    const { start, stop, step } = unpackSlice(s, this.op);
    if (step <= 0) throw torchError('ValueError', 'step must be greater than zero', this.op);
    const cur = this.sliced;
    const dim = this.dim;
    if (cur.length === 0) indexError('slice() cannot be applied to a 0-dim tensor.', this.op);
    if (dim >= cur.length) throw new Uncertain();
    const len = cur[dim]!;
    if (optimize && start === 0 && len <= stop && step === 1) return; // the tensor itself
    let s0 = start < 0 ? start + len : start;
    let e0 = stop < 0 ? stop + len : stop;
    s0 = s0 < 0 ? 0 : s0 >= len ? len : s0;
    e0 = e0 < s0 ? s0 : e0 >= len ? len : e0;
    cur[dim] = Math.ceil((e0 - s0) / step);
    this.slicedIsSelf = false;
    this.lastView = 'SliceBackward0';
  }

  unsqueeze(): void {
    if (this.dim > this.sliced.length) throw new Uncertain();
    this.sliced.splice(this.dim, 0, 1);
    this.slicedIsSelf = false;
    this.lastView = 'UnsqueezeBackward0';
  }

  /** recordTensorIndex */
  record(e: Entry): void {
    if (this.entries === undefined) {
      this.entries = new Array<Entry | undefined>(this.dim).fill(undefined);
    }
    this.entries.push(e);
    this.dim += e.k;
  }

  /** dims passed over by a slice, None or Ellipsis */
  skip(n: number): void {
    this.dim += n;
    if (this.entries !== undefined) for (let i = 0; i < n; i++) this.entries.push(undefined);
  }
}

interface Advanced {
  /** the indexing result's shape (= info.src in index_put_); undefined when data-dependent */
  shape: number[] | undefined;
}

/**
 * make_info + AdvancedIndex (ATen/native/TensorAdvancedIndexing.cpp) on the sliced shape:
 * index dtypes, mask shapes, broadcasting, where the indexed dims go, and (when every index
 * value is known) the kernel's bounds check.
 */
function advanced(
  sliced: readonly number[],
  entries: readonly (Entry | undefined)[],
  op: string,
  boundsCheck: boolean,
  /** getitem (at::index) only: index tensors must be on the CPU or on x's device */
  device?: string,
): Advanced {
  if (device !== undefined) {
    for (const e of entries) {
      const d = e?.tensor?._m?.device;
      if (d !== undefined && d !== 'cpu' && d !== device) {
        throw torchError('RuntimeError', `indices should be either on cpu or on the same device as the indexed tensor (${device})`, op);
      }
    }
  }
  for (const e of entries) {
    const t = e?.tensor?._m?.dtype;
    if (t !== undefined && t !== int64 && t !== int32 && !isMaskType(t)) {
      indexError('tensors used as indices must be long, int, byte or bool tensors', op);
    }
  }
  // expandTensors: masks become one long index per dim
  const exp: ({ shape: number[] | undefined; values?: number[]; fromMask: boolean } | undefined)[] = [];
  for (const e of entries) {
    if (e === undefined) exp.push(undefined);
    else if (e.mask) {
      const ms = e.shape!;
      for (let j = 0; j < ms.length; j++) {
        const src = exp.length + j;
        if (src >= sliced.length) throw new Uncertain();
        if (ms[j] !== sliced[src]) {
          indexError(
            `The shape of the mask ${fmt(ms)} at index ${j} does not match the shape of the indexed tensor ${fmt(sliced)} at index ${src}`,
            op,
          );
        }
      }
      for (let j = 0; j < ms.length; j++) exp.push({ shape: e.count === undefined ? undefined : [e.count], fromMask: true });
    } else exp.push({ shape: e.shape, values: e.values, fromMask: false });
  }
  if (exp.length > sliced.length) throw new Uncertain();
  const defined = exp.filter((e) => e !== undefined);
  if (defined.some((e) => e.shape === undefined)) return { shape: undefined };
  // broadcast the index shapes together
  const shapes = defined.map((e) => e.shape!);
  const nb = Math.max(...shapes.map((s) => s.length));
  const B = new Array<number>(nb).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = nb - s.length + i;
      const d = s[i]!;
      if (B[j] === d || d === 1) continue;
      if (B[j] === 1) B[j] = d;
      else indexError(`shape mismatch: indexing tensors could not be broadcast together with shapes ${shapes.map(fmt).join(', ')}`, op);
    }
  }
  while (exp.length < sliced.length) exp.push(undefined);
  const first = exp.findIndex((e) => e !== undefined);
  let last = exp.length - 1;
  while (exp[last] === undefined) last--;
  const contiguous = exp.slice(first, last + 1).every((e) => e !== undefined);
  const indexedSizes = exp.flatMap((e, d) => (e === undefined ? [] : [sliced[d]!]));
  if (indexedSizes.includes(0) && !B.includes(0)) indexError('index is out of bounds for dimension with size 0', op);
  const rest = (from: number, to: number) => sliced.slice(from, to).filter((_, i) => exp[from + i] === undefined);
  const shape = contiguous ? [...sliced.slice(0, first), ...B, ...sliced.slice(last + 1)] : [...B, ...rest(0, sliced.length)];

  // The kernel's bounds check, in its order (output elements row-major, then the indexers), when
  // every value is known and the kernel runs serially (below ATen's grain size).
  const numel = shape.reduce((a, b) => a * b, 1);
  if (boundsCheck && numel > 0 && numel < 32768 && defined.every((e) => e.fromMask || e.values !== undefined)) {
    const nbNumel = B.reduce((a, b) => a * b, 1);
    const idx = new Array<number>(nb).fill(0);
    for (let p = 0; p < nbNumel; p++) {
      let rem = p;
      for (let i = nb - 1; i >= 0; i--) {
        idx[i] = rem % B[i]!;
        rem = Math.floor(rem / B[i]!);
      }
      for (let j = 0; j < defined.length; j++) {
        const e = defined[j]!;
        if (e.fromMask) continue; // nonzero() positions are always in range
        const s = e.shape!;
        let off = 0;
        for (let i = 0; i < s.length; i++) off = off * s[i]! + (s[i] === 1 ? 0 : idx[nb - s.length + i]!);
        const v = e.values![off]!;
        const size = indexedSizes[j]!;
        if (!(v >= -size && v < size)) indexError(`index ${v} is out of bounds for dimension ${j} with size ${size}`, op);
      }
    }
  }
  return { shape };
}

// ---------------------------------------------------------------------------------------------
// Views, for in-place autograd rules (torch: a view shares its base's autograd state)

interface ViewInfo {
  root: Tensor;
  /** created under no_grad (or a view of such a view): torch forbids in-place with grad on */
  noGrad: boolean;
}

const viewInfo = new WeakMap<Tensor, ViewInfo>();
const differentiable = (t: DType) => t.category === 'float' || t.category === 'complex';
const viewsOfRoot = new WeakMap<Tensor, Set<WeakRef<Tensor>>>();

function registerView(view: Tensor, base: Tensor, gradOn: boolean): void {
  const b = viewInfo.get(base);
  const root = b ? b.root : base;
  const noGrad = !gradOn || (b?.noGrad ?? false);
  viewInfo.set(view, { root, noGrad });
  // Track it among its base's views only while a later write can still flip its autograd flags
  // (a base that requires grad already stays so; a no_grad view's flags torch itself refuses to
  // give after such a write).
  const rm = root._m;
  if (noGrad || (rm !== undefined && (rm.requires_grad || !differentiable(rm.dtype)))) return;
  let set = viewsOfRoot.get(root);
  if (set === undefined) viewsOfRoot.set(root, (set = new Set()));
  set.add(new WeakRef(view));
  if (set.size > 64 && (set.size & (set.size - 1)) === 0) {
    for (const r of set) {
      const v = r.deref();
      if (v === undefined || v._disposed) set.delete(r);
    }
  }
}

/** The tensors whose autograd state an in-place write to t changes: t, its base, the base's views. */
function family(t: Tensor): Tensor[] {
  const info = viewInfo.get(t);
  const root = info ? info.root : t;
  const out = [root];
  for (const r of viewsOfRoot.get(root) ?? []) {
    const v = r.deref();
    if (v !== undefined && !v._disposed) out.push(v);
  }
  if (!out.includes(t)) out.push(t);
  return out;
}

const NO_GRAD_VIEW_TAIL =
  " Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your code by moving both the view and the inplace either both inside the no_grad block (if you don't want the inplace to be tracked) or both outside (if you want the inplace to be tracked).";

/**
 * torch's check_inplace for an in-place write into `target` (after `newView`, the view op
 * indexing applied to it, if any): the error text, or undefined when torch allows it.
 */
function inplaceError(target: Tensor, newView: string | undefined, valueRg: boolean): string | undefined {
  if (!is_grad_enabled()) return undefined;
  const m = target._m!;
  if (!m.requires_grad && !valueRg) return undefined;
  const info = viewInfo.get(target);
  if (newView !== undefined || info !== undefined) {
    if (info?.noGrad) {
      // handle_view_on_rebase: a view made now of a no_grad view has a grad_fn iff it requires grad
      const prefix =
        newView !== undefined && m.requires_grad ? `Output 0 of ${newView} is a view of a view which was created in` : 'A view was created in';
      return `${prefix} no_grad mode and is being modified inplace with grad mode enabled.${NO_GRAD_VIEW_TAIL}`;
    }
    const root = info ? info.root._m : m;
    if (m.requires_grad && root?.is_leaf) return 'a view of a leaf Variable that requires grad is being used in an in-place operation.';
    return undefined;
  }
  if (m.requires_grad && m.is_leaf) return 'a leaf Variable that requires grad is being used in an in-place operation.';
  return undefined;
}


/** After an in-place write of a value that requires grad (grad mode on): the family now does too. */
function markRequiresGrad(target: Tensor): Tensor[] {
  const changed: Tensor[] = [];
  for (const t of family(target)) {
    const m = t._m;
    if (m === undefined || !differentiable(m.dtype) || (m.requires_grad && !m.is_leaf)) continue;
    t._setMeta({ ...m, requires_grad: true, is_leaf: false });
    changed.push(t);
  }
  return changed;
}

// ---------------------------------------------------------------------------------------------
// The wire

function check(s: Session, what: string, predicted: TensorMeta, w: WireMeta): void {
  const real = metaFromWire(w);
  if ('notTensor' in real) s.mirrorMismatch(`${what}: the mirror predicted ${describeMeta(predicted)} but torch gave a Python ${real.notTensor}`);
  else {
    // the same comparison as every other mirrored op (dispatch.ts)
    const diff = describeMismatch(predicted, real);
    if (diff) s.mirrorMismatch(`${what}: the mirror predicted ${describeMeta(predicted)} but torch gave ${diff}`);
  }
}

// ---------------------------------------------------------------------------------------------
// getitem

const ALIAS_BACKWARD = backward('alias');
const INDEX_BACKWARD = backward('index.Tensor');

/** Items Python's getitem/setitem take without wrapping them in a tuple. */
const SINGLE = new Set(['int', 'slice', 'none', 'ellipsis', 'bool']);

/** x[items] (single: Python got one plain item, not a tuple). */
function getitem(x: Tensor, raw: readonly unknown[], tuple: boolean, what: string): Tensor {
  x._check();
  const items = raw.map((v) => normalize(v, what));
  const single = !tuple && items.length === 1 && SINGLE.has(items[0]!.k);
  const tensors = [x];
  for (const it of items) if (it.k === 'tensor') tensors.push(it.t);
  const s = sessionOf(tensors);
  const op = '.__getitem__';
  const index = !tuple && items.length === 1 && items[0]!.k !== 'list' ? wireItem(raw[0]) : new Tuple(raw.map(wireItem));
  // a result made by basic indexing alone is a view of x
  const isView = items.every((it) => it.k !== 'bool' && it.k !== 'list' && it.k !== 'float' && !(it.k === 'tensor' && !isIntScalar(it.t)));
  const grad = is_grad_enabled();

  if (!mirror.enabled) {
    // the mirror is off (torch.set_mirror(false)): metadata is read when awaited (ready())
    const out = newTensor(s, undefined, op);
    s.call(out.id, op, [x, index], null, 0, true);
    if (grad) link(out, [x]);
    return out;
  }
  const m = x._m;
  let shape: number[] | undefined;
  let mayFail = true;
  // the last op applySlicing applied (a no-op index gives an alias of x), or at::index
  let gradFn = ALIAS_BACKWARD;
  if (m !== undefined) {
    try {
      const p = plan(m.shape, items, single, false, op);
      if (p.entries === undefined) {
        shape = p.sliced;
        mayFail = p.valueDependent;
        gradFn = p.lastView ?? ALIAS_BACKWARD;
      } else {
        gradFn = INDEX_BACKWARD;
        shape = advanced(p.sliced, p.entries, op, true, m.device).shape;
        mayFail = shape === undefined || p.valueDependent || p.entries.some((e) => e?.tensor !== undefined);
      }
    } catch (e) {
      if (!(e instanceof Uncertain)) throw e;
    }
  }

  if (shape === undefined) {
    const out = newTensor(s, undefined, op);
    const reply = s.expectReply();
    s.call(out.id, op, [x, index], null, reply.id, true);
    awaitMeta([out], reply.promise, (w) => {
      const r = resultMetaFromWire(w as WireMeta);
      return 'notTensor' in r ? torchError('TypeError', `${opName(op)} returned a Python ${r.notTensor}`, op) : r;
    });
    if (isView && items.every((it) => it.k !== 'tensor' || it.t._m !== undefined)) registerView(out, x, grad);
    if (grad) link(out, [x]);
    return out;
  }

  const requires_grad = m!.requires_grad && (isView || grad);
  const meta: TensorMeta = {
    shape,
    dtype: m!.dtype,
    device: m!.device,
    requires_grad,
    // a view made under no_grad shares its base's requires_grad but has no grad_fn
    is_leaf: isView ? !(grad && m!.requires_grad) : !requires_grad,
    grad_fn: null,
    // a copy (advanced indexing) follows x's layout; a view may change it
    maybeNoncontiguous: (m!.maybeNoncontiguous === true || (isView && !keepsContiguous(items))) && stridedUnlessTiny(shape),
  };
  if (!meta.is_leaf) meta.grad_fn = gradFn;
  const out = newTensor(s, meta, op);
  let replyId = 0;
  if (strict.enabled) {
    const reply = s.expectReply();
    replyId = reply.id;
    reply.promise.then(
      (metas) => check(s, `${opName(op)} output 0`, meta, (metas as WireMeta[])[0]!),
      () => {},
    );
  }
  s.call(out.id, op, [x, index], null, replyId, mayFail);
  if (isView) registerView(out, x, grad);
  if (requires_grad && grad) link(out, [x]);
  return out;
}

/**
 * Whether basic indexing keeps a contiguous tensor contiguous: ints on the leading dims, then at
 * most one slice of step 1, then only whole dims (':', '...') and None. Otherwise the mirror
 * cannot rule out a non-contiguous view (x[:, 0], x[::2], x[0, :, 1:]).
 */
function keepsContiguous(items: readonly Item[]): boolean {
  let leading = true;
  for (const it of items) {
    if (it.k === 'none') continue;
    if (it.k === 'int' && leading) continue;
    if (it.k === 'ellipsis') leading = false;
    else if (it.k === 'slice') {
      const { start, stop, step } = it.s;
      if (step !== null && step !== 1) return false;
      const whole = (start === null || start === 0) && stop === null;
      if (!whole && !leading) return false;
      leading = false;
    } else return false;
  }
  return true;
}

function isIntScalar(t: Tensor): boolean {
  const m = t._m;
  return m !== undefined && m.shape.length === 0 && m.dtype.category === 'int' && m.dtype !== uint8;
}

// ---------------------------------------------------------------------------------------------
// setitem and index_put_

const INT_LIMITS: Record<string, [number, number, string]> = {
  uint8: [-255, 255, 'uint8_t'],
  int8: [-128, 127, 'int8_t'],
  int16: [-32768, 32767, 'int16_t'],
  int32: [-2147483648, 2147483647, 'int'],
  int64: [-9223372036854775808, 9223372036854775807, 'int64_t'],
};
const FLOAT32_MAX = 3.4028234663852886e38;

/** torch converting a Python scalar to the tensor's dtype (c10::checked_convert): the overflow error. */
function scalarOverflow(v: number | boolean | bigint, t: DType): string | undefined {
  if (typeof v === 'boolean' || t.category === 'bool') return undefined;
  const fail = (name: string) => `value cannot be converted to type ${name} without overflow`;
  const isInt = typeof v === 'bigint' || isPyInt(v);
  if (t.category === 'float' || t.category === 'complex') {
    if (t.itemsize === (t.category === 'float' ? 4 : 8) && !isInt) {
      const f = v as number;
      if (Number.isFinite(f) && Math.abs(f) > FLOAT32_MAX) return fail(t.category === 'float' ? 'float' : 'c10::complex<float>');
    }
    return undefined;
  }
  const lim = INT_LIMITS[t.name];
  if (lim === undefined) return undefined;
  const [lo, hi, name] = lim;
  if (typeof v === 'bigint') return v < BigInt(t.name === 'int64' ? INT64_MIN : lo) || v > BigInt(t.name === 'int64' ? INT64_MAX : hi) ? fail(name) : undefined;
  if (Number.isNaN(v)) return fail(name);
  return v < lo || v > hi ? fail(name) : undefined;
}

/** Whether a value of shape `shape` can expand to `to` (ATen is_expandable_to). */
function expandable(shape: readonly number[], to: readonly number[]): boolean {
  if (shape.length > to.length) return false;
  for (let i = 1; i <= shape.length; i++) {
    const a = shape[shape.length - i]!;
    if (a !== to[to.length - i] && a !== 1) return false;
  }
  return true;
}

/** torch strips leading 1s from a value before copying it into an indexed tensor. */
function stripLeadingOnes(shape: readonly number[]): number[] {
  let i = 0;
  while (i < shape.length && shape[i] === 1) i++;
  return shape.slice(i);
}

function legacyTypeName(m: TensorMeta): string {
  return `torch.${m.device.startsWith('cuda') ? 'cuda.' : ''}${m.dtype.scalarTypeName}Tensor`;
}

/** copy_to in ATen/TensorIndexing.h: the expand errors of x[basic] = value. */
function checkCopyTo(dst: readonly number[], value: TensorMeta, op: string): void {
  if (value.shape.length === dst.length && value.shape.every((d, i) => d === dst[i])) return;
  if (value.shape.length === 0 && value.device === 'cpu') return; // fill_
  const src = stripLeadingOnes(value.shape);
  if (src.length > dst.length) {
    throw torchError(
      'RuntimeError',
      `expand(${legacyTypeName(value)}{${fmt(src)}}, size=${fmt(dst)}): the number of sizes provided (${dst.length}) must be greater or equal to the number of dimensions in the tensor (${src.length})`,
      op,
    );
  }
  for (let i = dst.length - 1; i >= 0; i--) {
    const j = src.length - (dst.length - i);
    const size = j >= 0 ? src[j]! : 1;
    if (size !== dst[i] && size !== 1) {
      throw torchError(
        'RuntimeError',
        `The expanded size of the tensor (${dst[i]}) must match the existing size (${size}) at non-singleton dimension ${i}.  Target sizes: ${fmt(dst)}.  Tensor sizes: ${fmt(src)}`,
        op,
      );
    }
  }
}

/**
 * _index_put_impl_'s own checks (after autograd's), on the tensor `self` of shape `selfShape`:
 * masked_fill dispatch, make_info, the value's shape and dtype, known index values.
 */
function checkIndexPut(
  selfMeta: TensorMeta,
  selfShape: readonly number[],
  entries: readonly (Entry | undefined)[],
  value: TensorMeta,
  accumulate: boolean,
  op: string,
): void {
  const defined = entries.filter((e) => e !== undefined);
  const valueNumel = value.shape.reduce((a, b) => a * b, 1);
  if (!accumulate && valueNumel === 1 && value.device === 'cpu') {
    // canDispatchToMaskedFill: exactly one mask (on self's device) and nothing else
    const onlyMask = defined.length === 1 && defined[0]!.mask && (defined[0]!.tensor?._m?.device ?? selfMeta.device) === selfMeta.device;
    if (onlyMask) {
      const ms = defined[0]!.shape!;
      const at = entries.indexOf(defined[0]);
      for (let j = 0; j < ms.length; j++) {
        const src = at + j;
        if (src >= selfShape.length) throw new Uncertain();
        if (ms[j] !== selfShape[src]) {
          indexError(
            `The shape of the mask ${fmt(ms)} at index ${j} does not match the shape of the indexed tensor ${fmt(selfShape)} at index ${src}`,
            op,
          );
        }
      }
      return; // masked_fill_ casts the value
    }
  }
  const oneValue = value.shape.length === 0 || value.shape.filter((d) => d !== 1).length <= 1;
  const r = advanced(selfShape, entries, op, false);
  if (r.shape === undefined) return;
  if (!expandable(value.shape, r.shape)) {
    throw torchError('RuntimeError', `shape mismatch: value tensor of shape ${fmt(value.shape)} cannot be broadcast to indexing result of shape ${fmt(r.shape)}`, op);
  }
  if (value.dtype !== selfMeta.dtype) {
    throw torchError(
      'RuntimeError',
      `Index put requires the source and destination dtypes match, got ${selfMeta.dtype.scalarTypeName} for the destination and ${value.dtype.scalarTypeName} for the source.`,
      op,
    );
  }
  // the kernel's bounds check, where the iteration order is unambiguous
  if (oneValue) advanced(selfShape, entries, op, true);
}

/**
 * The in-place write's effect on the mirror, and torch's autograd errors, shared by setitem and
 * index_put_: `before` runs the checks torch makes before autograd's check_inplace, `after` the
 * kernel's own. `newView` is the view op indexing applied to x (undefined: x itself; null: the
 * mirror could not follow the indexing, so it predicts no error). Returns the tensors to check
 * in strict mode; the tensors whose metadata only the runtime can tell now go into `unknown`
 * (the caller marks them pending once the write is sent, so that they are read after it).
 */
function inplace(
  unknown: Tensor[],
  x: Tensor,
  newView: string | undefined | null,
  value: Tensor | undefined,
  op: string,
  before: () => void,
  after: () => void,
  /** the node x records when written directly (newView undefined): fill_, copy_ or index_put_ */
  direct: string = COPY_BACKWARDS,
): Tensor[] {
  const vm = value?._m;
  const valueRg: boolean | undefined = value === undefined ? false : vm === undefined ? undefined : vm.requires_grad;
  if (x._m !== undefined && valueRg !== undefined && newView !== null) {
    before();
    const err = inplaceError(x, newView, valueRg);
    if (err) throw torchError('RuntimeError', err, op);
    after();
  }
  if (!is_grad_enabled()) return [x];
  if (valueRg === false) {
    if (x._m?.requires_grad) {
      if (newView === null) {
        unknown.push(x);
        return [];
      }
      recordWrite(x, newView, direct);
    }
    return [x];
  }
  // indexing the mirror could not follow: whether autograd refuses does not depend on it (only
  // the message does), and a refused write changes nothing
  if (newView === null && x._m !== undefined && valueRg !== undefined && inplaceError(x, 'a view', valueRg)) return [x];
  if (x._m === undefined || valueRg === undefined || newView === null) {
    unknown.push(...family(x));
    return [];
  }
  const changed = [x, ...markRequiresGrad(x).filter((t) => t !== x)];
  recordWrite(x, newView, direct);
  return changed;
}

const COPY_SLICES = 'CopySlices';
/** copy_'s node is written by hand in torch (not in derivatives.yaml) */
const COPY_BACKWARDS = 'CopyBackwards';
const AS_STRIDED_BACKWARD = backward('as_strided');
const FILL_TENSOR_BACKWARD = backward('fill_.Tensor');
const INDEX_PUT_BACKWARD = backward('index_put');

/**
 * The grad_fns after a tracked in-place write into x (through newView, or directly): the base
 * records CopySlices, views of it that require grad are regenerated as AsStridedBackward0.
 * Views the mirror does not track (made by ops other than indexing) keep their old name.
 */
function recordWrite(x: Tensor, newView: string | undefined, direct: string): void {
  const root = viewInfo.get(x)?.root ?? x;
  for (const t of family(x)) {
    const m = t._m;
    if (m === undefined || !m.requires_grad) continue;
    const grad_fn = t !== root ? AS_STRIDED_BACKWARD : t === x && newView === undefined ? direct : COPY_SLICES;
    t._setMeta({ ...m, grad_fn });
  }
}

function valueTensorMeta(value: SetValue, x: TensorMeta): TensorMeta | undefined {
  if (value instanceof Tensor) return value._m;
  // valueToTensor: a 0-dim tensor of x's dtype, on the CPU for CUDA tensors
  return { shape: [], dtype: x.dtype, device: x.device.startsWith('cuda') ? 'cpu' : x.device, requires_grad: false, is_leaf: true, grad_fn: null };
}

function setitem(x: Tensor, raw: readonly unknown[], tuple: boolean, value: unknown, what: string): Tensor {
  x._check();
  const op = '.__setitem__';
  if (!(value instanceof Tensor) && typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'bigint') {
    throw new ArgumentError(`${what}(): the value must be a Tensor, a number or a boolean, not ${describe(value)}`);
  }
  if (value instanceof Tensor) value._check();
  const items = raw.map((v) => normalize(v, what));
  const single = !tuple && items.length === 1 && SINGLE.has(items[0]!.k);
  const tensors = [x];
  if (value instanceof Tensor) tensors.push(value);
  for (const it of items) if (it.k === 'tensor') tensors.push(it.t);
  const s = sessionOf(tensors);
  const index = !tuple && items.length === 1 && items[0]!.k !== 'list' ? wireItem(raw[0]) : new Tuple(raw.map(wireItem));

  if (!mirror.enabled) {
    // the mirror is off (torch.set_mirror(false)): no checks; x's flags are read when awaited
    if (value instanceof Tensor) for (const t of family(x)) t._setMeta(undefined);
    s.call(null, op, [x, index, value], null, 0, true);
    return x;
  }
  const m = x._m;
  const scalar = value instanceof Tensor ? undefined : (value as number | boolean | bigint);
  if (m !== undefined && scalar !== undefined) {
    const err = scalarOverflow(scalar, m.dtype);
    if (err) throw torchError('RuntimeError', err, op);
  }
  const noop = single && items[0]!.k === 'bool' && !(items[0] as { v: boolean }).v; // x[False] = v
  let toCheck: Tensor[] = [x];
  const unknown: Tensor[] = [];
  if (!noop) {
    let p: Plan | undefined;
    if (m !== undefined) {
      try {
        p = plan(m.shape, items, single, true, op);
      } catch (e) {
        if (!(e instanceof Uncertain)) throw e;
      }
    }
    const vt = value instanceof Tensor ? value : undefined;
    const vm = m && valueTensorMeta(value as SetValue, m);
    const guard = (f: () => void) => () => {
      if (p === undefined || vm === undefined) return;
      try {
        f();
      } catch (e) {
        if (!(e instanceof Uncertain)) throw e;
      }
    };
    toCheck = inplace(
      unknown,
      x,
      p === undefined ? null : p.slicedIsSelf ? undefined : p.lastView,
      vt,
      op,
      // copy_to expands the value before copy_ checks autograd; index_put_ checks autograd first
      guard(() => p!.entries === undefined && checkCopyTo(p!.sliced, vm!, op)),
      guard(() => p!.entries !== undefined && checkIndexPut(m!, p!.sliced, p!.entries, { ...vm!, shape: stripLeadingOnes(vm!.shape) }, false, op)),
      // written directly: index_put_, fill_ for a 0-dim CPU value (copy_to), else copy_
      p?.entries !== undefined ? INDEX_PUT_BACKWARD : vm !== undefined && vm.shape.length === 0 && vm.device === 'cpu' ? FILL_TENSOR_BACKWARD : COPY_BACKWARDS,
    );
  }
  // autograd graph: x (and the views written through) now depend on the value
  if (value instanceof Tensor && is_grad_enabled() && (value._m === undefined || value._m.requires_grad)) {
    for (const t of toCheck.length > 0 ? toCheck : [x]) link(t, [value]);
  }
  const args = [x, index, typeof value === 'number' ? wireItem(value) : value];
  if (strict.enabled && toCheck.length > 0) {
    const tmp = s.newHandle();
    const reply = s.expectReply();
    s.call(tmp, op, args, null, reply.id, true);
    s.free(tmp);
    strictProbe(s, reply.promise, toCheck, op);
  } else s.call(null, op, args, null, 0, true);
  for (const t of unknown) restateFromRuntime(s, t);
  return x;
}

/** Strict mode: after the write succeeded, every tensor whose mirror it touched agrees with torch. */
function strictProbe(s: Session, done: Promise<unknown>, tensors: Tensor[], op: string): void {
  const checks = tensors.filter((t) => t._m !== undefined && !t._disposed).map((t) => ({ t, predicted: t._m!, real: probe(s, t) }));
  for (const c of checks) c.real.catch(() => {}); // awaited only if the write succeeds: a failed probe must not crash Node
  done.then(
    () => {
      for (const c of checks) c.real.then((w) => check(s, `${opName(op)} (in place) on ${opName(c.t._op)}'s result`, c.predicted, w as WireMeta), () => {});
    },
    () => {}, // the write failed: its error surfaces at the next sync point
  );
}

function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'number') return isPyInt(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  return describe(v);
}

/**
 * The mirror rules of torch's index_put_ / index_put (the generated Tensor.index_put_ and
 * torch.index_put_ call them): `indices` a list of index tensors, `values` a Tensor of self's
 * dtype. index_put_ is an ordinary in-place method: it returns a handle to self (as add_ does)
 * and updates self's metadata (and that of its views, for autograd).
 */
function indexPutRule(inplaceOp: boolean): MetaRule {
  return (a, op) => {
    const x = a.input as Tensor;
    const values = a.values as Tensor;
    const list = a.indices;
    const accumulate = a.accumulate === true;
    if (!Array.isArray(list)) {
      throw torchError('TypeError', `${op.replace(/^\./, '')}(): argument 'indices' (position 1) must be tuple of Tensors, not ${pyTypeName(list)}`, op);
    }
    list.forEach((t, i) => {
      if (!(t instanceof Tensor)) {
        throw torchError('TypeError', `expected Tensor as element ${i} in argument ${op.startsWith('.') ? 0 : 1}, but got ${pyTypeName(t)}`, op);
      }
    });
    const idx = list as Tensor[];
    const m = x._m!;
    const vm = values._m!;
    if (inplaceOp) {
      const err = inplaceError(x, undefined, vm.requires_grad);
      if (err) throw torchError('RuntimeError', err, op);
    }
    if (idx.length > 0) {
      if (idx.length > m.shape.length) indexError(`too many indices for tensor of dimension ${m.shape.length} (got ${idx.length})`, op);
      const entries: Entry[] = idx.map((t) => {
        const tm = t._m!;
        return isMaskType(tm.dtype)
          ? { mask: true, shape: [...tm.shape], k: tm.shape.length, tensor: t }
          : { mask: false, shape: [...tm.shape], k: 1, tensor: t };
      });
      try {
        checkIndexPut(m, m.shape, entries, vm, accumulate, op);
      } catch (e) {
        if (!(e instanceof Uncertain)) throw e;
      }
    }
    const out: OutSpec = { shape: m.shape, dtype: m.dtype, device: m.device };
    if (!inplaceOp) return out;
    if (is_grad_enabled() && vm.requires_grad) markRequiresGrad(x); // self, its base and their views
    return { ...out, inplace: x };
  };
}

rule('index_put_', indexPutRule(true), { mayFail: true });
rule('index_put', indexPutRule(false), { mayFail: true });

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Tensor) return 'Tensor';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}

// ---------------------------------------------------------------------------------------------
// Tensor methods

declare module '../tensor/tensor.js' {
  interface Tensor {
    /**
     * Python's `x[i0, i1, ...]`: each item an int, `torch.slice(start, stop, step)`, '...',
     * null (None), a boolean, a Tensor (integer: advanced indexing; bool: a mask) or a number[]
     * (a list). `x.index(0)` is `x[0]`, `x.index(0, 1)` is `x[0, 1]`, `x.index([0, 2])` is
     * `x[[0, 2]]`, `x.index()` is `x[()]`. Basic indexing gives views, as in torch.
     */
    index(...indices: Index[]): Tensor;
    /**
     * Python's index syntax: `x.i('0, 1:3, ..., None')`, `x.i('::2, -1')`, `x.i('[0, 2], :')`;
     * `$0`, `$1`... are the extra arguments: `x.i(':, $0', idx)`, `x.i('$0:$1', a, b)`.
     */
    i(index: string, ...args: Index[]): Tensor;
    /**
     * Python's `x[indices] = value`, in place; returns x. `indices` is an array of index items
     * (`x.setitem([0, torch.slice(1)], v)` is `x[0, 1:] = v`; a list index is an inner array:
     * `x.setitem([[0, 2]], v)` is `x[[0, 2]] = v`), one item (`x.setitem(mask, 0)`), or a string
     * in Python syntax (`x.setitem(':, $0', 0, idx)`, extra arguments after the value).
     */
    setitem(indices: readonly Index[] | Index | string, value: SetValue, ...args: Index[]): Tensor;
  }
}

function install(name: string, fn: (this: Tensor, ...args: never[]) => unknown): void {
  Object.defineProperty(Tensor.prototype, name, { value: fn, writable: true, configurable: true });
}

install('index', function (this: Tensor, ...indices: unknown[]) {
  return getitem(this, indices, indices.length !== 1, 'index');
});

install('i', function (this: Tensor, text: string, ...args: unknown[]) {
  const { items, tuple } = resolveIndex(text, args, 'i');
  return getitem(this, items, tuple, 'i');
});

install('setitem', function (this: Tensor, indices: unknown, value: unknown, ...args: unknown[]) {
  if (typeof indices === 'string' && indices !== '...') {
    const r = resolveIndex(indices, args, 'setitem');
    return setitem(this, r.items, r.tuple, value, 'setitem');
  }
  if (args.length > 0) throw new ArgumentError('setitem(): extra arguments are only for $n placeholders in a string index');
  if (Array.isArray(indices)) return setitem(this, indices, indices.length !== 1, value, 'setitem');
  return setitem(this, [indices], false, value, 'setitem');
});
