/**
 * torch.nn.functional normalization (batch_norm, instance_norm, layer_norm, group_norm) and
 * lookups (embedding, one_hot): the checks of F's Python wrappers, then ATen's
 * (Normalization.cpp, layer_norm.cpp, group_norm.cpp, mixed_type.h), in their order.
 */
import { PENDING, type OutSpec } from './dispatch.js';
import { GRAD_FN_FROM_RUNTIME } from '../tensor/meta.js';
import { rule } from './rules.js';
import { is_grad_enabled } from '../autograd/grad_mode.js';
import { torchError } from '../errors.js';
import { int64, type DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { LEGACY } from './nn_conv.js';
import { notImplemented, shapeStr } from './nn_util.js';
import { backward, named } from '../mirror/grad_fn.js';

const NATIVE_BATCH_NORM = backward('native_batch_norm');
const CLONE = backward('clone');
const MUL = backward('mul.Tensor');
const ADD = backward('add.Tensor');

const F = 'nn.functional.';

const numel = (s: readonly number[]) => s.reduce((p, v) => p * v, 1);
const pySize = (s: readonly number[]) => `torch.Size([${s.join(', ')}])`;
const isFloat = (t: DType) => t.category === 'float';
const reducedFloat = (t: DType) => t.name === 'float16' || t.name === 'bfloat16';

/**
 * mixed_type.h: when the first defined parameter's dtype is not the input's, every parameter
 * must be float32 and the input float16/bfloat16. Otherwise a parameter of another dtype is
 * refused when the kernel reads it: that error is returned, for the caller to throw then.
 */
function checkMixed(x: Tensor, params: (Tensor | null)[], op: string, readOrder = params): Error | undefined {
  const defined = params.filter((p): p is Tensor => p !== null);
  if (defined.length === 0) return undefined;
  if (defined[0]!.dtype === x.dtype) {
    const other = readOrder.find((p) => p !== null && p.dtype !== x.dtype);
    if (!other) return undefined;
    return torchError('RuntimeError', `expected scalar type ${x.dtype.scalarTypeName} but found ${other.dtype.scalarTypeName}`, op);
  }
  if (defined.some((p) => p.dtype.name !== 'float32')) {
    throw torchError('RuntimeError', 'mixed dtype (CPU): expect parameter to have scalar type of Float', op);
  }
  if (!reducedFloat(x.dtype)) throw torchError('RuntimeError', 'mixed dtype (CPU): all inputs must share same datatype.', op);
  return undefined;
}

const opt = (v: unknown) => (v as Tensor | null | undefined) ?? null;

/** Whether autograd records the op: grad mode on and some input requires grad. */
const recordsGrad = (...ts: Tensor[]) => is_grad_enabled() && ts.some((t) => t.requires_grad);

/** ATen's batch_norm (composite part) on an input whose channel count is `features`. */
function batchNormCore(
  x: Tensor,
  shape: readonly number[],
  features: number,
  p: { weight: Tensor | null; bias: Tensor | null; rm: Tensor | null; rv: Tensor | null; scale: number },
  training: boolean,
  op: string,
): OutSpec | typeof PENDING {
  const same = { shape: x.shape, dtype: x.dtype, device: x.device };
  if (numel(shape) === 0) {
    // input.clone() (* weight[0]) (+ bias[0]): the running stats take no part
    for (const t of [p.weight, p.bias]) {
      if (!t) continue;
      if (t.ndim !== 1) return PENDING;
      if (t.shape[0]! * p.scale === 0) throw torchError('IndexError', 'select(): index 0 out of range for tensor of size [0] at dimension 0', op);
    }
    if ((p.weight && p.weight.dtype !== x.dtype) || (p.bias && p.bias.dtype !== x.dtype)) return PENDING;
    const used = [x, p.weight, p.bias].some((t) => t && t.requires_grad);
    return used ? same : { ...same, requires_grad: false };
  }
  const fail = (m: string) => torchError('RuntimeError', m, op);
  const count = (name: string, t: Tensor) => {
    const n = numel(t.shape) * p.scale;
    if (n !== features) throw fail(`${name} should contain ${features} elements not ${n}`);
  };
  if (p.rm) count('running_mean', p.rm);
  else if (!training) throw fail('running_mean must be defined in evaluation mode');
  if (p.rv) count('running_var', p.rv);
  else if (!training) throw fail('running_var must be defined in evaluation mode');
  if (p.weight) count('weight', p.weight);
  if (p.bias) count('bias', p.bias);
  if (is_grad_enabled()) {
    for (const [name, t] of [
      ['running_mean', p.rm],
      ['running_var', p.rv],
    ] as const) {
      if (t && t.requires_grad) {
        throw fail(`The function 'native_batch_norm' is not differentiable with respect to argument '${name}'. This input cannot have requires_grad True.`);
      }
    }
  }
  if ((p.rm === null) !== (p.rv === null)) {
    throw torchError('ValueError', 'running_mean and running_var must either both be None or neither be None', op);
  }
  if (!isFloat(x.dtype)) throw notImplemented('batch_norm', x.dtype, op);
  // the kernel reads the running stats first when training, the affine parameters first otherwise
  const order = training ? [p.rm, p.rv, p.weight, p.bias] : [p.weight, p.bias, p.rm, p.rv];
  const later = checkMixed(x, [p.weight, p.bias, p.rm, p.rv], op, order);
  if (later) throw later;
  return same;
}

rule(F + 'batch_norm', (a, op) => {
  const x = a.input as Tensor;
  const training = a.training === true;
  if (training) {
    // F._verify_batch_size
    if (x.ndim === 0) return PENDING;
    if (x.shape[0]! * numel(x.shape.slice(2)) === 1) {
      throw torchError('ValueError', `Expected more than 1 value per channel when training, got input size ${pySize(x.shape)}`, op);
    }
  }
  if (x.ndim < 2) return PENDING; // ATen reads size(1) of a tensor without it
  const p = { weight: opt(a.weight), bias: opt(a.bias), rm: opt(a.running_mean), rv: opt(a.running_var), scale: 1 };
  const out = batchNormCore(x, x.shape, x.shape[1]!, p, training, op);
  // an empty input: input.clone() (* weight[0]) (+ bias[0])
  if (numel(x.shape) === 0) return named(out, p.bias ? ADD : p.weight ? MUL : CLONE);
  // on CUDA, cuDNN (or MIOpen) takes affine inputs of 3+ dims when it is built in and enabled,
  // which only the runtime knows: its reply names the node (CudnnBatchNormBackward0 or not)
  if (x.device.startsWith('cuda') && p.weight && p.bias && x.ndim >= 3 && recordsGrad(x, p.weight, p.bias)) return named(out, GRAD_FN_FROM_RUNTIME);
  return named(out, NATIVE_BATCH_NORM);
});

rule(F + 'instance_norm', (a, op) => {
  const x = a.input as Tensor;
  const useStats = a.use_input_stats !== false;
  if (useStats && numel(x.shape.slice(2)) === 1) {
    throw torchError('ValueError', `Expected more than 1 spatial element when training, got input size ${pySize(x.shape)}`, op);
  }
  const rm = opt(a.running_mean);
  const rv = opt(a.running_var);
  if (!useStats && !(rm && rv)) {
    throw torchError('RuntimeError', 'Expected running_mean and running_var to be defined when use_input_stats is false', op);
  }
  if (x.ndim < 2) return PENDING;
  const weight = opt(a.weight);
  const bias = opt(a.bias);
  if ([weight, bias, rm, rv].some((t) => t && t.ndim !== 1)) return PENDING; // .repeat(b)
  const [b, c] = [x.shape[0]!, x.shape[1]!];
  const shape = [1, b * c, ...x.shape.slice(2)];
  const out = batchNormCore(x, shape, b * c, { weight, bias, rm, rv, scale: b }, useStats, op);
  if (numel(shape) === 0) {
    // batch_norm checked nothing: the running stats are then updated through
    // running_mean.repeat(b).view(b, c).mean(0), copied into a view of running_mean
    for (const t of [rm, rv]) {
      if (!t) continue;
      if (b > 0 && t.shape[0]! * b !== b * c) {
        throw torchError('RuntimeError', `shape '[${b}, ${c}]' is invalid for input of size ${t.shape[0]! * b}`, op);
      }
      const cat = t.dtype.category;
      if (cat !== 'float' && cat !== 'complex') {
        throw torchError(
          'RuntimeError',
          `mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. Got: ${t.dtype.scalarTypeName}`,
          op,
        );
      }
      if (is_grad_enabled() && t.requires_grad) {
        if (!t.is_leaf) return PENDING;
        throw torchError('RuntimeError', 'a view of a leaf Variable that requires grad is being used in an in-place operation.', op);
      }
    }
  }
  return out;
});

rule(F + 'layer_norm', (a, op) => {
  const x = a.input as Tensor;
  if (typeof a.normalized_shape === 'number') {
    throw torchError('TypeError', "layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not int", op);
  }
  const ns = a.normalized_shape as number[];
  const fail = (m: string) => torchError('RuntimeError', m, op);
  const w = opt(a.weight);
  const b = opt(a.bias);
  const eq = (s: readonly number[]) => s.length === ns.length && s.every((v, i) => v === ns[i]);
  const later = checkMixed(x, [w, b], op);
  if (ns.length < 1) {
    throw fail(`Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but got normalized_shape = ${shapeStr(ns)}`);
  }
  if (w && !eq(w.shape)) {
    throw fail(`Expected weight to be of same shape as normalized_shape, but got weight of shape ${shapeStr(w.shape)} and normalized_shape = ${shapeStr(ns)}`);
  }
  if (b && !eq(b.shape)) {
    throw fail(`Expected bias to be of same shape as normalized_shape, but got bias of shape ${shapeStr(b.shape)} and normalized_shape = ${shapeStr(ns)}`);
  }
  if (x.ndim < ns.length || !eq(x.shape.slice(x.ndim - ns.length))) {
    throw fail(`Given normalized_shape=${shapeStr(ns)}, expected input with shape [*${ns.map((s) => ', ' + s).join('')}], but got input of size${shapeStr(x.shape)}`);
  }
  if (!isFloat(x.dtype)) throw notImplemented('LayerNormKernelImpl', x.dtype, op);
  if (later) throw later;
  // the kernel works on X.contiguous() and writes a fresh contiguous output, whatever the input's layout
  return { shape: x.shape, dtype: x.dtype, device: x.device, contiguous: true };
});

rule(F + 'group_norm', (a, op) => {
  const x = a.input as Tensor;
  const g = a.num_groups as number;
  if (x.ndim < 2) throw torchError('RuntimeError', `Expected at least 2 dimensions for input tensor but received ${x.ndim}`, op);
  const [n, c] = [x.shape[0]!, x.shape[1]!];
  if (g === 0) throw torchError('ZeroDivisionError', 'integer division or modulo by zero', op);
  const size = [Math.floor((n * c) / g), g, ...x.shape.slice(2)];
  if (size[0]! * numel(size.slice(2)) === 1) {
    throw torchError('ValueError', `Expected more than 1 value per channel when training, got input size ${shapeStr(size)}`, op);
  }
  const fail = (m: string) => torchError('RuntimeError', m, op);
  const w = opt(a.weight);
  const b = opt(a.bias);
  if (!(g > 0)) throw fail(`Expected num groups to be greater than 0, got ${g}`);
  if (c % g !== 0) {
    throw fail(`Expected number of channels in input to be divisible by num_groups, but got input of shape ${shapeStr(x.shape)} and num_groups=${g}`);
  }
  if (w && !(w.ndim === 1 && w.shape[0] === c)) {
    throw fail(
      `Expected weight to be a vector of size equal to the number of channels in input, but got weight of shape ${shapeStr(w.shape)} and input of shape ${shapeStr(x.shape)}`,
    );
  }
  if (b && !(b.ndim === 1 && b.shape[0] === c)) {
    // torch prints the weight's shape here (an undefined weight's is [0])
    throw fail(
      `Expected bias to be a vector of size equal to the number of channels in input, but got bias of shape ${shapeStr(w ? w.shape : [0])} and input of shape ${shapeStr(x.shape)}`,
    );
  }
  const later = checkMixed(x, [w, b], op);
  if (!isFloat(x.dtype)) throw notImplemented('GroupNormKernelImpl', x.dtype, op);
  if (later) throw later;
  return { shape: x.shape, dtype: x.dtype, device: x.device };
});

// ---- embedding, one_hot ------------------------------------------------------------------------

rule(
  F + 'embedding',
  (a, op) => {
    const idx = a.input as Tensor;
    const w = a.weight as Tensor;
    if (idx.device !== w.device) return PENDING;
    const pad = a.padding_idx as number | null | undefined;
    if (pad !== undefined && pad !== null) {
      if (w.ndim === 0) throw torchError('IndexError', 'Dimension specified as 0 but tensor has no dimensions', op);
      const n = w.shape[0]!;
      if ((pad > 0 && pad >= n) || (pad < 0 && pad < -n)) throw torchError('AssertionError', 'Padding_idx must be within num_embeddings', op);
    }
    if (a.max_norm !== undefined && a.max_norm !== null) return PENDING; // renormalizes the weight in place first
    if (w.ndim !== 2) throw torchError('RuntimeError', "'weight' must be 2-D", op);
    if (idx.dtype.name !== 'int64' && idx.dtype.name !== 'int32') {
      throw torchError(
        'RuntimeError',
        `Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got ${LEGACY[idx.dtype.name] ?? idx.dtype.name} instead (while checking arguments for embedding)`,
        op,
      );
    }
    return { shape: [...idx.shape, w.shape[1]!], dtype: w.dtype, device: w.device };
  },
  { mayFail: true }, // indices out of range
);

rule(
  F + 'one_hot',
  (a, op) => {
    const x = a.input as Tensor;
    const nc = (a.num_classes as number | undefined) ?? -1;
    if (x.dtype.name !== 'int64') throw torchError('RuntimeError', 'one_hot is only applicable to index tensor of type LongTensor.', op);
    const empty = x.shape.includes(0);
    if (empty) {
      if (nc <= 0) throw torchError('RuntimeError', 'Can not infer total number of classes from empty tensor.', op);
    } else if (nc <= 0) return PENDING; // the class count comes from the data (or the data is refused)
    return { shape: [...x.shape, nc], dtype: int64, device: x.device, differentiable: false };
  },
  { mayFail: true }, // class values out of range
);
