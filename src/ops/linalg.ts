/**
 * The matmul family, with the checks (and their order) of the ATen kernel each call reaches:
 * the dot / mv / mm / bmm kernels differ in their messages, and in whether an empty operand
 * skips the dtype checks. matmul folds its operands into one of those kernels exactly as
 * ATen's _matmul_impl does. The path can hinge on strides, which the mirror does not track: it
 * knows only whether an operand may be non-contiguous (mirror/layout.ts).
 */
import { PENDING, isTensor, type MetaRule, type OutSpec } from './dispatch.js';
import type { Bound } from './signature.js';
import { rule } from './rules.js';
import type { Tensor } from '../tensor/tensor.js';
import { is_grad_enabled } from '../autograd/grad_mode.js';
import { torchError } from '../errors.js';
import { commonDevice } from './pointwise.js';
import { broadcastShapes, sameShape } from '../mirror/broadcast.js';
import { canCast, resultType } from '../mirror/promotion.js';
import { numel, reductionDims } from '../mirror/dims.js';
import { int64, type DType } from '../tensor/dtype.js';
import { expandCheck, fail, fmt, intList, promote, sizeAt, stridedView } from './shape.js';
import { backward, named } from '../mirror/grad_fn.js';
import { anyStrided, maybeStrided } from '../mirror/layout.js';

const DOT = backward('dot');
const MV = backward('mv');
const MM = backward('mm');
const ADDMM = backward('addmm');
const ADD = backward('add.Tensor');
const MUL = backward('mul.Tensor');
const VIEW = backward('view');
const UNSAFE_VIEW = backward('_unsafe_view');
const SQUEEZE_INPLACE = backward('squeeze_.dim');
const TRANSPOSE = backward('transpose.int');
const CLONE = backward('clone');

const prod = (s: readonly number[]) => s.reduce((p, v) => p * v, 1);
const isBool = (t: DType) => t.category === 'bool';
const notImplemented = (kernel: string, t: DType, op: string) => torchError('NotImplementedError', `"${kernel}" not implemented for '${t.scalarTypeName}'`, op);

/** The in-place check every autograd kernel makes first. */
function leafCheck(self: Tensor, op: string): void {
  if (is_grad_enabled() && self.is_leaf && self.requires_grad) {
    throw fail('a leaf Variable that requires grad is being used in an in-place operation.', op);
  }
}

/** at::native's check_inplace for structured in-place kernels (addmm_, addmv_, baddbmm_). */
function checkInplace(self: Tensor, shape: readonly number[], dtype: DType, op: string): OutSpec {
  if (self.dtype !== dtype) {
    throw fail(`Bad in-place call: input tensor dtype ${self.dtype.cppTypeName} and output tensor dtype ${dtype.cppTypeName} should match`, op);
  }
  if (!sameShape(self.shape, shape)) {
    throw fail(`Bad in-place call: input tensor size ${fmt(self.shape)} and output tensor size ${fmt(shape)} should match`, op);
  }
  return { shape: self.shape, dtype: self.dtype, device: self.device, inplace: self };
}

/**
 * In-place ops whose inputs require grad make self require grad, whatever its dtype (torch's
 * autograd does not check); the mirror sets that on self before dispatch derives the result.
 */
export function inplaceGrad(self: Tensor, inputs: readonly Tensor[]): void {
  if (!is_grad_enabled() || self.requires_grad || !inputs.some((t) => t !== self && t.requires_grad)) return;
  self._setMeta({ ...self._m!, requires_grad: true, is_leaf: false });
}

/** Every tensor argument of a call. */
export function tensorArgs(a: Bound): Tensor[] {
  const out: Tensor[] = [];
  for (const v of Object.values(a)) {
    if (isTensor(v)) out.push(v);
    else if (Array.isArray(v)) for (const e of v) if (isTensor(e)) out.push(e);
  }
  return out;
}

/** Register a rule of this family: integral results from inputs that require grad are refused. */
function mrule(name: string, fn: MetaRule, opts?: { mayFail?: boolean }): void {
  rule(
    name,
    (a, op) => {
      const out = fn(a, op);
      if (out === PENDING || Array.isArray(out)) return out;
      const inputs = tensorArgs(a);
      if (out.inplace) inplaceGrad(out.inplace, inputs);
      else gradCheck(out, inputs, op);
      return out;
    },
    opts,
  );
}

// ---------------------------------------------------------------------------------------------
// The four kernels. Each takes the operands' shapes and dtypes (as matmul folds them) and
// returns the result dtype.

/** at::dot / vdot: dims, dtype, numel, then the dispatch (no Bool kernel). */
function dotKernel(a: readonly number[], ad: DType, b: readonly number[], bd: DType, op: string): DType {
  if (a.length !== 1 || b.length !== 1) throw fail(`1D tensors expected, but got ${a.length}D and ${b.length}D tensors`, op);
  if (ad !== bd) throw fail(`dot : expected both vectors to have same dtype, but found ${ad.scalarTypeName} and ${bd.scalarTypeName}`, op);
  const [n, m] = [a[0]!, b[0]!];
  if (n !== m) {
    throw fail(`inconsistent tensor size, expected tensor [${n}] and src [${m}] to have the same number of elements, but got ${n} and ${m} elements respectively`, op);
  }
  if (isBool(ad)) throw notImplemented('dot', ad, op);
  return ad;
}

/** at::mm on 2-D shapes: shapes, the m1/m2 dtype check, then the Bool dispatch (when there is work). */
function mmKernel(a: readonly number[], ad: DType, b: readonly number[], bd: DType, op: string): DType {
  const [n, k] = a as [number, number];
  const [k2, m] = b as [number, number];
  if (k !== k2) throw fail(`mat1 and mat2 shapes cannot be multiplied (${n}x${k} and ${k2}x${m})`, op);
  if (ad !== bd) throw fail(`expected m1 and m2 to have the same dtype, but got: ${ad.cppTypeName} != ${bd.cppTypeName}`, op);
  if (isBool(ad) && n * m > 0 && k > 0) throw notImplemented('addmm_impl_cpu_', ad, op);
  return ad;
}

