/**
 * torch.nn.functional losses: broadcasting and dtype of the elementwise losses, the shapes
 * of the reductions ('none' keeps the elementwise shape, 'mean'/'sum' give 0-dim), and the
 * checks of cross_entropy / nll_loss (LossNLL.cpp), in torch's order with torch's texts.
 * Losses whose failure can depend on the data (class indices out of range, probabilities
 * outside [0, 1]) are registered mayFail: their call sites are recorded.
 */
import { PENDING, type OutSpec } from './dispatch.js';
import { rule } from './rules.js';
import type { Bound } from './signature.js';
import { torchError } from '../errors.js';
import { broadcastShapes, sameShape } from '../mirror/broadcast.js';
import { canCast, promoteTypes, resultType } from '../mirror/promotion.js';
import { get_default_dtype, int64, type DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { notImplemented, pyFloat, realOf, shapeStr } from './nn_util.js';
import { backward, named } from '../mirror/grad_fn.js';

// The nodes of ATen's composite losses: apply_loss_reduction ends in mean() or sum(), else the
// elementwise loss's last op.
const MEAN = backward('mean');
const SUM = backward('sum');
const ABS = backward('abs');
const SUB = backward('sub.Tensor');
const MUL = backward('mul.Tensor');
const ADD = backward('add.Tensor');
const NEG = backward('neg');
const DIV = backward('div.Tensor');
const DIV_SCALAR = backward('div.Scalar');
const VIEW = backward('view');
const CLAMP_MIN = backward('clamp_min');
const NLL = backward('nll_loss_forward');
const NLL_2D = backward('nll_loss2d_forward');

/** The node of apply_loss_reduction(loss, r), `none` being the unreduced loss's. */
const reductionNode = (r: Reduction, none: string): string => (r === 'mean' ? MEAN : r === 'sum' ? SUM : none);

const F = 'nn.functional.';

type Reduction = 'none' | 'mean' | 'sum';

/** _Reduction.legacy_get_string. */
function legacy(a: Bound): string | undefined {
  const sa = a.size_average as boolean | null | undefined;
  const rd = a.reduce as boolean | null | undefined;
  if ((sa === undefined || sa === null) && (rd === undefined || rd === null)) return undefined;
  const s = sa ?? true;
  const r = rd ?? true;
  return s && r ? 'mean' : r ? 'sum' : 'none';
}

/** _Reduction.get_enum: the reduction mode, or Python's ValueError. */
function reduction(v: unknown, op: string): Reduction {
  const r = (v as string | undefined) ?? 'mean';
  if (r === 'none' || r === 'mean' || r === 'sum') return r;
  if (r === 'elementwise_mean') return 'mean';
  throw torchError('ValueError', `${r} is not a valid value for reduction`, op);
}

const numel = (s: readonly number[]) => s.reduce((p, v) => p * v, 1);

const reduced = (shape: readonly number[], r: Reduction): readonly number[] => (r === 'none' ? shape : []);

/** The torch.Size repr in Python messages. */
const pySize = (s: readonly number[]) => `torch.Size([${s.join(', ')}])`;

const operand = (t: Tensor) => ({ dtype: t.dtype, ndim: t.ndim });

function promote(a: DType, b: DType): DType | undefined {
  return promoteTypes(a, b);
}

// mse_loss / smooth_l1_loss: broadcast_tensors, then a float-only binary kernel on the promoted
// dtype; l1_loss (and smooth_l1_loss with beta=0): (input - target).abs(), then the reduction.
for (const [name, kernel] of [
  ['mse_loss', 'mse_cpu'],
  ['smooth_l1_loss', 'smooth_l1_cpu'],
  ['l1_loss', ''],
] as const) {
  rule(F + name, (a, op) => {
    const x = a.input as Tensor;
    const y = a.target as Tensor;
    if (x.device !== y.device) return PENDING;
    const red0 = legacy(a) ?? a.reduction;
    const shape = broadcastShapes(x.shape, y.shape, op);
    const beta = (a.beta as number | undefined) ?? 1;
    if (name === 'smooth_l1_loss' && beta !== 0) {
      const r = reduction(red0, op);
      if (beta < 0) throw torchError('RuntimeError', 'smooth_l1_loss does not support negative values for beta.', op);
      return { shape: reduced(shape, r), dtype: floatKernel(x, y, kernel, op), device: x.device };
    }
    const r = reduction(red0, op);
    if (name === 'mse_loss') return { shape: reduced(shape, r), dtype: floatKernel(x, y, kernel, op), device: x.device };
    // l1_loss: (input - target).abs(), reduced
    return { shape: reduced(shape, r), dtype: l1Dtype(x, y, r, op), device: x.device, grad_fn: reductionNode(r, ABS) };
  });
}

function floatKernel(x: Tensor, y: Tensor, kernel: string, op: string): DType {
  const t = promote(x.dtype, y.dtype);
  if (!t) throw torchError('RuntimeError', `Promotion for ${x.dtype.name} and ${y.dtype.name} is not supported`, op);
  if (t.category !== 'float') throw notImplemented(kernel, t, op);
  return t;
}

/** l1_loss: (input - target).abs() then mean()/sum(). */
function l1Dtype(x: Tensor, y: Tensor, r: Reduction, op: string): DType {
  const xb = x.dtype.category === 'bool';
  const yb = y.dtype.category === 'bool';
  if (xb && yb) {
    throw torchError('RuntimeError', 'Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.', op);
  }
  if (xb || yb) {
    throw torchError(
      'RuntimeError',
      'Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.',
      op,
    );
  }
  let t = promote(x.dtype, y.dtype)!;
  if (t.category === 'complex') t = realOf(t);
  if (r === 'mean' && t.category !== 'float') {
    throw torchError(
      'RuntimeError',
      `mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: ${t.scalarTypeName}`,
      op,
    );
  }
  if (r === 'sum' && t.category === 'int') return int64;
  return t;
}


rule(F + 'huber_loss', (a, op) => {
  const x = a.input as Tensor;
  const y = a.target as Tensor;
  if (x.device !== y.device) return PENDING;
  const shape = broadcastShapes(x.shape, y.shape, op);
  const r = reduction(a.reduction, op);
  const delta = (a.delta as number | undefined) ?? 1;
  if (!(delta > 0)) throw torchError('RuntimeError', 'huber_loss does not support non-positive values for delta.', op);
  // the output is input-typed: the promoted type must cast to it; the kernel runs in the promoted type
  const t = promote(x.dtype, y.dtype)!;
  if (!canCast(t, x.dtype)) {
    throw torchError('RuntimeError', `result type ${t.scalarTypeName} can't be cast to the desired output type ${x.dtype.scalarTypeName}`, op);
  }
  if (t.category !== 'float') throw notImplemented('huber_cpu', t, op);
  return { shape: reduced(shape, r), dtype: x.dtype, device: x.device };
});

rule(F + 'kl_div', (a, op) => {
  const x = a.input as Tensor;
  const y = a.target as Tensor;
  if (x.device !== y.device) return PENDING;
  const red = legacy(a) ?? ((a.reduction as string | undefined) ?? 'mean');
  const r = red === 'batchmean' && legacy(a) === undefined ? 'sum' : reduction(red, op);
  const cat = (t: DType) => t.category;
  if (cat(x.dtype) === 'complex' || cat(y.dtype) === 'complex') throw torchError('RuntimeError', 'kl_div: Complex inputs not supported.', op);
  if (cat(x.dtype) === 'int' || cat(x.dtype) === 'bool' || cat(y.dtype) === 'int' || cat(y.dtype) === 'bool') {
    throw torchError('RuntimeError', 'kl_div: Integral inputs not supported.', op);
  }
  const shape = broadcastShapes(y.shape, x.shape, op);
  // log_target: exp(target) * (target - input), else xlogy(target, target) - target * input;
  // batchmean: the sum, divided by the batch size in Python
  const batchmean = red === 'batchmean' && legacy(a) === undefined && x.ndim !== 0;
  const grad_fn = batchmean ? DIV : reductionNode(r, a.log_target === true ? MUL : SUB);
  return { shape: reduced(shape, r), dtype: resultType(operand(x), operand(y))!, device: x.device, grad_fn };
});

// ---- binary cross entropy ----------------------------------------------------------------------

rule(
  F + 'binary_cross_entropy',
  (a, op) => {
    const x = a.input as Tensor;
    const y = a.target as Tensor;
    const w = (a.weight as Tensor | null | undefined) ?? null;
    if (x.device !== y.device || (w && w.device !== x.device)) return PENDING;
    const r = reduction(legacy(a) ?? a.reduction, op);
    if (!sameShape(x.shape, y.shape)) {
      throw torchError(
        'ValueError',
        `Using a target size (${pySize(y.shape)}) that is different to the input size (${pySize(x.shape)}) is deprecated. Please ensure they have the same size.`,
        op,
      );
    }
    const wshape = w ? broadcastShapes(y.shape, w.shape, op) : undefined;
    if (y.dtype !== x.dtype) throw torchError('RuntimeError', `Found dtype ${y.dtype.scalarTypeName} but expected ${x.dtype.scalarTypeName}`, op);
    if (x.dtype.category !== 'float') throw notImplemented('binary_cross_entropy', x.dtype, op);
    if (w && wshape) {
      // loss.mul_(weight)
      if (!sameShape(broadcastShapes(x.shape, wshape, op), x.shape)) {
        throw torchError('RuntimeError', `output with shape ${shapeStr(x.shape)} doesn't match the broadcast shape ${shapeStr(broadcastShapes(x.shape, wshape))}`, op);
      }
      if (!canCast(promote(x.dtype, w.dtype) ?? x.dtype, x.dtype)) return PENDING;
    }
    return { shape: reduced(x.shape, r), dtype: x.dtype, device: x.device };
  },
  { mayFail: true },
);

rule(F + 'binary_cross_entropy_with_logits', (a, op) => {
  const x = a.input as Tensor;
  const y = a.target as Tensor;
  const w = (a.weight as Tensor | null | undefined) ?? null;
  const pw = (a.pos_weight as Tensor | null | undefined) ?? null;
  if ([y, w, pw].some((t) => t && t.device !== x.device)) return PENDING;
  const r = reduction(legacy(a) ?? a.reduction, op);
  if (!sameShape(x.shape, y.shape)) {
    throw torchError('ValueError', `Target size (${pySize(y.shape)}) must be the same as input size (${pySize(x.shape)})`, op);
  }
  if (x.dtype.category !== 'float') throw notImplemented('log_sigmoid_cpu', x.dtype, op);
  const inplaceMul = (out: readonly number[], other: readonly number[]) => {
    const b = broadcastShapes(out, other, op);
    if (!sameShape(b, out)) throw torchError('RuntimeError', `output with shape ${shapeStr(out)} doesn't match the broadcast shape ${shapeStr(b)}`, op);
  };
  if (pw) {
    // log_weight = (pos_weight - 1).mul(target).add_(1); log_sigmoid(input).mul_(log_weight)
    if (pw.dtype.category !== 'float' || y.dtype.category !== 'float') return PENDING;
    const lw = broadcastShapes(pw.shape, y.shape, op);
    inplaceMul(x.shape, lw);
  }
  // loss = (1 - target).mul_(input).sub_(log_sigmoid_input): typed like the target
  if (y.dtype.category !== 'float') {
    if (y.dtype.category !== 'int') return PENDING;
    throw torchError('RuntimeError', `result type ${x.dtype.scalarTypeName} can't be cast to the desired output type ${y.dtype.scalarTypeName}`, op);
  }
  const t = y.dtype;
  if (w) {
    inplaceMul(y.shape, w.shape);
    if (w.dtype.category === 'complex') return PENDING;
  }
  return { shape: reduced(y.shape, r), dtype: t, device: x.device };
});

// ---- margin ranking ----------------------------------------------------------------------------

rule(F + 'margin_ranking_loss', (a, op) => {
  const x1 = a.input1 as Tensor;
  const x2 = a.input2 as Tensor;
  const t = a.target as Tensor;
  if (x2.device !== x1.device || t.device !== x1.device) return PENDING;
  const r = reduction(legacy(a) ?? a.reduction, op);
  if (x1.ndim !== x2.ndim || x1.ndim !== t.ndim) {
    throw torchError(
      'RuntimeError',
      `margin_ranking_loss : All input tensors should have same dimension but got sizes: input1: ${pySize(x1.shape)}, input2: ${pySize(x2.shape)}, target: ${pySize(t.shape)} `,
      op,
    );
  }
  if ([x1, x2, t].some((v) => v.dtype.category === 'bool' || v.dtype.category === 'complex')) return PENDING;
  const diff = broadcastShapes(x1.shape, x2.shape, op);
  const shape = broadcastShapes(t.shape, diff, op);
  // (-target * (input1 - input2) + margin).clamp_min_(0): the float margin makes integers float
  let dtype = resultType(operand(x1), operand(x2), operand(t))!;
  if (dtype.category === 'int') dtype = get_default_dtype();
  return { shape: reduced(shape, r), dtype, device: x1.device, grad_fn: reductionNode(r, CLAMP_MIN) };
});

// ---- cross entropy / nll -----------------------------------------------------------------------

const isFloating = (t: DType) => t.category === 'float';

/** log_softmax(input, class_dim): its kernel's dtype check. */
function logSoftmaxCheck(x: Tensor, classDim: number, op: string): void {
  if (isFloating(x.dtype) || x.shape.includes(0)) return;
  const last = classDim === Math.max(x.ndim, 1) - 1;
  throw notImplemented(last ? 'log_softmax_lastdim_kernel_impl' : 'softmax_kernel_impl', x.dtype, op);
}

/** Thrown inside nllLossNd where the outcome is left to torch (empty targets of other dtypes). */
const PENDING_SIGNAL = new Error('pending');

function nllLossNd(x: Tensor, y: Tensor, w: Tensor | null, r: Reduction, op: string): OutSpec | typeof PENDING {
  try {
    return nllLossNd0(x, y, w, r, op);
  } catch (e) {
    if (e === PENDING_SIGNAL) return PENDING;
    throw e;
  }
}

/** nll_loss_nd: the output shape, with the checks of nll_loss / nll_loss2d. */
function nllLossNd0(x: Tensor, y: Tensor, w: Tensor | null, r: Reduction, op: string): OutSpec | typeof PENDING {
  const xs = x.shape;
  const ys = y.shape;
  const value = (m: string) => torchError('ValueError', m, op);
  const fail = (m: string) => torchError('RuntimeError', m, op);
  if (x.ndim < 1) throw value(`Expected 1 or more dimensions (got ${x.ndim})`);
  if (x.ndim !== 1 && xs[0] !== (ys[0] ?? 0)) throw value(`Expected input batch_size (${xs[0]}) to match target batch_size (${ys[0] ?? 0}).`);
  if (x.ndim === 1 && y.ndim === 1 && ys[0] !== 1) throw value(`For 1D input, 1D target must have size 1, but got target size: ${ys[0]}`);
  const kernelChecks = (kernel: string, allowByte: boolean) => {
    if (!isFloating(x.dtype)) throw notImplemented(kernel, x.dtype, op);
    if (w && w.dtype !== x.dtype) throw fail(`expected scalar type ${x.dtype.scalarTypeName} but found ${w.dtype.scalarTypeName}`);
    const targetEmpty = ys.includes(0);
    if (targetEmpty && r === 'none' && y.dtype.name !== 'int64') throw PENDING_SIGNAL;
    if (!targetEmpty && y.dtype.name !== 'int64' && !(allowByte && y.dtype.name === 'uint8')) throw fail(`expected scalar type Long but found ${y.dtype.scalarTypeName}`);
  };
  if (x.ndim <= 2) {
    if (y.ndim > 1) throw fail('0D or 1D target tensor expected, multi-target not supported');
    const noBatch = x.ndim === 1 && (y.ndim === 0 || ys[0] === 1);
    if (!noBatch && xs[0] !== ys[0]) throw fail(`size mismatch (got input: ${shapeStr(xs)}, target: ${shapeStr(ys)})`);
    const c = xs[x.ndim - 1]!;
    if (w && !(w.ndim === 1 && w.shape[0] === c)) {
      throw fail(`weight tensor should be defined either for all ${c} classes or no classes but got weight tensor of shape: ${shapeStr(w.shape)}`);
    }
    kernelChecks('nll_loss_out_frame', true);
    return { shape: r === 'none' && x.ndim === 2 ? [xs[0]!] : [], dtype: x.dtype, device: x.device, grad_fn: NLL };
  }
  const out = [xs[0]!, ...xs.slice(2)];
  let x4 = xs;
  let y3 = ys;
  if (x.ndim !== 4) {
    if (!sameShape(ys.slice(1), xs.slice(2))) throw fail(`Expected target size ${shapeStr(out)}, got ${shapeStr(ys)}`);
    // viewed as (n, c, 1, -1) and (n, 1, -1); empty ones as (n, c, 0, 0) and (n, 0, 0)
    const nx = xs.reduce((p, v) => p * v, 1);
    const ny = ys.reduce((p, v) => p * v, 1);
    x4 = nx > 0 ? [xs[0]!, xs[1]!, 1, nx / (xs[0]! * xs[1]!)] : [xs[0]!, xs[1]!, 0, 0];
    y3 = ny > 0 ? [ys[0]!, 1, ny / ys[0]!] : [ys[0]!, 0, 0];
  }
  if (y3.length !== 3) throw fail(`only batches of spatial targets supported (3D tensors) but got targets of dimension: ${y3.length}`);
  if (w && w.shape.reduce((p, v) => p * v, 1) !== x4[1]) throw fail('weight tensor should be defined either for all or no classes');
  if (!(x4[0] === y3[0] && x4[2] === y3[1] && x4[3] === y3[2])) throw fail(`size mismatch (got input: ${shapeStr(x4)} , target: ${shapeStr(y3)}`);
  kernelChecks('nll_loss2d_forward_out_frame', false);
  // inputs other than 4-d are viewed as 4-d, and an unreduced loss viewed back
  return { shape: r === 'none' ? out : [], dtype: x.dtype, device: x.device, grad_fn: r === 'none' && x.ndim !== 4 ? VIEW : NLL_2D };
}

rule(
  F + 'nll_loss',
  (a, op) => {
    const x = a.input as Tensor;
    const y = a.target as Tensor;
    const w = (a.weight as Tensor | null | undefined) ?? null;
    if (y.device !== x.device || (w && w.device !== x.device)) return PENDING;
    const r = reduction(legacy(a) ?? a.reduction, op);
    return nllLossNd(x, y, w, r, op);
  },
  { mayFail: true },
);

rule(
  F + 'cross_entropy',
  (a, op) => {
    const x = a.input as Tensor;
    const y = a.target as Tensor;
    const w = (a.weight as Tensor | null | undefined) ?? null;
    if (y.device !== x.device || (w && w.device !== x.device)) return PENDING;
    const r = reduction(legacy(a) ?? a.reduction, op);
    const ls = (a.label_smoothing as number | undefined) ?? 0;
    const ignore = (a.ignore_index as number | undefined) ?? -100;
    const fail = (m: string) => torchError('RuntimeError', m, op);
    if (sameShape(x.shape, y.shape)) {
      // class probabilities
      if (!isFloating(y.dtype)) throw fail(`Expected floating point type for target with class probabilities, got ${y.dtype.scalarTypeName}`);
      if (ignore >= 0) throw fail('ignore_index is not supported for floating point target');
      if (x.ndim === 0) return PENDING;
      const classDim = x.ndim === 1 ? 0 : 1;
      const n = x.shape[classDim]!;
      if (w && !(w.ndim === 1 && w.shape[0] === n)) {
        throw fail(`cross_entropy: weight tensor should be defined either for all ${n} classes or no classes but got weight tensor of shape: ${shapeStr(w.shape)}`);
      }
      if (!isFloating(x.dtype) && x.shape.includes(0)) return PENDING;
      logSoftmaxCheck(x, classDim, op);
      if (ls > 0 && ls > 1) throw fail(`label_smoothing must be between 0.0 and 1.0. Got: ${pyFloat(ls, true)}`);
      let dtype = promoteTypes(x.dtype, y.dtype)!;
      if (w) {
        const d = promoteTypes(dtype, w.dtype);
        if (!d || d.category === 'complex') return PENDING;
        dtype = d;
      }
      const shape = r === 'none' ? x.shape.filter((_, i) => i !== classDim) : [];
      // -(input * target).sum(...), divided by the batch size for 'mean' (when not empty)
      return { shape, dtype, device: x.device, grad_fn: r === 'mean' && numel(x.shape) > 0 ? DIV_SCALAR : NEG };
    }
    if (ls > 0 && ls > 1) throw fail(`label_smoothing must be between 0.0 and 1.0. Got: ${pyFloat(ls, true)}`);
    if (x.ndim === 0) {
      throw torchError('IndexError', 'Dimension out of range (expected to be in range of [-1, 0], but got 1)', op);
    }
    const classDim = x.ndim === 1 ? 0 : 1;
    if (!isFloating(x.dtype) && x.shape.includes(0)) return PENDING;
    logSoftmaxCheck(x, classDim, op);
    const out = nllLossNd(x, y, w, r, op);
    if (out !== PENDING && ls > 0 && x.ndim === 1 && y.ndim === 1) {
      // the smoothing term, shaped like the 0-dim loss, is masked by the 1-element target
      throw fail('output with shape [] doesn\'t match the broadcast shape [1]');
    }
    // label smoothing with weights and mean gathers the weights by the (Long) target; weights
    // are viewed as 1-d there
    if (ls > 0 && w && ((r === 'mean' && y.dtype.name !== 'int64') || w.ndim !== 1)) return PENDING;
    // label smoothing: (1 - ls) * nll + smooth * (ls / n_classes)
    return ls > 0 ? named(out, ADD) : out;
  },
  { mayFail: true },
);
