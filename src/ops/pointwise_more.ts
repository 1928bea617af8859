/** Ternary pointwise ops (where, lerp, addcmul, addcdiv, clamp), isclose, fill_ and zero_. */
import { torchError } from '../errors.js';
import { PENDING, isTensor, type MetaRule, type OutSpec } from './dispatch.js';
import { rule } from './rules.js';
import { broadcastShapes } from '../mirror/broadcast.js';
import { bfloat16, bool, float16, float64, type DType } from '../tensor/dtype.js';
import { numel } from '../mirror/dims.js';
import type { Tensor } from '../tensor/tensor.js';
import {
  checkScalar,
  commonDevice,
  uncheckedOnCpu,
  forceGrad,
  formatDouble,
  guard,
  inPlace,
  isExotic,
  leafCheck,
  notImplemented,
  opmath,
  operand,
  outOfPlace,
  plain,
  resultTypeOf,
  staged,
  typeMetaName,
  unknown,
  type Staged,
  type StagedRule,
} from './pointwise.js';

const NO_DIMS: readonly number[] = [];
const opmathFill = (t: DType): DType => (t === float16 || t === bfloat16 ? float64 : t);
const shapeOf = (v: unknown): readonly number[] => (isTensor(v) ? v.shape : NO_DIMS);

function tensorsOf(values: readonly unknown[]): Tensor[] {
  const out: Tensor[] = [];
  for (const v of values) {
    if (isTensor(v)) {
      if (isExotic(v.dtype) || v.device === 'meta') unknown(); // meta: see pointwise.ts onMeta()
      out.push(v);
    }
  }
  return out;
}

/** The broadcast shape of several operands, in torch's order (TensorIterator's). */
function broadcastAll(values: readonly unknown[], op: string): readonly number[] {
  let shape = shapeOf(values[0]);
  for (let i = 1; i < values.length; i++) shape = broadcastShapes(shape, shapeOf(values[i]), op);
  return shape;
}

function common(values: readonly unknown[]): DType {
  const t = resultTypeOf(...values.map(operand));
  return t ? plain(t) : unknown();
}

// ---------------------------------------------------------------------------------------------
// where: torch.where(condition, input, other) and Tensor.where(condition, other)
// ---------------------------------------------------------------------------------------------

rule(
  'where',
  guard((a, op) => {
    // torch.where(condition): one index tensor per dim, sized by the data (see list_length.ts)
    if (a.input === undefined) return PENDING;
    const cond = a.condition as Tensor;
    const x = a.input;
    const y = a.other;
    const tensors = tensorsOf([cond, x, y]);
    const t = common([x, y]);
    // Python scalars are converted to the result type first (float16/bfloat16: unchecked on CPU)
    const device = commonDevice(tensors, op);
    for (const v of [x, y]) {
      if (isTensor(v)) continue;
      if (t.category !== 'float' || opmath(t) === t) checkScalar(v, t, op, device);
      else uncheckedOnCpu(v, t, device);
    }
    if (cond.dtype !== bool && cond.dtype.name !== 'uint8') {
      throw torchError('RuntimeError', `where expected condition to be a boolean tensor, but got a tensor with dtype ${cond.dtype.scalarTypeName}`, op);
    }
    const shape = broadcastAll([cond, x, y], op);
    return { shape, dtype: t, device };
  }),
);

// ---------------------------------------------------------------------------------------------
// lerp(input, end, weight)
// ---------------------------------------------------------------------------------------------

staged(
  ['lerp'],
  (a, op) => {
    const x = a.input as Tensor;
    const end = a.end as Tensor;
    const w = a.weight;
    const tensors = tensorsOf([x, end, w]);
    if (end.dtype !== x.dtype) {
      throw torchError('RuntimeError', `expected dtype ${typeMetaName(x.dtype)} for \`end\` but got dtype ${typeMetaName(end.dtype)}`, op);
    }
    if (isTensor(w) && w.ndim > 0 && w.dtype !== x.dtype) {
      throw torchError('RuntimeError', `expected dtype ${typeMetaName(x.dtype)} for \`weight\` but got dtype ${typeMetaName(w.dtype)}`, op);
    }
    const shape = broadcastAll([x, end, w], op);
    const device = commonDevice(tensors, op);
    if (isTensor(w)) {
      const t = common([x, end, w]);
      const s: Staged = { shape, dtype: t, device };
      if (t.category !== 'float' && t.category !== 'complex') s.post = () => notImplemented('lerp_kernel_tensor', t, device, op);
      return s;
    }
    const t = x.dtype;
    return {
      shape,
      dtype: t,
      device,
      post: () => {
        if (t.category !== 'float' && t.category !== 'complex') notImplemented('lerp_kernel_scalar', t, device, op);
        checkScalar(w, opmath(t), op, device, t);
      },
    };
  },
  { inplace: true },
);