/** at::mv (through addmv): the size check; an empty matrix skips the kernel. Result: vec's dtype. */
function mvKernel(mat: readonly number[], md: DType, vec: number, vd: DType, op: string, input = mat[0]!): DType {
  const [n, k] = mat as [number, number];
  if (k !== vec) throw fail(`size mismatch, got input (${input}), mat (${n}x${k}), vec (${vec})`, op);
  if (n * k > 0) {
    if (isBool(md)) throw notImplemented('addmv_impl_cpu', md, op);
    if (md !== vd) throw fail(`expected scalar type ${md.scalarTypeName} but found ${vd.scalarTypeName}`, op);
  }
  return vd;
}

/**
 * bmm / baddbmm's kernel after the shape checks, when there is work (result not empty, k > 0):
 * small products dispatch on batch1's dtype; larger ones take other paths (mkldnn, per-batch
 * mm) with other messages, left to the runtime. Result: batch2's dtype.
 */
function bmmDtype(B: number, n: number, k: number, m: number, ad: DType, bd: DType, op: string, kernel = 'bmm'): DType | typeof PENDING {
  if (B * n * m > 0 && k > 0 && (isBool(ad) || ad !== bd)) {
    if (k * n * m >= 400) return PENDING;
    if (isBool(ad)) throw notImplemented(kernel, ad, op);
    throw fail(`expected scalar type ${ad.scalarTypeName} but found ${bd.scalarTypeName}`, op);
  }
  return bd;
}

/** result.mul_(beta) on a result of this dtype (the empty-product paths): the cast check. */
function mulBeta(dtype: DType, beta: unknown, op: string): void {
  if (beta === 0 || beta === false) return;
  const t = resultType({ dtype, ndim: 1 }, beta as number);
  if (t && !canCast(t, dtype)) throw fail(`result type ${t.scalarTypeName} can't be cast to the desired output type ${dtype.scalarTypeName}`, op);
}

/** Autograd refuses an integral result from inputs that require grad (torch raises after the kernel). */
function gradCheck(spec: OutSpec | typeof PENDING, inputs: readonly { requires_grad: boolean }[], op: string): OutSpec | typeof PENDING {
  if (spec === PENDING) return spec;
  const c = spec.dtype.category;
  if (c !== 'float' && c !== 'complex' && is_grad_enabled() && inputs.some((t) => t.requires_grad)) {
    throw fail(`Autograd not support dtype: ${spec.dtype.scalarTypeName}`, op);
  }
  return spec;
}

function bmmShapes(a: readonly number[], b: readonly number[], op: string): [number, number, number, number] {
  if (a.length !== 3) throw fail('batch1 must be a 3D tensor', op);
  if (b.length !== 3) throw fail('batch2 must be a 3D tensor', op);
  const [B, n, k] = a as [number, number, number];
  if (b[0] !== B || b[1] !== k) throw fail(`Expected size for first two dimensions of batch2 tensor to be: [${B}, ${k}] but got: [${b[0]}, ${b[1]}].`, op);
  return [B, n, k, b[2]!];
}

// ---------------------------------------------------------------------------------------------
// mm / bmm / mv / dot / vdot

mrule('mm', (a, op) => {
  const x = a.input as Tensor;
  const y = a.mat2 as Tensor;
  if (a.out_dtype !== undefined) return PENDING; // CUDA only
  const device = commonDevice([x, y], op);
  if (x.ndim !== 2) throw fail('self must be a matrix', op);
  if (y.ndim !== 2) throw fail('mat2 must be a matrix', op);
  const dtype = mmKernel(x.shape, x.dtype, y.shape, y.dtype, op);
  return { shape: [x.shape[0]!, y.shape[1]!], dtype, device, contiguous: true };
});

mrule('bmm', (a, op) => {
  const x = a.input as Tensor;
  const y = a.mat2 as Tensor;
  if (a.out_dtype !== undefined) return PENDING;
  const device = commonDevice([x, y], op);
  const [B, n, k, m] = bmmShapes(x.shape, y.shape, op);
  const dtype = bmmDtype(B, n, k, m, x.dtype, y.dtype, op);
  return gradCheck(dtype === PENDING ? PENDING : { shape: [B, n, m], dtype, device, contiguous: true }, [x, y], op);
});

mrule('mv', (a, op) => {
  const x = a.input as Tensor;
  const v = a.vec as Tensor;
  const device = commonDevice([x, v], op);
  const rows = sizeAt(x, 0, op); // mv makes its result (self.size(0),) before addmv's checks
  if (x.ndim !== 2 || v.ndim !== 1) throw fail(`vector + matrix @ vector expected, got 1, ${x.ndim}, ${v.ndim}`, op);
  return gradCheck({ shape: [rows], dtype: mvKernel(x.shape, x.dtype, v.shape[0]!, v.dtype, op), device, contiguous: true }, [x, v], op);
});

for (const name of ['dot', 'vdot']) {
  mrule(name, (a, op) => {
    const x = a.input as Tensor;
    const y = (a.tensor ?? a.other) as Tensor;
    const device = commonDevice([x, y], op);
    return { shape: [], dtype: dotKernel(x.shape, x.dtype, y.shape, y.dtype, op), device };
  });
}

// ---------------------------------------------------------------------------------------------
// matmul

/** Contiguous strides (torch's convention for size-0/1 dims). */
function contiguousStrides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= Math.max(shape[i]!, 1);
  }
  return st;
}

/** The operand metadata matmul's decomposition works on (it squeezes and transposes them). */
interface Operand {
  shape: readonly number[];
  dtype: DType;
  requires_grad: boolean;
  /** known contiguous (else it may not be) */
  knownContiguous?: boolean;
}

/**
 * ATen's should_fold (mirrored by torch/_decomp's matmul), for contiguous inputs: fold the
 * larger operand into an mm / mv when that needs no copy, or when the other requires grad.
 */
