/**
 * Reductions and scans: dim / keepdim / dtype, (values, indices) pairs, and the checks torch
 * makes before any kernel runs (dims in range, no duplicates, non-empty reduced dims).
 *
 * Dtype support errors come from the kernel a device dispatches to ("max_all" not implemented
 * for 'ComplexFloat'...): the mirror knows CPU's; on other devices, a call the CPU kernel would
 * refuse takes the pending path (the runtime reports what that device's torch did).
 */
import { PENDING, isTensor, type OutSpec } from './dispatch.js';
import { rule } from './rules.js';
import type { Bound } from './signature.js';
import { numel, reductionDims, wrapDim } from '../mirror/dims.js';
import { broadcastShapes } from '../mirror/broadcast.js';
import { promoteTypes, resultType } from '../mirror/promotion.js';
import { bool, complex128, complex32, complex64, float16, float32, float64, get_default_dtype, int64, uint8, type DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { torchError } from '../errors.js';
import { is_grad_enabled } from '../autograd/grad_mode.js';
import { commonDevice } from './pointwise.js';

type Spec = OutSpec | OutSpec[] | typeof PENDING;
type DimArg = number | number[] | null | undefined;

const isFloat = (t: DType) => t.category === 'float';
const isComplex = (t: DType) => t.category === 'complex';
const isIntegral = (t: DType) => t.category === 'int' || t.category === 'bool';
/** float16, bfloat16, float32, float64: what CPU floating kernels support */
const isCpuFloat = (t: DType) => t.category === 'float' && t.itemsize >= 2;
const onCpu = (x: Tensor) => x.device === 'cpu';

/** The real type of a complex dtype's parts (toRealValueType). */
function toReal(t: DType): DType {
  return t === complex128 ? float64 : t === complex64 ? float32 : t === complex32 ? float16 : t;
}

function notImplemented(kernel: string, t: DType, op: string): Error {
  return torchError('NotImplementedError', `"${kernel}" not implemented for '${t.scalarTypeName}'`, op);
}

/** The shape left after reducing `dims` (kept as 1 with keepdim). */
function reducedShape(shape: readonly number[], dims: ReadonlySet<number>, keep: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (!dims.has(i)) out.push(shape[i]!);
    else if (keep) out.push(1);
  }
  return out;
}

/** Reduce over one dim (already wrapped); a 0-dim input stays 0-dim. */
function reducedOne(shape: readonly number[], d: number, keep: boolean): number[] {
  if (shape.length === 0) return [];
  return keep ? shape.map((s, i) => (i === d ? 1 : s)) : shape.filter((_, i) => i !== d);
}

/**
 * Reduce over `a.dim` (null, undefined or [] = every dim). Most reductions wrap every dim before
 * looking for duplicates (an out-of-range dim wins); std/var, norm and nansum check in order.
 */
function reduce(a: Bound, op: string, dtype: DType, inOrder = false): OutSpec {
  const x = a.input as Tensor;
  const dim = a.dim as DimArg;
  if (!inOrder && Array.isArray(dim)) for (const d of dim) wrapDim(d, x.ndim, op);
  const dims = reductionDims(dim, x.ndim, op);
  return { shape: reducedShape(x.shape, dims, a.keepdim === true), dtype, device: x.device };
}

/** Whether autograd records the op: grad mode on and the input requires grad. */
const recordsGrad = (x: Tensor) => x.requires_grad && is_grad_enabled();

/** Autograd refuses integral outputs of ops it records (sum(x, dtype=torch.int64) of x requiring grad). */
function checkDifferentiableDtype(x: Tensor, dtype: DType, op: string): void {
  if (isIntegral(dtype) && recordsGrad(x)) throw torchError('RuntimeError', `Autograd not support dtype: ${dtype.scalarTypeName}`, op);
}

/** Ops without complex derivatives refuse complex outputs that would require grad. */
function checkComplexAutograd(x: Tensor, dtype: DType, name: string, op: string): void {
  if (isComplex(dtype) && recordsGrad(x)) {
    throw torchError('RuntimeError', `${name} does not support automatic differentiation for outputs with complex dtype.`, op);
  }
}

/** values and int64 indices of one shape */
function valuesIndices(x: Tensor, shape: readonly number[], values: DType = x.dtype): OutSpec[] {
  return [
    { shape, dtype: values, device: x.device },
    { shape, dtype: int64, device: x.device, differentiable: false },
  ];
}

