/** Pointwise arithmetic: broadcasting plus torch's type promotion. */
import { inplace, isTensor, type OutSpec } from './dispatch.js';
import { RULES, rule } from './rules.js';
import type { Bound } from './signature.js';
import { broadcastShapes } from '../mirror/broadcast.js';
import { isPyInt, resultType2, type Operand, type Scalar } from '../mirror/promotion.js';
import { get_default_dtype, type DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { torchError } from '../errors.js';

function operand(v: unknown): Operand {
  return isTensor(v) ? { dtype: v.dtype, ndim: v.ndim } : (v as Scalar);
}

/** The device of a pointwise result: CPU 0-dim tensors may mix with any device. */
export function commonDevice(tensors: readonly Tensor[], op: string): string {
  let device: string | undefined;
  for (const t of tensors) {
    if (t.device === device) continue;
    if (device === undefined) device = t.device;
    else if (t.device === 'cpu' && t.ndim === 0) continue;
    else if (device === 'cpu' && tensors.find((x) => x.device === 'cpu' && x.ndim > 0) === undefined) device = t.device;
    else {
      throw torchError(
        'RuntimeError',
        `Expected all tensors to be on the same device, but found at least two devices, ${device} and ${t.device}!`,
        op,
      );
    }
  }
  return device ?? 'cpu';
}

function promoted(op: string, x: unknown, y: unknown): DType {
  const t = resultType2(operand(x), operand(y));
  if (!t) throw torchError('RuntimeError', `Promotion for ${[x, y].map((v) => (isTensor(v) ? v.dtype.name : typeof v)).join(' and ')} is not supported`, op);
  return t;
}

const NO_DIMS: readonly number[] = [];

function binary(a: Bound, op: string, dtype?: (t: DType) => DType): OutSpec {
  const x = a.input;
  const y = a.other ?? a.exponent;
  const xt = isTensor(x);
  const yt = isTensor(y);
  const shape = broadcastShapes(xt ? x.shape : NO_DIMS, yt ? y.shape : NO_DIMS, op);
  const t = promoted(op, x, y);
  const device = xt && yt ? (x.device === y.device ? x.device : commonDevice([x, y], op)) : xt ? x.device : yt ? y.device : 'cpu';
  return { shape, dtype: dtype ? dtype(t) : t, device };
}

/** ATen's alpha_check for add/sub. */
function checkAlpha(alpha: unknown, t: DType, op: string): void {
  if (alpha === undefined) return;
  if (typeof alpha === 'boolean' && t.category !== 'bool') {
    throw torchError('RuntimeError', 'Boolean alpha only supported for Boolean results.', op);
  }
  const integral = typeof alpha === 'boolean' || typeof alpha === 'bigint' || (typeof alpha === 'number' && isPyInt(alpha));
  if ((t.category === 'int' || t.category === 'bool') && !integral) {
    throw torchError('RuntimeError', 'For integral input tensors, argument alpha must not be a floating point number.', op);
  }
}

const toFloat = (t: DType): DType => (t.category === 'int' || t.category === 'bool' ? get_default_dtype() : t);

rule('add', (a, op) => {
  const out = binary(a, op);
  checkAlpha(a.alpha, out.dtype, op);
  return out;
});

rule('sub', (a, op) => {
  const out = binary(a, op);
  const isBool = (v: unknown) => (isTensor(v) ? v.dtype.category === 'bool' : typeof v === 'boolean');
  if (isBool(a.input) && isBool(a.other)) {
    throw torchError(
      'RuntimeError',
      'Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.',
      op,
    );
  }
  if (isBool(a.input) || isBool(a.other)) {
    throw torchError(
      'RuntimeError',
      'Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.',
      op,
    );
  }
  checkAlpha(a.alpha, out.dtype, op);
  return out;
});

rule('mul', (a, op) => binary(a, op));

rule('div', (a, op) => {
  const mode = a.rounding_mode;
  if (mode !== undefined && mode !== null && mode !== 'trunc' && mode !== 'floor') {
    throw torchError(
      'RuntimeError',
      `div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '${String(mode)}'`,
      op,
    );
  }
  const out = binary(a, op, mode === undefined || mode === null ? toFloat : undefined);
  if (mode && out.dtype.category === 'bool') {
    const kernel = `div_${String(mode)}_${out.device.startsWith('cuda') ? 'cuda' : 'cpu'}`;
    throw torchError('NotImplementedError', `"${kernel}" not implemented for 'Bool'`, op);
  }
  return out;
});

rule('pow', (a, op) => {
  const out = binary(a, op);
  const e = a.exponent;
  if (out.dtype.category === 'int' && typeof e === 'number' && isPyInt(e) && e < 0) {
    throw torchError('RuntimeError', 'Integers to negative integer powers are not allowed.', op);
  }
  return out;
});

function unary(name: string, dtype: (t: DType, op: string) => DType): void {
  rule(name, (a, op) => {
    const x = a.input as Tensor;
    return { shape: x.shape, dtype: dtype(x.dtype, op), device: x.device };
  });
}

unary('neg', (t, op) => {
  if (t.category === 'bool') {
    throw torchError(
      'RuntimeError',
      'Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.',
      op,
    );
  }
  return t;
});
unary('exp', toFloat);
unary('log', toFloat);

// In-place forms: the out-of-place rule plus torch's in-place checks (dispatch.inplace).
for (const name of ['add', 'sub', 'mul', 'div', 'pow', 'neg', 'exp', 'log']) rule(`${name}_`, inplace(RULES.get(name)!));