function shouldFold(x: Operand, y: Operand): boolean {
  const xLarger = x.shape.length >= y.shape.length;
  const [t1, t2] = xLarger ? [x, y] : [y, x];
  if (!(t1.shape.length >= 3 && t2.shape.length <= 2)) return false;
  if (t2.requires_grad) return true;
  if (x.shape.length === 2) return false;
  if (numel(t1.shape) === 0) return true;
  if (xLarger) return true; // x itself: contiguous
  // y.mT folds without a copy when its leading dims are contiguous (ATen checks i < ndim - 2)
  const d = y.shape.length;
  const shape = [...y.shape];
  const strides = contiguousStrides(shape);
  [shape[d - 2], shape[d - 1]] = [shape[d - 1]!, shape[d - 2]!];
  [strides[d - 2], strides[d - 1]] = [strides[d - 1]!, strides[d - 2]!];
  for (let i = 0; i < d - 2; i++) if (strides[i] !== strides[i + 1]! * shape[i + 1]!) return false;
  return true;
}

type Product = { shape: number[]; dtype: DType } | typeof PENDING;

function matmulImpl(x: Operand, y: Operand, op: string): Product {
  const xs = x.shape;
  const ys = y.shape;
  const dx = xs.length;
  const dy = ys.length;
  if (dx === 1 && dy === 1) return { shape: [], dtype: dotKernel(xs, x.dtype, ys, y.dtype, op) };
  if (dx === 2 && dy === 1) return { shape: [xs[0]!], dtype: mvKernel(xs, x.dtype, ys[0]!, y.dtype, op) };
  if (dx === 1 && dy === 2) return { shape: [ys[1]!], dtype: mmKernel([1, xs[0]!], x.dtype, ys, y.dtype, op) };
  if (dx === 2 && dy === 2) return { shape: [xs[0]!, ys[1]!], dtype: mmKernel(xs, x.dtype, ys, y.dtype, op) };
  const fold = shouldFold(x, y);
  const [t1, t2] = dx >= dy ? [x, y] : [y, x];
  // whether folding hinges on the larger operand's strides, unknown unless it is contiguous
  const strideDependent = t1.shape.length >= 3 && t2.shape.length <= 2 && !t2.requires_grad && dx !== 2 && numel(t1.shape) > 0 && t1.knownContiguous !== true;
  const [path, other] = fold ? [foldedProduct, batchedProduct] : [batchedProduct, foldedProduct];
  if (!strideDependent) return path(x, y, op);
  try {
    return path(x, y, op);
  } catch (e) {
    // torch may take the other path for a non-contiguous operand: if that one succeeds, only the
    // runtime can tell
    try {
      other(x, y, op);
    } catch {
      throw e;
    }
    return PENDING;
  }
}

/** matmul folded into one mm / mv (ATen's should_fold branch). */
function foldedProduct(x: Operand, y: Operand, op: string): Product {
  const xs = x.shape;
  const ys = y.shape;
  const [dx, dy] = [xs.length, ys.length];
  const transpose = dy > dx;
  // t1: the larger operand (y.mT if it is y); t2: the other (x.t() if a matrix)
  const t1 = transpose ? [...ys.slice(0, -2), ys[dy - 1]!, ys[dy - 2]!] : [...xs];
  const [t1d, t2d] = transpose ? [y.dtype, x.dtype] : [x.dtype, y.dtype];
  const t2 = transpose ? (dx === 2 ? [xs[1]!, xs[0]!] : [...xs]) : [...ys];
  const out = t1.slice(0, -1);
  const folded = [prod(out), t1[t1.length - 1]!];
  if (t2.length === 2) {
    const dtype = mmKernel(folded, t1d, t2, t2d, op);
    out.push(t2[1]!);
    if (transpose) [out[out.length - 2], out[out.length - 1]] = [out[out.length - 1]!, out[out.length - 2]!];
    return { shape: out, dtype };
  }
  return { shape: out, dtype: mvKernel(folded, t1d, t2[0]!, t2d, op) };
}

/** matmul as one bmm over the broadcast batch dims. */
function batchedProduct(x: Operand, y: Operand, op: string): Product {
  const xs = x.shape;
  const ys = y.shape;
  const [dx, dy] = [xs.length, ys.length];
  const n = dx > 1 ? xs[dx - 2]! : 1;
  const k = xs[dx - 1]!;
  const k2 = dy > 1 ? ys[dy - 2]! : ys[0]!;
  const m = dy > 1 ? ys[dy - 1]! : 1;
  const b1 = xs.slice(0, Math.max(dx - 2, 0));
  const b2 = ys.slice(0, Math.max(dy - 2, 0));
  // a broadcast batch of 1 on a tensor that requires grad: folded instead (as should_fold does)
  if (dx === 3 && dy === 3 && b1[0] !== b2[0]) {
    if (b1[0] === 1 && x.requires_grad) return matmulImpl({ shape: xs.slice(1), dtype: x.dtype, requires_grad: true, knownContiguous: x.knownContiguous }, y, op);
    if (b2[0] === 1 && y.requires_grad) return matmulImpl(x, { shape: ys.slice(1), dtype: y.dtype, requires_grad: true, knownContiguous: y.knownContiguous }, op);
  }
  const batch = [...broadcastShapes(b1, b2, op)];
  const B = prod(batch);
  if (k !== k2) throw fail(`Expected size for first two dimensions of batch2 tensor to be: [${B}, ${k}] but got: [${B}, ${k2}].`, op);
  const dtype = bmmDtype(B, n, k, m, x.dtype, y.dtype, op);
  if (dtype === PENDING) return PENDING;
  if (dx > 1) batch.push(n);
  if (dy > 1) batch.push(m);
  return { shape: batch, dtype };
}

/**
 * The node of matmul's result, by the path _matmul_impl takes: dot / mv / mm for 1-2 dims;
 * x.unsqueeze(0).mm(y).squeeze_(0) for a vector times a matrix; folded or batched products end
 * in _unsafe_view, except a matrix times a batch folded as (y.mT @ x.t()).mT.contiguous(),
 * a copy unless that transpose is already contiguous.
 */
