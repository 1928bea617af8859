/**
 * torch.nn.functional: activations, dropout, softmin & co., embedding, one_hot, normalization,
 * distances and attention. Convolutions and pooling live in nn_conv.ts, losses in nn_loss.ts.
 * Rules are keyed 'nn.functional.<name>'; the Python-level checks of torch/nn/functional.py
 * come first, with their ValueError texts, then the ATen kernel's.
 */
import { PENDING, type OutSpec } from './dispatch.js';
import { rule } from './rules.js';
import type { Bound } from './signature.js';
import { is_grad_enabled } from '../autograd/grad_mode.js';
import { torchError } from '../errors.js';
import { wrapDim } from '../mirror/dims.js';
import { get_default_dtype, type DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkScalarFits, notImplemented, pyFloat, same } from './nn_util.js';
import { backward, inplaceGradFnOf, named } from '../mirror/grad_fn.js';
import './nn_conv.js';
import './nn_pool.js';
import './nn_pad.js';
import './nn_loss.js';
import './nn_norm.js';
import './nn_distance.js';

const F = 'nn.functional.';

/** The leaf check every in-place op makes before its kernel runs. */
function checkLeaf(x: Tensor, op: string): void {
  if (is_grad_enabled() && x.is_leaf && x.requires_grad) {
    throw torchError('RuntimeError', 'a leaf Variable that requires grad is being used in an in-place operation.', op);
  }
}

/**
 * A view of x (same metadata): under no_grad a view of a tensor that requires grad still
 * requires grad, and is a leaf.
 */
export function viewOf(x: Tensor, shape: readonly number[] = x.shape): OutSpec {
  if (!is_grad_enabled() && x.requires_grad) return { shape, dtype: x.dtype, device: x.device, requires_grad: true };
  return { shape, dtype: x.dtype, device: x.device };
}

/** The result of an op that (with inplace=True) writes into its input. */
function maybeInplace(a: Bound, x: Tensor, op: string, check: () => DType): OutSpec {
  if (a.inplace === true) {
    checkLeaf(x, op);
    check();
    return { shape: x.shape, dtype: x.dtype, device: x.device, inplace: x, grad_fn: inplaceGradFnOf(op) };
  }
  return { shape: x.shape, dtype: check(), device: x.device };
}

/** Kernels dispatched over floating types only (some over complex too). */
function floatKernel(x: Tensor, kernel: string, op: string, complex = false): DType {
  const c = x.dtype.category;
  if (c === 'float' || (complex && c === 'complex')) return x.dtype;
  throw notImplemented(kernel, x.dtype, op);
}

const clampFamily = (x: Tensor, op: string, boolMsg: string): DType => {
  if (x.dtype.category === 'bool') throw torchError('RuntimeError', boolMsg, op);
  if (x.dtype.category === 'complex') throw torchError('NotImplementedError', 'clamp is not supported for complex types', op);
  return x.dtype;
};

// Activations whose only check is the kernel's dtype dispatch.
rule(F + 'silu', (a, op) => {
  const x = a.input as Tensor;
  if (x.dtype.category === 'complex' && x.requires_grad && is_grad_enabled()) {
    if (a.inplace === true) return PENDING;
    throw torchError('RuntimeError', 'silu does not support automatic differentiation for outputs with complex dtype.', op);
  }
  return maybeInplace(a, x, op, () => floatKernel(x, 'silu_cpu', op, true));
});

for (const [name, kernel, complex] of [
  ['mish', 'mish_cpu', false],
  ['leaky_relu', 'leaky_relu_cpu', false],
  ['elu', 'elu_cpu', false],
  ['selu', 'elu_cpu', false],
  ['hardsigmoid', 'hardsigmoid_cpu', false],
  ['hardswish', 'hardswish_cpu', false],
] as const) {
  rule(F + name, (a, op) => {
    const x = a.input as Tensor;
    return maybeInplace(a, x, op, () => floatKernel(x, kernel, op, complex));
  });
}

for (const [name, kernel] of [
  ['logsigmoid', 'log_sigmoid_cpu'],
  ['softplus', 'softplus_cpu'],
  ['hardshrink', 'hardshrink_cpu'],
] as const) {
  rule(F + name, (a, op) => {
    const x = a.input as Tensor;
    return { shape: x.shape, dtype: floatKernel(x, kernel, op), device: x.device };
  });
}