/** Dims of size zero cannot be reduced by ops without an identity (max, argmax, median...). */
function nonEmptyDim(x: Tensor, d: number, name: string, op: string): void {
  if (x.ndim > 0 && x.shape[d] === 0) {
    throw torchError('IndexError', `${name}: Expected reduction dim ${d} to have non-zero size.`, op);
  }
}

/** The accumulation dtype of sum-like reductions: integral inputs accumulate in int64. */
const sumDtype = (x: Tensor, given: DType | null | undefined): DType => given ?? (isIntegral(x.dtype) ? int64 : x.dtype);

// ---------------------------------------------------------------------------------------------
// sum, mean, nansum, nanmean, prod

rule('sum', (a, op) => {
  const x = a.input as Tensor;
  const out = reduce(a, op, sumDtype(x, a.dtype as DType | null | undefined));
  checkDifferentiableDtype(x, out.dtype, op);
  return out;
});

rule('mean', (a, op) => {
  const x = a.input as Tensor;
  const given = a.dtype as DType | null | undefined;
  const dtype = given ?? x.dtype;
  if (dtype.category !== 'float' && dtype.category !== 'complex') {
    const what = given
      ? `mean(): could not infer output dtype. Optional dtype must be either a floating point or complex dtype. Got: ${dtype.scalarTypeName}`
      : `mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: ${dtype.scalarTypeName}`;
    throw torchError('RuntimeError', what, op);
  }
  return reduce(a, op, dtype);
});

/** nansum's dtype after its checks (dims first); integral inputs are plain sums. */
function nansumSpec(a: Bound, op: string): Spec {
  const x = a.input as Tensor;
  const given = a.dtype as DType | null | undefined;
  const spec = reduce(a, op, x.dtype, true);
  if (isComplex(x.dtype)) {
    if (!onCpu(x)) return PENDING;
    throw torchError('RuntimeError', 'nansum on CPU does not support complex inputs', op);
  }
  if (isIntegral(x.dtype)) {
    const dtype = sumDtype(x, given);
    checkDifferentiableDtype(x, dtype, op);
    return { ...spec, dtype };
  }
  const dtype = given ?? x.dtype;
  if (!isCpuFloat(dtype)) {
    // the kernel refuses it, unless there is nothing to sum (then nanmean's division decides)
    if (!onCpu(x) || numel(x.shape) === 0) return PENDING;
    throw notImplemented('nansum_cpu', dtype, op);
  }
  return { ...spec, dtype };
}

rule('nansum', (a, op) => nansumSpec(a, op));

rule('nanmean', (a, op) => {
  const x = a.input as Tensor;
  if (!isFloat(x.dtype) && !isComplex(x.dtype)) {
    throw torchError('RuntimeError', `nanmean(): expected input to have floating point or complex dtype but got ${x.dtype.scalarTypeName}`, op);
  }
  reduce(a, op, x.dtype); // the count of non-NaNs is reduced first
  return nansumSpec(a, op); // nansum(...) / count, in nansum's (floating) dtype
});

rule('prod', (a, op) => {
  const x = a.input as Tensor;
  const dtype = sumDtype(x, a.dtype as DType | null | undefined);
  const shape = a.dim === undefined ? [] : reducedOne(x.shape, wrapDim(a.dim as number, x.ndim, op), a.keepdim === true);
  checkDifferentiableDtype(x, dtype, op);
  return { shape, dtype, device: x.device };
});

// ---------------------------------------------------------------------------------------------
// max, min (all / dim / elementwise), argmax, argmin, amax, amin, aminmax

function zeroNumelAll(name: string, op: string): Error {
  return torchError(
    'RuntimeError',
    `${name}: Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the 'dim' argument.`,
    op,
  );
}

/** torch.maximum / minimum (max and min with a tensor `other`). */
function elementwiseExtremum(name: string, x: Tensor, y: Tensor, op: string): OutSpec {
  if (isComplex(x.dtype) || isComplex(y.dtype)) throw torchError('RuntimeError', `${name} not implemented for complex tensors.`, op);
  const device = x.device === y.device ? x.device : commonDevice([x, y], op);
  const shape = broadcastShapes(x.shape, y.shape, op);
  const dtype = resultType({ dtype: x.dtype, ndim: x.ndim }, { dtype: y.dtype, ndim: y.ndim })!;
  return { shape, dtype, device };
}