export function matmulNode(x: Operand, y: Operand): string {
  const xs = x.shape;
  const ys = y.shape;
  const [dx, dy] = [xs.length, ys.length];
  if (dx === 1 && dy === 1) return DOT;
  if (dx === 2 && dy === 1) return MV;
  if (dx === 1 && dy === 2) return SQUEEZE_INPLACE;
  if (dx === 2 && dy === 2) return MM;
  if (shouldFold(x, y)) {
    if (dy > dx && dx === 2) {
      const [a, b] = [ys[dy - 1]!, xs[0]!];
      return numel(ys.slice(0, -2)) === 0 || a <= 1 || b <= 1 ? TRANSPOSE : CLONE;
    }
    return UNSAFE_VIEW;
  }
  // batchedProduct's refold of a broadcast batch of 1 that requires grad
  if (dx === 3 && dy === 3 && xs[0] !== ys[0]) {
    if (xs[0] === 1 && x.requires_grad) return matmulNode({ shape: xs.slice(1), dtype: x.dtype, requires_grad: true }, y);
    if (ys[0] === 1 && y.requires_grad) return matmulNode(x, { shape: ys.slice(1), dtype: y.dtype, requires_grad: true });
  }
  return UNSAFE_VIEW;
}

export function matmulSpec(x: Tensor, y: Tensor, op: string, what = 'matmul'): OutSpec | typeof PENDING {
  const device = commonDevice([x, y], op);
  if (x.ndim === 0 || y.ndim === 0) {
    throw fail(`both arguments to ${what} need to be at least 1D, but they are ${x.ndim}D and ${y.ndim}D`, op);
  }
  const operand = (t: Tensor): Operand => ({ shape: t.shape, dtype: t.dtype, requires_grad: t.requires_grad, knownContiguous: !maybeStrided(t) });
  const out = matmulImpl(operand(x), operand(y), op);
  // the node does not depend on the path's strides (folded or batched, both end in _unsafe_view);
  // the result is a fresh contiguous tensor
  return gradCheck(out === PENDING ? PENDING : { ...out, device, grad_fn: matmulNode(x, y), contiguous: true }, [x, y], op);
}

mrule('matmul', (a, op) => matmulSpec(a.input as Tensor, a.other as Tensor, op));
mrule('linalg.matmul', (a, op) => matmulSpec(a.input as Tensor, a.other as Tensor, op));

// ---------------------------------------------------------------------------------------------
// addmm / addmv / addbmm / baddbmm / addr

function addmmChecks(self: Tensor, m1: Tensor, m2: Tensor, op: string): readonly number[] {
  if (self.dtype !== m2.dtype) {
    throw fail(`self and mat2 must have the same dtype, but got ${self.dtype.scalarTypeName} and ${m2.dtype.scalarTypeName}`, op);
  }
  if (m1.dtype !== m2.dtype) {
    throw fail(`mat1 and mat2 must have the same dtype, but got ${m1.dtype.scalarTypeName} and ${m2.dtype.scalarTypeName}`, op);
  }
  if (m1.ndim !== 2) throw fail(`mat1 must be a matrix, got ${m1.ndim}-D tensor`, op);
  if (m2.ndim !== 2) throw fail(`mat2 must be a matrix, got ${m2.ndim}-D tensor`, op);
  const [n, k] = m1.shape as [number, number];
  const [k2, m] = m2.shape as [number, number];
  if (k !== k2) throw fail(`mat1 and mat2 shapes cannot be multiplied (${n}x${k} and ${k2}x${m})`, op);
  return [n, m];
}

/** addmm's kernel after the meta checks: result *= beta for k = 0, else the Bool dispatch. */
function addmmKernel(shape: readonly number[], k: number, dtype: DType, beta: unknown, op: string): void {
  if (prod(shape) === 0) return;
  if (k === 0) mulBeta(dtype, beta, op);
  else if (isBool(dtype)) throw notImplemented('addmm_impl_cpu_', dtype, op);
}

mrule('addmm', (a, op) => {
  const [self, m1, m2] = [a.input, a.mat1, a.mat2] as Tensor[];
  if (a.out_dtype !== undefined) return PENDING;
  const device = commonDevice([self!, m1!, m2!], op);
  const shape = addmmChecks(self!, m1!, m2!, op);
  expandCheck(self!, shape, op);
  addmmKernel(shape, m1!.shape[1]!, m1!.dtype, a.beta ?? 1, op);
  return { shape, dtype: m1!.dtype, device };
});

mrule('addmm_', (a, op) => {
  const [self, m1, m2] = [a.input, a.mat1, a.mat2] as Tensor[];
  leafCheck(self!, op);
  commonDevice([self!, m1!, m2!], op);
  const shape = addmmChecks(self!, m1!, m2!, op);
  const out = checkInplace(self!, shape, m1!.dtype, op);
  addmmKernel(shape, m1!.shape[1]!, m1!.dtype, a.beta ?? 1, op);
  return out;
});

function addmvChecks(self: Tensor, mat: Tensor, vec: Tensor, op: string): number {
  if (!(mat.ndim === 2 && vec.ndim === 1 && self.ndim <= 1)) {
    throw fail(`vector + matrix @ vector expected, got ${self.ndim}, ${mat.ndim}, ${vec.ndim}`, op);
  }
  const selfNumel = numel(self.shape);
  const [n, k] = mat.shape as [number, number];
  if (!(k === vec.shape[0] && (n === selfNumel || selfNumel === 1))) {
    throw fail(`size mismatch, got input (${sizeAt(self, 0, op)}), mat (${n}x${k}), vec (${vec.shape[0]})`, op);
  }
  return n;
}

function addmvKernel(self: Tensor, mat: Tensor, vec: Tensor, beta: unknown, op: string): void {
  if (numel(mat.shape) === 0) {
    // result = self * beta (unless beta is 0), written into a tensor of vec's dtype
    const zero = beta === 0 || beta === false;
    if (!zero && !canCast(self.dtype, vec.dtype)) {
      throw fail(`result type ${self.dtype.scalarTypeName} can't be cast to the desired output type ${vec.dtype.scalarTypeName}`, op);
    }
    return;
  }
  if (isBool(mat.dtype)) throw notImplemented('addmv_impl_cpu', mat.dtype, op);
  if (mat.dtype !== vec.dtype) throw fail(`expected scalar type ${mat.dtype.scalarTypeName} but found ${vec.dtype.scalarTypeName}`, op);
}