rule(F + 'softshrink', (a, op) => {
  const x = a.input as Tensor;
  const l = (a.lambd as number | undefined) ?? 0.5;
  if (typeof l === 'number' && l < 0) {
    throw torchError('RuntimeError', `lambda must be greater or equal to 0, but found to be ${pyFloat(l)}.`, op);
  }
  return { shape: x.shape, dtype: floatKernel(x, 'softshrink_cpu', op), device: x.device };
});

rule(F + 'celu', (a, op) => {
  const x = a.input as Tensor;
  return maybeInplace(a, x, op, () => {
    if (a.alpha === 0) throw torchError('RuntimeError', 'ZeroDivisionError: alpha cannot be 0 for CELU', op);
    return floatKernel(x, 'elu_cpu', op);
  });
});

rule(F + 'gelu', (a, op) => {
  const x = a.input as Tensor;
  const approx = (a.approximate as string | undefined) ?? 'none';
  if (approx !== 'none' && approx !== 'tanh') throw torchError('RuntimeError', 'approximate argument must be either none or tanh.', op);
  return { shape: x.shape, dtype: floatKernel(x, 'GeluKernelImpl', op), device: x.device };
});

rule(F + 'relu', (a, op) => {
  const x = a.input as Tensor;
  return maybeInplace(a, x, op, () => clampFamily(x, op, 'Boolean inputs not supported for relu'));
});

// torch.relu / Tensor.relu: the same kernel, never in place
rule('relu', (a, op) => {
  const x = a.input as Tensor;
  return { shape: x.shape, dtype: clampFamily(x, op, 'Boolean inputs not supported for relu'), device: x.device };
});

rule(F + 'relu6', (a, op) => {
  const x = a.input as Tensor;
  return maybeInplace(a, x, op, () => clampFamily(x, op, 'Bool inputs not supported for hardtanh'));
});

rule(F + 'hardtanh', (a, op) => {
  const x = a.input as Tensor;
  const lo = (a.min_val as number | undefined) ?? -1;
  const hi = (a.max_val as number | undefined) ?? 1;
  if (lo > hi) throw torchError('ValueError', 'min_val cannot be greater than max_val', op);
  return maybeInplace(a, x, op, () => {
    const t = clampFamily(x, op, 'Bool inputs not supported for hardtanh');
    // ATen compares the limits as integers (toLong truncates)
    if (t.category === 'int' && !t.signed && (Math.trunc(lo) < 0 || Math.trunc(hi) < 0)) {
      throw torchError('RuntimeError', 'cannot do hardtanh on an unsigned type with negative limits', op);
    }
    return t;
  });
});

rule(F + 'threshold', (a, op) => {
  const x = a.input as Tensor;
  return maybeInplace(a, x, op, () => {
    const c = x.dtype.category;
    if (c === 'bool' || c === 'complex') throw notImplemented('threshold_cpu', x.dtype, op);
    checkScalarFits(a.threshold, x.dtype, op);
    checkScalarFits(a.value, x.dtype, op);
    return x.dtype;
  });
});

rule(F + 'rrelu', (a, op) => {
  const x = a.input as Tensor;
  const lower = (a.lower as number | undefined) ?? 1 / 8;
  const upper = (a.upper as number | undefined) ?? 1 / 3;
  if (lower > upper) throw torchError('RuntimeError', 'Lower bound should be less than or equal to the upper bound', op);
  if (a.training === true) {
    // rrelu_with_noise's kernel takes no float16
    return maybeInplace(a, x, op, () => {
      if (x.dtype.name === 'float16') throw notImplemented('rrelu_with_noise_out_cpu', x.dtype, op);
      return floatKernel(x, 'rrelu_with_noise_out_cpu', op);
    });
  }
  return maybeInplace(a, x, op, () => floatKernel(x, 'leaky_relu_cpu', op));
});

// Ops that compute in floating point: integral inputs give the default float dtype.
const toFloat = (t: DType): DType => (t.category === 'int' || t.category === 'bool' ? get_default_dtype() : t);