for (const name of ['max', 'min'] as const) {
  rule(name, (a, op): Spec => {
    const x = a.input as Tensor;
    if (isTensor(a.other)) return elementwiseExtremum(name === 'max' ? 'maximum' : 'minimum', x, a.other, op);
    if (a.dim !== undefined && a.dim !== null) {
      // max(input, dim, keepdim) -> (values, indices)
      const d = wrapDim(a.dim as number, x.ndim, op);
      nonEmptyDim(x, d, `${name}()`, op);
      if (isComplex(x.dtype)) throw torchError('RuntimeError', `${name}(): does not support complex input`, op);
      return valuesIndices(x, reducedOne(x.shape, d, a.keepdim === true));
    }
    if (numel(x.shape) === 0) throw zeroNumelAll(`${name}()`, op);
    if (isComplex(x.dtype)) {
      if (!onCpu(x)) return PENDING;
      throw notImplemented(`${name}_all`, x.dtype, op);
    }
    return { shape: [], dtype: x.dtype, device: x.device };
  });
}

for (const name of ['argmax', 'argmin'] as const) {
  rule(name, (a, op): Spec => {
    const x = a.input as Tensor;
    if (isComplex(x.dtype)) throw torchError('RuntimeError', `${name}(): does not support complex input`, op);
    if (x.dtype === bool) throw torchError('RuntimeError', `${name}(): does not support bool input`, op);
    const keep = a.keepdim === true;
    const dim = a.dim as number | null | undefined;
    if (dim === null || dim === undefined) {
      if (numel(x.shape) === 0) {
        throw torchError('IndexError', `${name}(): Expected reduction dim to be specified for input.numel() == 0.`, op);
      }
      return { shape: keep ? x.shape.map(() => 1) : [], dtype: int64, device: x.device, differentiable: false };
    }
    const d = wrapDim(dim, x.ndim, op);
    nonEmptyDim(x, d, `${name}()`, op);
    return { shape: reducedOne(x.shape, d, keep), dtype: int64, device: x.device, differentiable: false };
  });
}

for (const name of ['amax', 'amin'] as const) {
  rule(name, (a, op): Spec => {
    const x = a.input as Tensor;
    const dim = a.dim as number | number[] | undefined;
    const list = dim === undefined ? [] : typeof dim === 'number' ? [dim] : dim;
    if (numel(x.shape) === 0) {
      // zero_numel_check_dims: the dims as given, before any duplicate check
      if (list.length === 0) throw zeroNumelAll(`${name}()`, op);
      for (const d of list) {
        const w = wrapDim(d, x.ndim, op);
        if (x.shape[w] === 0) throw torchError('IndexError', `${name}(): Expected reduction dim ${d} to have non-zero size.`, op);
      }
    }
    const out = reduce(a, op, x.dtype);
    if (isComplex(x.dtype) && numel(x.shape) > 0) {
      if (!onCpu(x)) return PENDING;
      throw notImplemented(name === 'amax' ? 'max_values_cpu' : 'min_values_cpu', x.dtype, op);
    }
    checkComplexAutograd(x, x.dtype, name, op);
    return out;
  });
}

rule('aminmax', (a, op): Spec => {
  const x = a.input as Tensor;
  const keep = a.keepdim === true;
  let shape: number[];
  if (a.dim === undefined || a.dim === null) {
    if (numel(x.shape) === 0) {
      throw torchError('RuntimeError', 'aminmax(): cannot compute aminmax over an empty dimension as the operation has no identity.', op);
    }
    shape = keep ? x.shape.map(() => 1) : [];
  } else {
    const d = wrapDim(a.dim as number, x.ndim, op);
    nonEmptyDim(x, d, 'aminmax', op);
    shape = reducedOne(x.shape, d, keep);
  }
  if (isComplex(x.dtype)) {
    if (!onCpu(x)) return PENDING;
    if (x.ndim === 0 && a.dim !== undefined && a.dim !== null) {
      throw torchError('RuntimeError', `aminmax not implemented for ${x.dtype.scalarTypeName}`, op);
    }
    throw notImplemented('aminmax_cpu', x.dtype, op);
  }
  const out = { shape, dtype: x.dtype, device: x.device };
  return [out, { ...out }];
});

// ---------------------------------------------------------------------------------------------
// std, var, std_mean, var_mean