mrule('addmv', (a, op) => {
  const [self, mat, vec] = [a.input, a.mat, a.vec] as Tensor[];
  const device = commonDevice([self!, mat!, vec!], op);
  const n = addmvChecks(self!, mat!, vec!, op);
  const beta = a.beta ?? 1;
  addmvKernel(self!, mat!, vec!, beta, op);
  // an empty matrix: result = self * beta, which gives self's shape (unless beta is 0)
  const shape = numel(mat!.shape) === 0 && beta !== 0 && beta !== false ? self!.shape : [n];
  return gradCheck({ shape, dtype: vec!.dtype, device }, [self!, mat!, vec!], op);
});

mrule('addmv_', (a, op) => {
  const [self, mat, vec] = [a.input, a.mat, a.vec] as Tensor[];
  leafCheck(self!, op);
  commonDevice([self!, mat!, vec!], op);
  const n = addmvChecks(self!, mat!, vec!, op);
  const out = checkInplace(self!, [n], vec!.dtype, op);
  addmvKernel(self!, mat!, vec!, a.beta ?? 1, op);
  return out;
});

function baddbmmChecks(self: Tensor, b1: Tensor, b2: Tensor, beta: unknown, op: string, inplace: boolean): { shape: number[]; dtype: DType | typeof PENDING; out?: OutSpec } {
  const target = [sizeAt(b1, 0, op), sizeAt(b1, 1, op), sizeAt(b2, 2, op)];
  expandCheck(self, target, op);
  if (self.dtype !== b1.dtype) {
    throw fail(`Input dtypes must be the same, got: input ${self.dtype.cppTypeName}, batch1: ${b1.dtype.cppTypeName}, batch2: ${b2.dtype.cppTypeName}`, op);
  }
  const [B, n, k, m] = bmmShapes(b1.shape, b2.shape, op);
  const shape = [B, n, m];
  const out = inplace ? checkInplace(self, shape, b2.dtype, op) : undefined;
  if (B * n * m > 0 && k === 0) mulBeta(b2.dtype, beta, op);
  return { shape, dtype: bmmDtype(B, n, k, m, b1.dtype, b2.dtype, op, 'baddbmm'), out };
}

mrule('baddbmm', (a, op) => {
  const [self, b1, b2] = [a.input, a.batch1, a.batch2] as Tensor[];
  if (a.out_dtype !== undefined) return PENDING;
  const device = commonDevice([self!, b1!, b2!], op);
  const { shape, dtype } = baddbmmChecks(self!, b1!, b2!, a.beta ?? 1, op, false);
  return gradCheck(dtype === PENDING ? PENDING : { shape, dtype, device }, [self!, b1!, b2!], op);
});

mrule('baddbmm_', (a, op) => {
  const [self, b1, b2] = [a.input, a.batch1, a.batch2] as Tensor[];
  leafCheck(self!, op);
  commonDevice([self!, b1!, b2!], op);
  const { dtype, out } = baddbmmChecks(self!, b1!, b2!, a.beta ?? 1, op, true);
  return dtype === PENDING ? PENDING : out!;
});

/** addbmm: self expanded to (n, m); then one addmm_ per batch (so its dtype checks, if any batch). */
function addbmmChecks(self: Tensor, b1: Tensor, b2: Tensor, beta: unknown, op: string): number[] {
  const shape = [sizeAt(b1, 1, op), sizeAt(b2, 2, op)];
  expandCheck(self, shape, op);
  if (b1.ndim !== 3) throw fail('batch1 must be a 3D tensor', op);
  if (b2.ndim !== 3) throw fail('batch2 must be a 3D tensor', op);
  if (b1.shape[0] !== b2.shape[0]) throw fail(`batch1 and batch2 must have same number of batches, got ${b1.shape[0]} and ${b2.shape[0]}`, op);
  if (b1.shape[2] !== b2.shape[1]) {
    throw fail(`Incompatible matrix sizes for bmm (${b1.shape[1]}x${b1.shape[2]} and ${b2.shape[1]}x${b2.shape[2]})`, op);
  }
  if (b1.shape[0]! > 0) {
    // result.addmm_(batch1[i], batch2[i]) with result of self's dtype
    if (self.dtype !== b2.dtype) {
      throw fail(`self and mat2 must have the same dtype, but got ${self.dtype.scalarTypeName} and ${b2.dtype.scalarTypeName}`, op);
    }
    if (b1.dtype !== b2.dtype) {
      throw fail(`mat1 and mat2 must have the same dtype, but got ${b1.dtype.scalarTypeName} and ${b2.dtype.scalarTypeName}`, op);
    }
    addmmKernel(shape, b1.shape[2]!, self.dtype, beta, op);
  } else mulBeta(self.dtype, beta, op); // no batch: result *= beta, even when empty
  return shape;
}

mrule('addbmm', (a, op) => {
  const [self, b1, b2] = [a.input, a.batch1, a.batch2] as Tensor[];
  const device = commonDevice([self!, b1!, b2!], op);
  return { shape: addbmmChecks(self!, b1!, b2!, a.beta ?? 1, op), dtype: self!.dtype, device };
});

mrule('addbmm_', (a, op) => {
  const [self, b1, b2] = [a.input, a.batch1, a.batch2] as Tensor[];
  leafCheck(self!, op);
  commonDevice([self!, b1!, b2!], op);
  const shape = addbmmChecks(self!, b1!, b2!, a.beta ?? 1, op);
  if (!sameShape(shape, self!.shape)) return PENDING; // torch resizes self: leave it to the runtime
  return { shape: self!.shape, dtype: self!.dtype, device: self!.device, inplace: self! };
});

/** addr's beta/alpha checks on the result dtype. */
function addrScalar(dtype: DType, v: unknown, name: string, op: string): void {
  if (v === undefined) return;
  if (typeof v === 'boolean' && !isBool(dtype)) throw fail(`Boolean ${name} only supported for Boolean results.`, op);
  const integral = typeof v === 'boolean' || typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v));
  if (!(dtype.category === 'float' || dtype.category === 'complex' || integral)) {
    throw fail(`For integral input tensors, argument ${name} must not be a floating point number.`, op);
  }
}

