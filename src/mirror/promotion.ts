/**
 * torch's type promotion (docs: "Type promotion"; ATen's result_type): dimensioned tensors
 * outrank zero-dim tensors, which outrank Python scalars, but only within a category
 * (bool < int < float < complex): a higher category always wins.
 */
import {
  DType,
  bool,
  complex128,
  complex32,
  complex64,
  float16,
  default_complex_dtype,
  float32,
  float64,
  get_default_dtype,
  int16,
  int32,
  int64,
  int8,
  uint8,
} from '../tensor/dtype.js';

const RANK = { bool: 0, int: 1, float: 2, complex: 3 } as const;
const SIGNED_INTS = [int8, int16, int32, int64];

/** torch.promote_types; undefined where torch has no rule the mirror knows (unsigned >8 bit). */
export function promoteTypes(a: DType, b: DType): DType | undefined {
  if (a === b) return a;
  // uint16/32/64 combine only with floating types (giving the float); torch refuses the rest
  if (isBarebonesUnsigned(a) || isBarebonesUnsigned(b)) {
    const other = isBarebonesUnsigned(a) ? b : a;
    return other.category === 'float' ? other : undefined;
  }
  if (a.category === 'bool') return b;
  if (b.category === 'bool') return a;
  const ra = RANK[a.category];
  const rb = RANK[b.category];
  if (ra !== rb) {
    const [hi, lo] = ra > rb ? [a, b] : [b, a];
    if (hi.category === 'complex' && lo.category === 'float') {
      const part = promoteTypes(componentOf(hi), lo);
      return part && toComplex(part);
    }
    return hi;
  }
  switch (a.category) {
    case 'int': {
      if (a.signed === b.signed) return a.itemsize >= b.itemsize ? a : b;
      const [s, u] = a.signed ? [a, b] : [b, a];
      if (s.itemsize > u.itemsize) return s;
      return SIGNED_INTS.find((t) => t.itemsize === u.itemsize * 2) ?? int64;
    }
    case 'float':
      if (a.itemsize === b.itemsize) return float32; // float16 with bfloat16
      return a.itemsize > b.itemsize ? a : b;
    case 'complex':
      return a.itemsize > b.itemsize ? a : b;
    default:
      return undefined;
  }
}

/** The real type of a complex dtype's parts. */
function componentOf(c: DType): DType {
  return c === complex128 ? float64 : c === complex32 ? float16 : float32;
}

/** The complex dtype with parts of float dtype f (c10 maps bfloat16 to complex64). */
function toComplex(f: DType): DType | undefined {
  return f === float64 ? complex128 : f === float16 ? complex32 : complex64;
}

function isBarebonesUnsigned(t: DType): boolean {
  return t.category === 'int' && !t.signed && t !== uint8;
}

/** A Python scalar operand, as JS gives it. */
export type Scalar = number | boolean | bigint | { re: number; im: number };

/** The dtype torch gives a Python scalar on its own (int -> int64, float -> default dtype). */
export function scalarDtype(v: Scalar): DType {
  if (typeof v === 'boolean') return bool;
  if (typeof v === 'bigint') return int64;
  if (typeof v === 'number') return isPyInt(v) ? int64 : get_default_dtype();
  return default_complex_dtype();
}

/**
 * Whether a JS number stands for a Python int: whole and exactly representable (|v| < 2^53).
 * The wire agrees (see session.call): such numbers travel as msgpack ints, all others as floats.
 */
export function isPyInt(v: number): boolean {
  return Number.isSafeInteger(v);
}

/** An operand of result_type: a tensor's (dtype, ndim) or a Python scalar. */
export type Operand = { dtype: DType; ndim: number } | Scalar;

function isTensorOperand(o: Operand): o is { dtype: DType; ndim: number } {
  return typeof o === 'object' && o !== null && 'dtype' in o;
}

function combine(higher: DType | undefined, lower: DType | undefined): DType | undefined {
  if (!higher) return lower;
  if (!lower) return higher;
  if (higher.category === 'complex') return higher;
  if (lower.category === 'complex') return higher.category === 'float' ? toComplex(higher) : lower;
  if (higher.category === 'float') return higher;
  if (higher.category === 'bool' || lower.category === 'float') return promoteTypes(higher, lower);
  return higher;
}

function promoteOpt(acc: DType | undefined, t: DType): DType | undefined {
  return acc === undefined ? t : promoteTypes(acc, t);
}

/** torch.result_type over any mix of tensors and scalars. */
export function resultType(...operands: Operand[]): DType | undefined {
  let dim: DType | undefined;
  let zero: DType | undefined;
  let wrapped: DType | undefined;
  for (const o of operands) {
    if (isTensorOperand(o)) {
      if (o.ndim > 0) dim = promoteOpt(dim, o.dtype);
      else zero = promoteOpt(zero, o.dtype);
    } else {
      wrapped = promoteOpt(wrapped, scalarDtype(o));
    }
  }
  return combine(dim, combine(zero, wrapped));
}

/** result_type of two operands, with the common cases answered without allocating. */
export function resultType2(a: Operand, b: Operand): DType | undefined {
  if (isTensorOperand(a)) {
    if (isTensorOperand(b)) {
      if (a.dtype === b.dtype) return a.dtype;
    } else if (typeof b === 'number') {
      const c = a.dtype.category;
      if (c === 'float' || c === 'complex' || (c === 'int' && isPyInt(b))) return a.dtype;
    }
  }
  return resultType(a, b);
}

/** Whether a value of dtype `from` may be written into a tensor of dtype `to` (in-place ops). */
export function canCast(from: DType, to: DType): boolean {
  return RANK[from.category] <= RANK[to.category];
}