// ---------------------------------------------------------------------------------------------
// addcmul / addcdiv(input, tensor1, tensor2, *, value=1)
// ---------------------------------------------------------------------------------------------

function addc(kernel: string, divide: boolean): StagedRule {
  return (a, op) => {
    const x = a.input as Tensor;
    const t1 = a.tensor1 as Tensor;
    const t2 = a.tensor2 as Tensor;
    const tensors = tensorsOf([x, t1, t2]);
    const intish = (t: DType) => t.category === 'int' || t.category === 'bool';
    if (divide && intish(t1.dtype) && intish(t2.dtype)) {
      throw torchError(
        'RuntimeError',
        'Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), for all dtypes.',
        op,
      );
    }
    const shape = broadcastAll([x, t1, t2], op);
    const t = common([x, t1, t2]);
    const device = commonDevice(tensors, op);
    const value = a.value;
    return {
      shape,
      dtype: t,
      device,
      post: () => {
        if (t === bool) notImplemented(kernel, t, device, op);
        if (value !== undefined) checkScalar(value, opmath(t), op, device, t);
      },
    };
  };
}
staged(['addcmul'], addc('addcmul_cpu_out', false), { inplace: true });
staged(['addcdiv'], addc('addcdiv_cpu_out', true), { inplace: true });

// ---------------------------------------------------------------------------------------------
// clamp / clip(input, min=None, max=None): Tensor or Scalar bounds
// ---------------------------------------------------------------------------------------------

const present = (v: unknown) => v !== undefined && v !== null;
const notComplexTypes = (op: string) => torchError('NotImplementedError', 'clamp is not supported for complex types', op);

/** clamp with Tensor bounds: an ordinary staged rule (maximum/minimum/clamp kernels). */
const clampTensor: StagedRule = (a, op) => {
  const x = a.input as Tensor;
  const lo = present(a.min) ? a.min : undefined;
  const hi = present(a.max) ? a.max : undefined;
  const tensors = tensorsOf([x, lo, hi]);
  if (x.dtype.category === 'complex') throw notComplexTypes(op);
  const shape = broadcastAll([x, lo, hi], op);
  const t = common([x, ...(lo !== undefined ? [lo] : []), ...(hi !== undefined ? [hi] : [])]);
  const device = commonDevice(tensors, op);
  const kernel = hi === undefined ? 'maximum_cpu' : lo === undefined ? 'minimum_cpu' : 'clamp_cpu';
  const s: Staged = { shape, dtype: t, device };
  if (t.category === 'complex' || (t === bool && kernel === 'clamp_cpu')) s.post = () => notImplemented(kernel, t, device, op);
  return s;
};

/** clamp with Scalar bounds; `self` for clamp_, which checks the result type its own way. */
function clampScalar(a: Record<string, unknown>, op: string, self?: Tensor): OutSpec {
  const x = a.input as Tensor;
  const lo = a.min;
  const hi = a.max;
  tensorsOf([x]);
  if (x.dtype.category === 'complex') throw notComplexTypes(op);
  let t = x.dtype;
  if (t.category !== 'float') {
    t = common([x, ...(present(lo) ? [lo] : []), ...(present(hi) ? [hi] : [])]);
    if (self && t !== self.dtype) {
      throw torchError('RuntimeError', `result type ${t.scalarTypeName} can't be cast to the desired output type ${self.dtype.cppTypeName}`, op);
    }
    if (t.category === 'complex') throw notComplexTypes(op);
  }
  const spec = { shape: x.shape, dtype: t, device: x.device };
  if (present(lo) && present(hi)) {
    // both bounds are read as doubles first: a NaN one makes the result all NaN (no kernel)
    checkScalar(lo, float64, op, x.device, t);
    if (isNaNScalar(lo)) return spec;
    checkScalar(hi, float64, op, x.device, t);
    if (isNaNScalar(hi)) return spec;
  }
  checkScalar(lo, t, op, x.device);
  checkScalar(hi, t, op, x.device);
  if (t === bool) {
    const kernel = !present(hi) ? 'clamp_min_scalar_cpu' : !present(lo) ? 'clamp_max_scalar_cpu' : 'clamp_scalar_cpu';
    notImplemented(kernel, t, x.device, op);
  }
  return spec;
}