function addrOperands(v1: Tensor, v2: Tensor, op: string): void {
  if (v1.ndim !== 1) throw fail(`addr: Expected 1-D argument vec1, but got ${v1.ndim}-D`, op);
  if (v2.ndim !== 1) throw fail(`addr: Expected 1-D argument vec2, but got ${v2.ndim}-D`, op);
}

mrule('addr', (a, op) => {
  const [self, v1, v2] = [a.input, a.vec1, a.vec2] as Tensor[];
  const device = commonDevice([self!, v1!, v2!], op);
  addrOperands(v1!, v2!, op);
  const shape = [v1!.shape[0]!, v2!.shape[0]!];
  expandCheck(self!, shape, op);
  const dtype = promote(promote(self!.dtype, v1!.dtype, op), v2!.dtype, op);
  addrScalar(dtype, a.beta, 'beta', op);
  addrScalar(dtype, a.alpha, 'alpha', op);
  return { shape, dtype, device };
});

mrule('addr_', (a, op) => {
  const [self, v1, v2] = [a.input, a.vec1, a.vec2] as Tensor[];
  leafCheck(self!, op);
  commonDevice([self!, v1!, v2!], op);
  addrOperands(v1!, v2!, op);
  const [n, m] = [v1!.shape[0]!, v2!.shape[0]!];
  if (self!.ndim !== 2) throw fail(`2D tensor expected, got ${self!.ndim}D tensor for input`, op);
  if (self!.shape[0] !== n || self!.shape[1] !== m) {
    throw fail(`size mismatch, input: ${fmt(self!.shape)}, v1: ${fmt(v1!.shape)}, v2: ${fmt(v2!.shape)}`, op);
  }
  const common = promote(promote(self!.dtype, v1!.dtype, op), v2!.dtype, op);
  if (!canCast(common, self!.dtype)) {
    throw fail(`result type ${common.scalarTypeName} can't be cast to the desired output type ${self!.dtype.scalarTypeName}`, op);
  }
  addrScalar(self!.dtype, a.beta, 'beta', op);
  addrScalar(self!.dtype, a.alpha, 'alpha', op);
  return { shape: self!.shape, dtype: self!.dtype, device: self!.device, inplace: self! };
});

// ---------------------------------------------------------------------------------------------
// outer / inner / kron / tensordot

for (const name of ['outer', 'ger']) {
  mrule(name, (a, op) => {
    const x = a.input as Tensor;
    const y = a.vec2 as Tensor;
    const device = commonDevice([x, y], op);
    if (x.ndim !== 1) throw fail(`outer: Expected 1-D argument self, but got ${x.ndim}-D`, op);
    if (y.ndim !== 1) throw fail(`outer: Expected 1-D argument vec2, but got ${y.ndim}-D`, op);
    return { shape: [x.shape[0]!, y.shape[0]!], dtype: promote(x.dtype, y.dtype, op), device };
  });
}

mrule('inner', (a, op) => {
  const x = a.input as Tensor;
  const y = a.other as Tensor;
  const device = commonDevice([x, y], op);
  if (x.ndim === 0 || y.ndim === 0) {
    // self * other, with the usual promotion between a 0-dim and a dimensioned tensor
    const shape = broadcastShapes(x.shape, y.shape, op);
    if ([x.dtype, y.dtype].some((t) => ['uint16', 'uint32', 'uint64'].includes(t.name))) return PENDING;
    const dtype = resultType({ dtype: x.dtype, ndim: x.ndim }, { dtype: y.dtype, ndim: y.ndim });
    return dtype ? { shape, dtype, device, grad_fn: MUL } : PENDING;
  }
  if (x.shape[x.ndim - 1] !== y.shape[y.ndim - 1]) {
    throw fail(`inner() the last dimension must match on both input tensors but got shapes ${fmt(x.shape)} and ${fmt(y.shape)}`, op);
  }
  return tensordotSpec(x, y, [-1], [-1], op);
});

mrule('kron', (a, op) => {
  const x = a.input as Tensor;
  const y = a.other as Tensor;
  const device = commonDevice([x, y], op);
  const n = Math.max(x.ndim, y.ndim);
  const px = n - x.ndim;
  const py = n - y.ndim;
  const shape = Array.from({ length: n }, (_, i) => (i >= px ? x.shape[i - px]! : 1) * (i >= py ? y.shape[i - py]! : 1));
  const dtype = promote(x.dtype, y.dtype, op);
  // torch's kron views its operands and fails for many non-contiguous ones: the runtime answers
  if (anyStrided([x, y])) return PENDING;
  return { shape, dtype, device, grad_fn: UNSAFE_VIEW };
});

function tensordotSpec(x: Tensor, y: Tensor, dims1: number[], dims2: number[], op: string): OutSpec {
  const device = commonDevice([x, y], op);
  if (dims1.length !== dims2.length) throw fail('both dimension lists should have same length', op);
  if (x.dtype !== y.dtype) throw fail('both inputs should have same dtype', op);
  let csize = 1;
  dims1.forEach((d1, i) => {
    const d2 = dims2[i]!;
    const s1 = sizeAt(x, d1, op);
    const s2 = sizeAt(y, d2, op);
    if (s2 === 1 || s1 === 1) return; // broadcast: summed right away
    if (s1 !== s2) throw fail(`contracted dimensions need to match, but first has size ${s1} in dim ${d1} and second has size ${s2} in dim ${d2}`, op);
    csize *= s1;
  });
  const c1 = reductionDims(dims1.length ? dims1 : undefined, x.ndim, op);
  const c2 = reductionDims(dims2.length ? dims2 : undefined, y.ndim, op);
  const keep1 = dims1.length ? x.shape.filter((_, i) => !c1.has(i)) : [...x.shape];
  const keep2 = dims2.length ? y.shape.filter((_, i) => !c2.has(i)) : [...y.shape];
  const shape = [...keep1, ...keep2];
  if (isBool(x.dtype)) {
    // (1, k) @ (k, 1) is a dot product
    if (prod(keep1) === 1 && prod(keep2) === 1) throw notImplemented('dot', x.dtype, op);
    if (prod(shape) > 0 && csize > 0) throw notImplemented('addmm_impl_cpu_', x.dtype, op);
  }
  // mm of the operands permuted and folded to matrices, reshaped (a view) to the result
  return { shape, dtype: x.dtype, device, grad_fn: VIEW };
}