for (const name of ['sigmoid', 'tanh']) {
  rule(F + name, (a) => {
    const x = a.input as Tensor;
    return { shape: x.shape, dtype: toFloat(x.dtype), device: x.device };
  });
}

rule(F + 'softsign', (a, op) => {
  const x = a.input as Tensor;
  if (x.dtype.category === 'bool') throw notImplemented('abs_cpu', x.dtype, op);
  return { shape: x.shape, dtype: toFloat(x.dtype), device: x.device };
});

rule(F + 'tanhshrink', (a, op) => {
  const x = a.input as Tensor;
  if (x.dtype.category === 'bool') {
    throw torchError(
      'RuntimeError',
      'Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.',
      op,
    );
  }
  return { shape: x.shape, dtype: toFloat(x.dtype), device: x.device };
});

// ---- dropout ---------------------------------------------------------------------------------

function checkP(p: number, op: string): void {
  if (p < 0 || p > 1) throw torchError('ValueError', `dropout probability has to be between 0 and 1, but got ${pyFloat(p)}`, op);
}

const MUL = backward('mul.Tensor');
const ADD = backward('add.Tensor');
const NATIVE_DROPOUT = backward('native_dropout');
const SQUEEZE_DIM = backward('squeeze.dim');

/**
 * ATen's _dropout_impl: the input itself when nothing is dropped, else input * noise (alpha
 * dropout: then + b), the noise drawn with bernoulli_ then scaled in place (so integral inputs
 * cannot take it). Plain dropout on CUDA runs the fused native_dropout for 0 < p < 1.
 */
function dropoutImpl(x: Tensor, p: number, train: boolean, inplace: boolean, feature: boolean, alpha: boolean, op: string): OutSpec | typeof PENDING {
  const out = dropoutSpec(x, p, train, inplace, feature, alpha, op);
  if (out === PENDING || out.alias) return out;
  const fused = !inplace && !feature && !alpha && p > 0 && p < 1 && x.device.startsWith('cuda');
  return named(out, fused ? NATIVE_DROPOUT : alpha && p < 1 ? ADD : MUL);
}

/** dropoutImpl's checks and result, before its node is named. */
function dropoutSpec(x: Tensor, p: number, train: boolean, inplace: boolean, feature: boolean, alpha: boolean, op: string): OutSpec | typeof PENDING {
  // nothing dropped: the input itself, untouched (no node recorded, in place or not)
  if (p === 0 || !train || x.shape.includes(0)) return { ...same(x), alias: x };
  if (p !== 1) {
    if (feature && x.ndim < 2) throw torchError('RuntimeError', 'Feature dropout requires at least 2 dimensions in the input', op);
    if (x.dtype.category === 'complex') throw notImplemented('bernoulli_scalar_cpu_', x.dtype, op);
    if (x.dtype.category !== 'float') {
      if (alpha) return PENDING;
      throw torchError('RuntimeError', `result type Float can't be cast to the desired output type ${x.dtype.scalarTypeName}`, op);
    }
  } else if (alpha) return PENDING;
  if (inplace) checkLeaf(x, op); // the noise is made first, then multiplied in
  return inplace ? { ...same(x), inplace: x } : same(x);
}

rule(F + 'dropout', (a, op) => {
  const x = a.input as Tensor;
  const p = (a.p as number | undefined) ?? 0.5;
  checkP(p, op);
  return dropoutImpl(x, p, a.training !== false, a.inplace === true, false, false, op);
});

for (const [name, feature] of [
  ['alpha_dropout', false],
  ['feature_alpha_dropout', true],
] as const) {
  rule(F + name, (a, op) => {
    const x = a.input as Tensor;
    const p = (a.p as number | undefined) ?? 0.5;
    checkP(p, op);
    return dropoutImpl(x, p, a.training === true, a.inplace === true, feature, true, op);
  });
}