/** Overloads: (dim, unbiased, keepdim) | (dim, *, correction, keepdim) | (unbiased). */
function moments(name: string, withMean: boolean): void {
  rule(name, (a, op) => {
    const x = a.input as Tensor;
    if (!isFloat(x.dtype) && !isComplex(x.dtype)) {
      const what = withMean ? `${name} only support floating point and complex dtypes` : 'std and var only support floating point and complex dtypes';
      throw torchError('RuntimeError', what, op);
    }
    if (a.correction !== undefined && a.correction !== null && typeof a.correction === 'object') {
      return PENDING; // complex correction: torch's conversion error
    }
    const spec = reduce(a, op, toReal(x.dtype), true);
    if (!withMean) return spec;
    return [spec, { ...spec, dtype: x.dtype }];
  });
}
moments('std', false);
moments('var', false);
moments('std_mean', true);
moments('var_mean', true);

// ---------------------------------------------------------------------------------------------
// norm (torch.norm / Tensor.norm): linalg.vector_norm unless a matrix norm is asked for

/** How c10 prints a Scalar: ints in full, doubles like ostream (%g, 6 significant digits). */
function formatScalar(v: number | boolean): string {
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (Number.isNaN(v)) return 'nan';
  if (Number.isSafeInteger(v)) return String(v); // a Python int: printed in full
  // %g with precision 6
  const exp = v === 0 ? 0 : Math.floor(Math.log10(Math.abs(v)));
  if (exp < -4 || exp >= 6) {
    const [m, e] = v.toExponential(5).split('e') as [string, string];
    const mant = m.includes('.') ? m.replace(/\.?0+$/, '') : m;
    const n = Number(e);
    return `${mant}e${n < 0 ? '-' : '+'}${String(Math.abs(n)).padStart(2, '0')}`;
  }
  return String(Number(v.toPrecision(6)));
}

rule('norm', (a, op): Spec => {
  const x = a.input as Tensor;
  const p = a.p;
  const dim = a.dim as DimArg;
  if (typeof p === 'string') {
    // 'fro' over at most two dims is the vector 2-norm; the rest are matrix norms
    if (p !== 'fro' || (Array.isArray(dim) && dim.length > 2)) return PENDING;
    return vectorNorm(x, 2, dim, a.keepdim === true, a.dtype as DType | null | undefined, op);
  }
  if (p !== undefined && p !== null && typeof p !== 'number') return PENDING;
  return vectorNorm(x, p ?? 2, dim, a.keepdim === true, a.dtype as DType | null | undefined, op);
});

function vectorNorm(x: Tensor, ord: number, dim: DimArg, keep: boolean, dtype: DType | null | undefined, op: string): Spec {
  const name = 'linalg.vector_norm';
  if (!isFloat(x.dtype) && !isComplex(x.dtype)) {
    throw torchError('RuntimeError', `${name}: Expected a floating point or complex tensor as input. Got ${x.dtype.scalarTypeName}`, op);
  }
  const list = dim === null || dim === undefined ? undefined : typeof dim === 'number' ? [dim] : dim;
  if (numel(x.shape) === 0 && (ord < 0 || ord === Infinity)) {
    const p = formatScalar(ord);
    if (list === undefined || list.length === 0) {
      throw torchError('RuntimeError', `${name} cannot compute the ${p} norm on an empty tensor because the operation does not have an identity`, op);
    }
    for (const d of list) {
      const w = wrapDim(d, x.ndim, op);
      if (x.ndim > 0 && x.shape[w] === 0) {
        throw torchError(
          'RuntimeError',
          `${name} cannot compute the ${p} norm on the dimension ${d}because this dimension is empty and the operation does not have an identity`,
          op,
        );
      }
    }
  }
  if (dtype) {
    if (!isFloat(dtype) && !isComplex(dtype)) {
      throw torchError('RuntimeError', `${name}: dtype should be floating point or complex, but got ${dtype.scalarTypeName}`, op);
    }
    const c = isComplex(x.dtype);
    if (c !== isComplex(dtype)) {
      const kind = c ? 'complex' : 'real';
      throw torchError('RuntimeError', `${name}: dtype should be ${kind} for ${kind} inputs, but got ${dtype.scalarTypeName}`, op);
    }
    if (promoteTypes(x.dtype, dtype) !== dtype) {
      throw torchError(
        'RuntimeError',
        `${name}: the dtype of the input (${x.dtype.scalarTypeName}) should be convertible without narrowing to the specified dtype (${dtype.scalarTypeName})`,
        op,
      );
    }
  }
  const dims = reductionDims(list, x.ndim, op); // in order: a repeated dim before one out of range
  return { shape: reducedShape(x.shape, dims, keep), dtype: toReal(dtype ?? x.dtype), device: x.device };
}

// ---------------------------------------------------------------------------------------------
// logsumexp