mrule('tensordot', (a, op) => {
  const x = a.a as Tensor;
  const y = a.b as Tensor;
  const dims = a.dims ?? 2;
  if (typeof dims === 'number') {
    if (dims < 0) throw fail(`tensordot expects dims >= 0, but got dims=${dims}`, op);
    if (dims > Math.min(x.ndim, y.ndim)) throw fail(`tensordot expects dims < ndim_a or ndim_b, but got dims=${dims}`, op);
    return tensordotSpec(
      x,
      y,
      Array.from({ length: dims }, (_, i) => i - dims),
      Array.from({ length: dims }, (_, i) => i),
      op,
    );
  }
  if (Array.isArray(dims) && dims.length === 2) {
    const [d1, d2] = dims as unknown[];
    const ok = (v: unknown) => typeof v === 'number' || (Array.isArray(v) && v.every((e) => typeof e === 'number'));
    if (ok(d1) && ok(d2)) return tensordotSpec(x, y, intList(d1), intList(d2), op);
  }
  return PENDING; // a tensor of dims (data), or an argument torch rejects with a Python message
});

// ---------------------------------------------------------------------------------------------
// einsum

const LETTERS = 52;
const ELLIPSIS = LETTERS;
const toSubscript = (c: string) => (c >= 'A' && c <= 'Z' ? c.charCodeAt(0) - 65 : c.charCodeAt(0) - 97 + 26);
const toLabel = (s: number) => String.fromCharCode(s < 26 ? s + 65 : s - 26 + 97);
const isAlpha = (c: string) => /^[A-Za-z]$/.test(c);

mrule('einsum', (a, op) => {
  const eq = a.equation as string;
  const ops = (a.operands as Tensor[] | undefined) ?? [];
  if (ops.length === 0) {
    throw fail('einsum(): must specify the equation string and at least one operand, or at least one operand and its subscripts list', op, 'ValueError');
  }
  const device = commonDevice(ops, op);
  const arrow = eq.indexOf('->');
  const lhs = arrow >= 0 ? eq.slice(0, arrow) : eq;
  const opLabels: number[][] = ops.map(() => []);
  let ellInInput = false;
  let cur = 0;
  for (let i = 0; i < lhs.length; i++) {
    const c = lhs[i]!;
    if (c === ' ') continue;
    if (c === '.') {
      if (ellInInput) throw fail(`einsum(): found '.' for operand ${cur} for which an ellipsis was already found`, op);
      if (!(i + 2 < lhs.length && lhs[++i] === '.' && lhs[++i] === '.')) throw fail(`einsum(): found '.' for operand ${cur} that is not part of any ellipsis`, op);
      opLabels[cur]!.push(ELLIPSIS);
      ellInInput = true;
    } else if (c === ',') {
      cur++;
      if (cur >= ops.length) throw fail('einsum(): fewer operands were provided than specified in the equation', op);
      ellInInput = false;
    } else {
      if (!isAlpha(c)) throw fail(`einsum(): invalid subscript given at index ${i} in the equation string, subscripts must be in [a-zA-Z]`, op);
      opLabels[cur]!.push(toSubscript(c));
    }
  }
  if (cur !== ops.length - 1) throw fail('einsum(): more operands were provided than specified in the equation', op);

  const count = new Array<number>(LETTERS).fill(0);
  let ellDims = 0;
  ops.forEach((t, i) => {
    let n = opLabels[i]!.length;
    let hasEll = false;
    for (const l of opLabels[i]!) {
      if (l === ELLIPSIS) {
        n--;
        hasEll = true;
        ellDims = Math.max(ellDims, t.ndim - n);
      } else count[l]!++;
    }
    if (hasEll ? n > t.ndim : n !== t.ndim) {
      throw fail(
        `einsum(): the number of subscripts in the equation (${n}) ${hasEll ? 'is more than' : 'does not match'} the number of dimensions (${t.ndim}) for operand ${i}${hasEll ? '' : ' and no ellipsis was given'}`,
        op,
      );
    }
  });

  // output layout: a list of labels (or ELLIPSIS)
  const perm = new Array<number>(LETTERS).fill(-1);
  let permIndex = 0;
  let ellInOutput = false;
  const outLabels: number[] = [];
  if (arrow < 0) {
    ellInOutput = true;
    if (ellDims > 0) outLabels.push(ELLIPSIS);
    for (let l = 0; l < LETTERS; l++) {
      if (count[l] === 1) {
        perm[l] = permIndex++;
        outLabels.push(l);
      }
    }
  } else {
    const rhs = eq.slice(arrow + 2);
    for (let i = 0; i < rhs.length; i++) {
      const c = rhs[i]!;
      if (c === ' ') continue;
      if (c === '.') {
        if (ellInOutput) throw fail("einsum(): found '.' for output but an ellipsis (...) was already found", op);
        if (!(i + 2 < rhs.length && rhs[++i] === '.' && rhs[++i] === '.')) throw fail("einsum(): found '.' for output that is not part of any ellipsis (...)", op);
        ellInOutput = true;
        outLabels.push(ELLIPSIS);
      } else {
        if (!isAlpha(c)) {
          throw fail(`einsum(): invalid subscript given at index ${lhs.length + 2 + i} in the equation string, subscripts must be in [a-zA-Z]`, op);
        }
        const s = toSubscript(c);
        if (!(count[s]! > 0 && perm[s] === -1)) {
          throw fail(`einsum(): output subscript ${c}${perm[s]! > -1 ? ' appears more than once in the output' : ' does not appear in the equation for any input operand'}`, op);
        }
        perm[s] = permIndex++;
        outLabels.push(s);
      }
    }
  }

  // sizes: labels and ellipsis dims broadcast across operands (size 1 broadcasts)
  const labelSize = new Array<number>(LETTERS).fill(1);
  const ellSizes = new Array<number>(ellDims).fill(1);
  ops.forEach((t, i) => {
    const labels = opLabels[i]!;
    const seen = new Map<number, number>(); // label -> dim
    let dim = 0;
    for (const s of labels) {
      if (s === ELLIPSIS) {
        const nd = t.ndim - (labels.length - 1);
        for (let j = ellDims - nd; j < ellDims; j++) {
          const size = t.shape[dim]!;
          if (size !== 1) {
            if (!(ellSizes[j] === 1 || ellSizes[j] === size)) {
              throw fail(
                `einsum(): dimension ${dim} covered by ellipsis in operand ${i}has size ${size} which does not broadcast with previously seen ellipsis with size ${ellSizes[j]} for the respective dimension`,
                op,
              );
            }
            ellSizes[j] = size;
          }
          dim++;
        }
      } else if (!seen.has(s)) {
        const size = t.shape[dim]!;
        if (size !== 1) {
          if (!(labelSize[s] === 1 || labelSize[s] === size)) {
            throw fail(`einsum(): subscript ${toLabel(s)} has size ${size} for operand ${i} which does not broadcast with previously seen size ${labelSize[s]}`, op);
          }
          labelSize[s] = size;
        }
        seen.set(s, dim++);
      } else {
        const prev = seen.get(s)!;
        if (t.shape[dim] !== t.shape[prev]) {
          throw fail(`einsum(): subscript ${toLabel(s)} is repeated for operand ${i} but the sizes don't match, ${t.shape[dim]} != ${t.shape[prev]}`, op);
        }
        dim++;
      }
    }
  });

  const shape: number[] = [];
  for (const l of outLabels) {
    if (l === ELLIPSIS) shape.push(...ellSizes);
    else shape.push(labelSize[l]!);
  }
  const summed = count.some((c, l) => c > 0 && perm[l] === -1) || (!ellInOutput && ellDims > 0);
  const x = ops[0]!;
  if (ops.length === 1) {
    if (!summed) return stridedView(x, shape); // a permutation / diagonal of the operand
    const t = x.dtype.category === 'int' || x.dtype.category === 'bool' ? ('int64' as const) : undefined;
    // the result is permuted back to the output's subscripts: its layout follows the contraction
    return { shape, dtype: t ? int64 : x.dtype, device, contiguous: false };
  }
  // several operands: pairwise mul / bmm; for one float or complex dtype that dtype results
  const dtype = x.dtype;
  if (ops.some((t) => t.dtype !== dtype) || !(dtype.category === 'float' || dtype.category === 'complex')) return PENDING;
  return { shape, dtype, device, contiguous: false }; // permuted back to the output's subscripts
});