const isNaNScalar = (v: unknown) =>
  (typeof v === 'number' && Number.isNaN(v)) || (typeof v === 'object' && v !== null && 're' in v && Number.isNaN((v as { re: number }).re));

const noBounds = (op: string) => torchError('RuntimeError', "torch.clamp: At least one of 'min' or 'max' must not be None", op);
const tensorBounds = (a: Record<string, unknown>) => isTensor(a.min) || isTensor(a.max);
const clampTensorOOP = outOfPlace(clampTensor);
const clampTensorIP = inPlace(clampTensor);

const clamp: MetaRule = guard((a, op) => {
  tensorsOf([a.input]);
  if (!present(a.min) && !present(a.max)) throw noBounds(op);
  return tensorBounds(a) ? clampTensorOOP(a, op) : clampScalar(a, op);
});
const clamp_: MetaRule = guard((a, op) => {
  const self = a.input as Tensor;
  tensorsOf([self]);
  leafCheck(self, op);
  if (!present(a.min) && !present(a.max)) throw noBounds(op);
  if (tensorBounds(a)) return clampTensorIP(a, op);
  clampScalar(a, op, self);
  return { shape: self.shape, dtype: self.dtype, device: self.device, inplace: self };
});
for (const name of ['clamp', 'clip']) {
  rule(name, clamp);
  rule(`${name}_`, clamp_);
}

// ---------------------------------------------------------------------------------------------
// isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False)
// ---------------------------------------------------------------------------------------------

rule(
  'isclose',
  guard((a, op) => {
    const x = a.input as Tensor;
    const y = a.other as Tensor;
    const tensors = tensorsOf([x, y]);
    if (x.dtype !== y.dtype) throw torchError('RuntimeError', `${x.dtype.scalarTypeName} did not match ${y.dtype.scalarTypeName}`, op);
    const rtol = (a.rtol as number | undefined) ?? 1e-5;
    const atol = (a.atol as number | undefined) ?? 1e-8;
    if (rtol < 0) throw torchError('RuntimeError', `rtol must be greater than or equal to zero, but got ${formatDouble(rtol)}`, op);
    if (atol < 0) throw torchError('RuntimeError', `atol must be greater than or equal to zero, but got ${formatDouble(atol)}`, op);
    const shape = broadcastShapes(x.shape, y.shape, op);
    return { shape, dtype: bool, device: commonDevice(tensors, op) };
  }),
);

// ---------------------------------------------------------------------------------------------
// fill_(value) and zero_(): self keeps its shape (no broadcasting)
// ---------------------------------------------------------------------------------------------

rule(
  'fill_',
  guard((a, op) => {
    const self = a.input as Tensor;
    const v = a.value;
    tensorsOf([self, v]);
    leafCheck(self, op);
    if (isTensor(v)) {
      if (v.ndim !== 0) {
        throw torchError('RuntimeError', `fill_ only supports 0-dimension value tensor but got tensor with ${v.ndim} dimensions.`, op);
      }
      forceGrad(self, [v]); // a value that requires grad makes self require grad, whatever its dtype
    } else {
      // a one-element CPU tensor is filled through a double (float16/bfloat16 unchecked)
      const t = self.device === 'cpu' && numel(self.shape) === 1 ? opmathFill(self.dtype) : self.dtype;
      checkScalar(v, t, op, self.device);
    }
    return { shape: self.shape, dtype: self.dtype, device: self.device, inplace: self };
  }),
);

// copy_(src, non_blocking): src broadcast to self, any dtype and device (a cast and a move
// included); self keeps its metadata, recorded as CopyBackwards when src requires grad (an
// integer self cannot: it is left as it was, as torch does)
rule(
  'copy_',
  guard((a, op) => {
    const self = a.input as Tensor;
    const src = a.other as Tensor; // torch's stubs name it other (the docs: src)
    tensorsOf([self, src]);
    leafCheck(self, op);
    const shape = broadcastShapes(self.shape, src.shape, op);
    if (shape.length !== self.shape.length || shape.some((d, i) => d !== self.shape[i])) {
      throw torchError('RuntimeError', `output with shape [${self.shape.join(', ')}] doesn't match the broadcast shape [${shape.join(', ')}]`, op);
    }
    const floating = self.dtype.category === 'float' || self.dtype.category === 'complex';
    return { shape: self.shape, dtype: self.dtype, device: self.device, inplace: self, differentiable: floating, grad_fn: 'CopyBackwards' };
  }),
);

rule('zero_', (a, op) => {
  const self = a.input as Tensor;
  leafCheck(self, op);
  return { shape: self.shape, dtype: self.dtype, device: self.device, inplace: self };
});