rule('logsumexp', (a, op) => {
  const x = a.input as Tensor;
  const dtype = isIntegral(x.dtype) ? get_default_dtype() : x.dtype;
  const keep = a.keepdim === true;
  const out = reduce(a, op, dtype);
  // dim=[]: sum reduces everything but amax(keepdim=True) keeps every dim, and adding one into
  // the other fails unless the shapes agree
  if (Array.isArray(a.dim) && a.dim.length === 0 && !keep && x.ndim > 0 && numel(x.shape) > 0) {
    throw torchError('RuntimeError', `output with shape [] doesn't match the broadcast shape [${x.shape.map(() => 1).join(', ')}]`, op);
  }
  return out;
});

// ---------------------------------------------------------------------------------------------
// scans: cumsum, cumprod, cummax, cummin, logcumsumexp

for (const name of ['cumsum', 'cumprod'] as const) {
  rule(name, (a, op): Spec => {
    const x = a.input as Tensor;
    wrapDim(a.dim as number, x.ndim, op);
    const dtype = sumDtype(x, a.dtype as DType | null | undefined);
    if (dtype === bool && x.ndim > 0 && numel(x.shape) > 0) {
      if (!onCpu(x)) return PENDING;
      throw notImplemented(`${name}_out_cpu`, dtype, op);
    }
    checkDifferentiableDtype(x, dtype, op);
    return { shape: x.shape, dtype, device: x.device };
  });
}

for (const name of ['cummax', 'cummin'] as const) {
  rule(name, (a, op): Spec => {
    const x = a.input as Tensor;
    const dim = a.dim as number;
    // an empty input is returned as is, whatever the dim
    if (x.ndim === 0 && dim !== 0 && dim !== -1) {
      throw torchError('IndexError', `${name}(): Expected reduction dim -1 or 0 for scalar but got ${dim}`, op);
    }
    if (numel(x.shape) > 0) wrapDim(dim, x.ndim, op);
    if (isComplex(x.dtype) && x.ndim > 0 && numel(x.shape) > 0) {
      if (!onCpu(x)) return PENDING;
      throw notImplemented(`${name}_cpu`, x.dtype, op);
    }
    checkComplexAutograd(x, x.dtype, name, op);
    return valuesIndices(x, x.shape);
  });
}

rule('logcumsumexp', (a, op): Spec => {
  const x = a.input as Tensor;
  wrapDim(a.dim as number, x.ndim, op);
  if (isIntegral(x.dtype)) {
    if (!onCpu(x)) return PENDING;
    throw notImplemented('logcumsumexp_out_cpu', x.dtype, op);
  }
  return { shape: x.shape, dtype: x.dtype, device: x.device };
});

// ---------------------------------------------------------------------------------------------
// softmax, log_softmax (torch., Tensor. and nn.functional.)

function softmaxSpec(x: Tensor, dim: number, dtype: DType | null | undefined, log: boolean, op: string): Spec {
  const d = wrapDim(dim, x.ndim, op);
  const out = dtype ?? x.dtype;
  if (!isCpuFloat(out) && numel(x.shape) > 0) {
    if (!onCpu(x)) return PENDING;
    // the CPU kernel for the last dim, or the general one (shared by softmax and log_softmax)
    const last = x.ndim === 0 || d === x.ndim - 1;
    throw notImplemented(last ? `${log ? 'log_softmax' : 'softmax'}_lastdim_kernel_impl` : 'softmax_kernel_impl', out, op);
  }
  checkComplexAutograd(x, out, log ? '_log_softmax' : '_softmax', op);
  return { shape: x.shape, dtype: out, device: x.device };
}

/** nn.functional's implicit dim (deprecated): 0 for 0-, 1- and 3-d inputs, else 1. */
const implicitSoftmaxDim = (ndim: number) => (ndim === 0 || ndim === 1 || ndim === 3 ? 0 : 1);

for (const log of [false, true]) {
  const name = log ? 'log_softmax' : 'softmax';
  rule(name, (a, op) => softmaxSpec(a.input as Tensor, a.dim as number, a.dtype as DType | null | undefined, log, op));
  rule(`nn.functional.${name}`, (a, op) => {
    const x = a.input as Tensor;
    const dim = a.dim === undefined || a.dim === null ? implicitSoftmaxDim(x.ndim) : (a.dim as number);
    return softmaxSpec(x, dim, a.dtype as DType | null | undefined, log, op);
  });
}

// ---------------------------------------------------------------------------------------------
// any, all, count_nonzero