// ---------------------------------------------------------------------------------------------
// nn.functional.linear

mrule(
  'nn.functional.linear',
  (a, op) => {
    const x = a.input as Tensor;
    const w = a.weight as Tensor;
    const bias = (a.bias ?? undefined) as Tensor | undefined;
    const device = commonDevice(bias ? [x, w, bias] : [x, w], op);
    if (x.ndim === 0 || w.ndim === 0) {
      throw fail(`both arguments to linear need to be at least 1D, but they are ${x.ndim}D and ${w.ndim}D`, op);
    }
    if (w.ndim > 2) throw fail(`t() expects a tensor with <= 2 dimensions, but self is ${w.ndim}D`, op);
    const wt = w.ndim === 2 ? [w.shape[1]!, w.shape[0]!] : [...w.shape];
    const wtT = { ...tensorLike(w), shape: wt, ndim: wt.length } as unknown as Tensor;
    const fused = (b: Tensor): OutSpec => {
      // addmm(bias, input folded to 2-D, weight.t())
      const x2 = x.ndim === 2 ? x : ({ ...tensorLike(x), shape: [prod(x.shape.slice(0, -1)), x.shape[x.ndim - 1]!], ndim: 2 } as unknown as Tensor);
      const shape = addmmChecks(b, x2, wtT, op);
      expandCheck(b, shape, op);
      addmmKernel(shape, x2.shape[1]!, x.dtype, 1, op);
      // addmm(bias, x, w.t()); other ranks are folded to 2-d, then viewed back
      if (x.ndim === 2) return { shape, dtype: x.dtype, device, grad_fn: ADDMM };
      return { shape: [...x.shape.slice(0, -1), shape[1]!], dtype: x.dtype, device, grad_fn: VIEW };
    };
    const unfused = (): OutSpec | typeof PENDING => {
      // matmul(input, weight.t()), then output.add_(bias)
      const out = matmulSpec(x, wtT, op);
      if (out === PENDING || !bias) return out;
      out.grad_fn = ADD; // output.add_(bias)
      const shape = broadcastShapes(out.shape, bias.shape, op);
      if (!sameShape(shape, out.shape)) throw fail(`output with shape ${fmt(out.shape)} doesn't match the broadcast shape ${fmt(shape)}`, op);
      const t = resultType({ dtype: out.dtype, ndim: out.shape.length }, { dtype: bias.dtype, ndim: bias.ndim });
      if (!t) return PENDING;
      if (!canCast(t, out.dtype)) throw fail(`result type ${t.scalarTypeName} can't be cast to the desired output type ${out.dtype.scalarTypeName}`, op);
      return { ...out, device };
    };
    const result = (out: OutSpec | typeof PENDING) => (out === PENDING ? out : { ...out, contiguous: true });
    if (!bias || !(x.ndim === 2 || x.ndim === 3 || bias.ndim === 1)) return result(unfused());
    if (x.ndim === 2) return result(fused(bias));
    // 3-D or 1-D bias: fused for a contiguous input, else unfused (ViewBackward0 vs AddBackward0)
    if (!maybeStrided(x)) return result(fused(bias));
    if (is_grad_enabled() && (x.requires_grad || w.requires_grad || bias.requires_grad)) return PENDING;
    try {
      return result(fused(bias));
    } catch (e) {
      try {
        unfused();
      } catch {
        throw e;
      }
      return PENDING;
    }
  },
  // no call-site capture on the training hot path: the path is known for contiguous inputs, and
  // for strided ones both paths' checks ran above
);

/** The metadata fields of a tensor, as a plain object the kernels above can reshape. */
function tensorLike(t: Tensor): { shape: readonly number[]; ndim: number; dtype: DType; device: string; requires_grad: boolean } {
  return { shape: t.shape, ndim: t.ndim, dtype: t.dtype, device: t.device, requires_grad: t.requires_grad };
}