// dropout1d/3d add a batch dim to unbatched inputs (unsqueeze, dropout, squeeze: a new view).
for (const [name, dims] of [
  ['dropout1d', 2],
  ['dropout2d', 3],
  ['dropout3d', 4],
] as const) {
  rule(F + name, (a, op) => {
    const x = a.input as Tensor;
    const p = (a.p as number | undefined) ?? 0.5;
    checkP(p, op);
    const n = x.ndim;
    if (name === 'dropout1d' && n !== 2 && n !== 3) {
      throw torchError(
        'RuntimeError',
        `dropout1d: Expected 2D or 3D input, but received a ${n}D input. Note that dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).`,
        op,
      );
    }
    const inplace = a.inplace === true;
    const unbatched = name !== 'dropout2d' && n !== dims + 1;
    if (!unbatched) return dropoutImpl(x, p, a.training !== false, inplace, true, false, op);
    if (inplace) return PENDING; // unsqueeze_ on the input first: leave the details to torch
    // the unsqueezed view has one more dim (what the feature check sees)
    const train = a.training !== false;
    if (p === 0 || !train || x.shape.includes(0)) return named(viewOf(x), SQUEEZE_DIM); // unsqueeze(0).squeeze(0)
    if (p !== 1) {
      if (x.ndim + 1 < 2) throw torchError('RuntimeError', 'Feature dropout requires at least 2 dimensions in the input', op);
      if (x.dtype.category === 'complex') throw notImplemented('bernoulli_scalar_cpu_', x.dtype, op);
      if (x.dtype.category !== 'float') {
        throw torchError('RuntimeError', `result type Float can't be cast to the desired output type ${x.dtype.scalarTypeName}`, op);
      }
    }
    return named(same(x), SQUEEZE_DIM);
  });
}

// ---- softmin, gumbel_softmax, glu ------------------------------------------------------------

/** F._get_softmax_dim: the implicit dim (deprecated) of softmax & co. */
export function softmaxDim(dim: unknown, ndim: number): number {
  if (dim !== undefined && dim !== null) return dim as number;
  return ndim === 0 || ndim === 1 || ndim === 3 ? 0 : 1;
}

rule(F + 'softmin', (a, op) => {
  const x = a.input as Tensor;
  if (x.dtype.category === 'bool') {
    throw torchError(
      'RuntimeError',
      'Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.',
      op,
    );
  }
  const d = wrapDim(softmaxDim(a.dim, x.ndim), x.ndim, op);
  const dtype = (a.dtype as DType | null | undefined) ?? x.dtype;
  if (dtype.category !== 'float' && !x.shape.includes(0)) {
    throw notImplemented(d === Math.max(x.ndim, 1) - 1 ? 'softmax_lastdim_kernel_impl' : 'softmax_kernel_impl', dtype, op);
  }
  if (dtype.category === 'complex' && x.requires_grad && is_grad_enabled()) {
    throw torchError('RuntimeError', '_softmax does not support automatic differentiation for outputs with complex dtype.', op);
  }
  return { shape: x.shape, dtype, device: x.device };
});

const SOFTMAX = backward('_softmax');

rule(F + 'gumbel_softmax', (a, op) => {
  const x = a.logits as Tensor;
  const d = (a.dim as number | undefined) ?? -1;
  if (x.dtype.category !== 'float') {
    if (x.shape.includes(0)) return PENDING;
    throw torchError(
      'RuntimeError',
      `Exponential distribution is a continuous probability distribution. dtype must be a floating point but you specified ${x.dtype.scalarTypeName}`,
      op,
    );
  }
  const w = wrapDim(d, x.ndim, op);
  if (a.hard === true && x.ndim > 0 && x.shape[w] === 0) {
    throw torchError('IndexError', `max(): Expected reduction dim ${w} to have non-zero size.`, op);
  }
  // hard: y_hard - y_soft.detach() + y_soft
  return named(same(x), a.hard === true ? ADD : SOFTMAX);
});

rule(F + 'glu', (a, op) => {
  const x = a.input as Tensor;
  if (x.ndim === 0) throw torchError('RuntimeError', 'glu does not support scalars because halving size must be even', op);
  const d = wrapDim((a.dim as number | undefined) ?? -1, x.ndim, op);
  const size = x.shape[d]!;
  if (size % 2 !== 0) throw torchError('RuntimeError', `Halving dimension must be even, but dimension ${d} is size ${size}`, op);
  const dtype = floatKernel(x, 'glu_cpu', op);
  const shape = [...x.shape];
  shape[d] = size / 2;
  return { shape, dtype, device: x.device };
});