for (const name of ['any', 'all'] as const) {
  rule(name, (a, op) => {
    const x = a.input as Tensor;
    const dtype = x.dtype === uint8 ? uint8 : bool;
    // an empty list of dims reduces nothing (unlike sum's)
    if (Array.isArray(a.dim) && a.dim.length === 0) return { shape: x.shape, dtype, device: x.device };
    return reduce(a, op, dtype);
  });
}

rule('count_nonzero', (a, op) => reduce(a, op, int64));

// ---------------------------------------------------------------------------------------------
// topk, sort, argsort, kthvalue, median, nanmedian, mode

rule('topk', (a, op): Spec => {
  const x = a.input as Tensor;
  const k = a.k as number;
  const d = wrapDim((a.dim as number | undefined) ?? -1, x.ndim, op);
  const size = x.ndim > 0 ? x.shape[d]! : 1;
  if (k < 0 || k > size) throw torchError('RuntimeError', 'selected index k out of range', op);
  if (x.dtype === bool || isComplex(x.dtype)) {
    if (!onCpu(x)) return PENDING;
    const what = x.dtype === bool ? 'topk does not support bool dtypes on CPU' : ' topk does not support complex dtypes on CPU';
    throw torchError('RuntimeError', what, op);
  }
  return valuesIndices(x, x.ndim === 0 ? [] : x.shape.map((s, i) => (i === d ? k : s)));
});

function sortCheck(x: Tensor, dim: unknown, op: string): boolean {
  wrapDim((dim as number | undefined) ?? -1, x.ndim, op);
  if (!isComplex(x.dtype)) return true;
  if (!onCpu(x)) return false;
  throw torchError('RuntimeError', ' Sort does not support complex dtypes on CPU', op);
}

rule('sort', (a, op) => {
  const x = a.input as Tensor;
  return sortCheck(x, a.dim, op) ? valuesIndices(x, x.shape) : PENDING;
});

rule('argsort', (a, op) => {
  const x = a.input as Tensor;
  return sortCheck(x, a.dim, op) ? { shape: x.shape, dtype: int64, device: x.device, differentiable: false } : PENDING;
});

rule('kthvalue', (a, op): Spec => {
  const x = a.input as Tensor;
  const k = a.k as number;
  const d = wrapDim((a.dim as number | undefined) ?? -1, x.ndim, op);
  nonEmptyDim(x, d, 'kthvalue()', op);
  const size = x.ndim > 0 ? x.shape[d]! : 1;
  if (k < 1 || k > size) throw torchError('RuntimeError', `kthvalue(): selected number k out of range for dimension ${d}`, op);
  if ((x.dtype === bool || isComplex(x.dtype)) && x.ndim > 0) {
    if (!onCpu(x)) return PENDING;
    throw notImplemented('kthvalue_cpu', x.dtype, op);
  }
  checkComplexAutograd(x, x.dtype, 'kthvalue', op);
  return valuesIndices(x, reducedOne(x.shape, d, a.keepdim === true));
});

for (const name of ['median', 'nanmedian'] as const) {
  rule(name, (a, op): Spec => {
    const x = a.input as Tensor;
    const unsupported = x.dtype === bool || isComplex(x.dtype);
    if (a.dim === undefined) {
      if (unsupported && numel(x.shape) > 0) {
        if (!onCpu(x)) return PENDING;
        throw notImplemented('median_cpu', x.dtype, op);
      }
      checkComplexAutograd(x, x.dtype, name, op);
      return { shape: [], dtype: x.dtype, device: x.device };
    }
    const d = wrapDim(a.dim as number, x.ndim, op);
    nonEmptyDim(x, d, 'median()', op);
    if (unsupported) {
      if (!onCpu(x)) return PENDING;
      throw notImplemented('median_out', x.dtype, op);
    }
    return valuesIndices(x, reducedOne(x.shape, d, a.keepdim === true));
  });
}

rule('mode', (a, op): Spec => {
  const x = a.input as Tensor;
  const d = wrapDim((a.dim as number | undefined) ?? -1, x.ndim, op);
  nonEmptyDim(x, d, 'mode()', op);
  if (isComplex(x.dtype) && x.ndim > 0 && numel(x.shape) > 0) {
    if (!onCpu(x)) return PENDING;
    throw notImplemented('mode_cpu', x.dtype, op);
  }
  checkComplexAutograd(x, x.dtype, 'mode', op);
  return valuesIndices(x, reducedOne(x.shape, d, a.keepdim === true));
});
