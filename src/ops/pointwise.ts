/**
 * Pointwise ops: broadcasting plus torch's type promotion, and which dtypes each kernel
 * accepts (torch's "not implemented for 'Bool'" errors). Unary and binary ops here; the
 * ternary ones (where, lerp, addcmul, clamp...) and fill_/zero_ in pointwise_more.ts.
 */
import { isTensor, PENDING, type MetaRule, type OutSpec } from './dispatch.js';
import { rule } from './rules.js';
import type { Bound } from './signature.js';
import { broadcastShapes, sameShape } from '../mirror/broadcast.js';
import { numel } from '../mirror/dims.js';
import { canCast, isPyInt, promoteTypes, scalarDtype, type Operand, type Scalar } from '../mirror/promotion.js';
import {
  bfloat16,
  bool,
  complex128,
  complex32,
  complex64,
  float16,
  float32,
  float64,
  get_default_dtype,
  int64,
  uint16,
  uint32,
  uint64,
  type DType,
} from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { torchError } from '../errors.js';
import { is_grad_enabled } from '../autograd/grad_mode.js';

// ---------------------------------------------------------------------------------------------
// Promotion. mirror/promotion.ts has two gaps (reported to the lead): uint16/32/64 promote
// with float types only (and never with bool), and a complex operand lifts a bfloat16 result
// to complex64. These local versions close them; they equal torch.promote_types and
// torch.result_type for every dtype pair and operand mix the test suite draws.
// ---------------------------------------------------------------------------------------------

const BAREBONES: ReadonlySet<DType> = new Set([uint16, uint32, uint64]);
/** dtypes whose kernels the mirror does not model: their ops take the pending path */
const EXOTIC: ReadonlySet<DType> = new Set([uint16, uint32, uint64, complex32]);

/** Thrown inside a rule when the outcome is not predictable (caught by guard(): PENDING). */
const UNKNOWN = Symbol('unknown');

export function isExotic(t: DType): boolean {
  return EXOTIC.has(t);
}

/** torch.promote_types. */
export function promote(a: DType, b: DType): DType | undefined {
  if (a === b) return a;
  const ua = BAREBONES.has(a);
  if (ua || BAREBONES.has(b)) {
    const other = ua ? b : a;
    return other.category === 'float' && !BAREBONES.has(other) ? other : undefined;
  }
  return promoteTypes(a, b);
}

function toComplex(f: DType): DType | undefined {
  return f === float64 ? complex128 : f === float32 || f === bfloat16 ? complex64 : f === float16 ? complex32 : undefined;
}

function combine(higher: DType | undefined, lower: DType | undefined): DType | undefined {
  if (!higher) return lower;
  if (!lower) return higher;
  if (higher.category === 'complex') return higher;
  if (lower.category === 'complex') return higher.category === 'float' ? toComplex(higher) : lower;
  if (higher.category === 'float') return higher;
  if (higher.category === 'bool' || lower.category === 'float') return promote(higher, lower);
  return higher;
}

function isTensorOperand(o: Operand): o is { dtype: DType; ndim: number } {
  return typeof o === 'object' && o !== null && 'dtype' in o;
}

/** torch.result_type over any mix of tensors and Python scalars; undefined where torch refuses. */
export function resultTypeOf(...operands: Operand[]): DType | undefined {
  let dim: DType | undefined;
  let zero: DType | undefined;
  let wrapped: DType | undefined;
  let ok = true;
  for (const o of operands) {
    if (isTensorOperand(o)) {
      if (o.ndim > 0) {
        if (dim === undefined) dim = o.dtype;
        else if (!(dim = promote(dim, o.dtype))) ok = false;
      } else if (zero === undefined) zero = o.dtype;
      else if (!(zero = promote(zero, o.dtype))) ok = false;
    } else {
      const s = scalarDtype(o);
      if (wrapped === undefined) wrapped = s;
      else if (!(wrapped = promote(wrapped, s))) ok = false;
    }
  }
  return ok ? combine(dim, combine(zero, wrapped)) : undefined;
}

export function operand(v: unknown): Operand {
  return isTensor(v) ? { dtype: v.dtype, ndim: v.ndim } : (v as Scalar);
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

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

/** A rule whose helpers may find the outcome unpredictable (exotic dtypes, non-CPU kernels). */
export function guard(fn: MetaRule): MetaRule {
  return (a, op) => {
    try {
      return fn(a, op);
    } catch (e) {
      if (e === UNKNOWN) return PENDING;
      throw e;
    }
  };
}

/** Give up on this call (inside a guard()ed rule): the runtime reports the metadata. */
export function unknown(): never {
  throw UNKNOWN;
}

/** A dtype the mirror does not model: unknown(). */
export function plain(t: DType): DType {
  if (EXOTIC.has(t)) throw UNKNOWN;
  return t;
}

/**
 * torch's `"kernel" not implemented for 'Type'`. Kernel names are the CPU ones: on other
 * devices the outcome is left to the runtime.
 */
export function notImplemented(kernel: string, t: DType, device: string, op: string): void {
  if (device !== 'cpu') throw UNKNOWN;
  throw torchError('NotImplementedError', `"${kernel}" not implemented for '${t.scalarTypeName}'`, op);
}

/** The C++ type names of c10's checked scalar conversion message. */
const CTYPE: Record<string, string> = {
  bool: 'bool',
  uint8: 'uint8_t',
  int8: 'int8_t',
  int16: 'int16_t',
  int32: 'int',
  int64: 'int64_t',
  float16: 'at::Half',
  bfloat16: 'at::BFloat16',
  float32: 'float',
  float64: 'double',
  complex64: 'c10::complex<float>',
  complex128: 'c10::complex<double>',
};
const INT_RANGE: Record<string, readonly [number, number]> = {
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  int64: [-9223372036854775808, 9223372036854775807],
};
const FLOAT_MAX: Record<string, number> = {
  float16: 65504,
  bfloat16: 3.3895313892515355e38,
  float32: 3.4028234663852886e38,
  float64: Number.MAX_VALUE,
  complex64: 3.4028234663852886e38,
  complex128: Number.MAX_VALUE,
};

/** c10::overflows for one real part: `integral` when the Python value is an int. */
function partOverflows(f: number | bigint, integral: boolean, t: DType): boolean {
  if (t.category === 'int') {
    const [lo, hi] = INT_RANGE[t.name]!;
    if (typeof f === 'bigint') {
      if (!t.signed) return f > BigInt(hi) || (f < 0n && -f > BigInt(hi));
      return f < BigInt(lo) || f > BigInt(hi);
    }
    if (integral && !t.signed) return f > hi || (f < 0 && -f > hi); // negative ints wrap
    if (Number.isNaN(f)) return true;
    return f < lo || f > hi;
  }
  const v = Number(f);
  if (!Number.isFinite(v)) return false; // inf and nan convert
  const m = FLOAT_MAX[t.name]!;
  return v < -m || v > m;
}

/** Whether c10's checked conversion of a Python scalar to dtype t overflows. */
function scalarOverflows(v: unknown, t: DType): boolean {
  if (t === bool || typeof v === 'boolean') return false;
  if (typeof v === 'number') return partOverflows(v, isPyInt(v), t);
  if (typeof v === 'bigint') return partOverflows(v, true, t);
  if (typeof v === 'object' && v !== null && 're' in v) {
    const c = v as { re: number; im: number };
    if (t.category !== 'complex') return c.im !== 0 || partOverflows(c.re, false, t);
    return partOverflows(c.re, false, t) || partOverflows(c.im, false, t);
  }
  return false;
}

/**
 * torch's "value cannot be converted to type X without overflow", for the conversion of a
 * Python scalar to dtype t that the CPU kernel makes. Other devices convert elsewhere (CUDA:
 * also where the CPU kernel does not check): a scalar that overflows t or the result dtype is
 * left to the runtime there.
 */
export function checkScalar(v: unknown, t: DType, op: string, device = 'cpu', result: DType = t): void {
  if (v === undefined || v === null) return;
  if (device !== 'cpu') {
    if (scalarOverflows(v, t) || scalarOverflows(v, result)) throw UNKNOWN;
    return;
  }
  if (!scalarOverflows(v, t)) return;
  const name = CTYPE[t.name];
  if (!name) throw UNKNOWN;
  throw torchError('RuntimeError', `value cannot be converted to type ${name} without overflow`, op);
}

/** A scalar conversion the CPU kernel does not check: off the CPU, an overflow is left to the runtime. */
export function uncheckedOnCpu(v: unknown, t: DType, device: string): void {
  if (device !== 'cpu' && v !== undefined && v !== null && scalarOverflows(v, t)) throw UNKNOWN;
}

/** The type a kernel computes in: float16/bfloat16 in float32. */
export function opmath(t: DType): DType {
  return t === float16 || t === bfloat16 ? float32 : t;
}

/** C10's printed name of a dtype ('float', 'long int', 'c10::Half'), as in lerp's messages. */
export function typeMetaName(t: DType): string {
  return t.cppTypeName;
}

/** A finite double as C++'s default ostream prints it (6 significant digits). */
export function formatDouble(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const exp = Math.floor(Math.log10(Math.abs(v)));
  let s: string;
  if (exp < -5 || exp >= 6) {
    s = v.toExponential(5);
    let [mant, e] = s.split('e') as [string, string];
    if (mant.includes('.')) mant = mant.replace(/0+$/, '').replace(/\.$/, '');
    const sign = e.startsWith('-') ? '-' : '+';
    const digits = e.replace(/^[+-]/, '').padStart(2, '0');
    return `${mant}e${sign}${digits}`;
  }
  s = v.toPrecision(6);
  if (s.includes('e')) return formatDouble(Number(s));
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

const toFloat = (t: DType): DType => (t.category === 'int' || t.category === 'bool' ? get_default_dtype() : t);
const realOf = (t: DType): DType => (t === complex64 ? float32 : t === complex128 ? float64 : t === complex32 ? float16 : t);

// ---------------------------------------------------------------------------------------------
// Staged rules. torch checks a pointwise call in a fixed order: the op's own argument checks,
// then TensorIterator (inputs broadcast; for in-place ops self's shape, then the cast of the
// result type to self's dtype), then the kernel (dtypes it implements, scalar conversions).
// A staged rule does the first two at once and returns the kernel's checks as `post`, so the
// out-of-place and in-place forms share one rule and each throws torch's first error.
// ---------------------------------------------------------------------------------------------

export interface Staged extends OutSpec {
  /** the checks torch makes once the iterator is built (kernels, scalar conversions) */
  post?: () => void;
  /**
   * In-place form: self requires grad afterwards when any input does, whatever its dtype
   * (comparisons: their derivative formulas make a grad_fn even on integer tensors).
   */
  gradAnyDtype?: boolean;
}
export type StagedRule = (a: Bound, op: string) => Staged;

/**
 * Tensors on the meta device go through torch's Python meta functions and decompositions,
 * whose checks and messages differ from the CPU kernels': the runtime answers for them.
 */
function onMeta(a: Bound): boolean {
  const x = a.input;
  if (isTensor(x) && x._m!.device === 'meta') return true;
  const y = a.other ?? a.exponent ?? a.values;
  return isTensor(y) && y._m!.device === 'meta';
}

/** The out-of-place rule of a staged one (the Staged object is the OutSpec: no copy). */
export function outOfPlace(fn: StagedRule): MetaRule {
  return (a, op) => {
    if (onMeta(a)) return PENDING;
    try {
      const s = fn(a, op);
      if (s.post !== undefined) s.post();
      return s;
    } catch (e) {
      if (e === UNKNOWN) return PENDING;
      throw e;
    }
  };
}

/** The in-place rule of a staged one: torch's leaf, shape and cast checks, in torch's order. */
export function inPlace(fn: StagedRule, opts: { leafCheck?: boolean } = {}): MetaRule {
  const leaf = opts.leafCheck ?? true;
  return guard((a, op) => {
    const self = a.input as Tensor;
    if (onMeta(a)) return PENDING;
    if (leaf) leafCheck(self, op);
    const s = fn(a, op);
    if (!sameShape(s.shape, self.shape)) {
      throw torchError('RuntimeError', `output with shape [${self.shape.join(', ')}] doesn't match the broadcast shape [${s.shape.join(', ')}]`, op);
    }
    castCheck(s.dtype, self, op);
    if (s.post !== undefined) s.post();
    if (s.gradAnyDtype) forceGrad(self, [a.other, a.exponent]);
    return { shape: self.shape, dtype: self.dtype, device: self.device, inplace: self, differentiable: s.differentiable };
  });
}

/**
 * self, written in place by an op whose backward exists for every dtype (comparisons, fill_
 * with a tensor value): it requires grad from now on when one of `inputs` does. dispatch's
 * in-place metadata derives requires_grad for floating self only, so self's flags are set here.
 */
export function forceGrad(self: Tensor, inputs: readonly unknown[]): void {
  if (!is_grad_enabled() || self.dtype.category === 'float' || self.dtype.category === 'complex') return;
  if (!inputs.some((v) => isTensor(v) && v.requires_grad)) return;
  self._setMeta({ ...self._m!, requires_grad: true, is_leaf: false });
}

function castCheck(t: DType, self: Tensor, op: string): void {
  if (!canCast(t, self.dtype)) {
    throw torchError('RuntimeError', `result type ${t.scalarTypeName} can't be cast to the desired output type ${self.dtype.scalarTypeName}`, op);
  }
}

/** Register a staged rule under its names, and (inplace) their `name_` forms. */
export function staged(
  names: readonly string[],
  fn: StagedRule,
  opts: { inplace?: boolean; mayFail?: boolean; leafCheck?: boolean } = {},
): void {
  const oop = outOfPlace(fn);
  const ip = opts.inplace ? inPlace(fn, opts) : undefined;
  for (const n of names) {
    rule(n, oop, { mayFail: opts.mayFail });
    if (ip) rule(`${n}_`, ip, { mayFail: opts.mayFail });
  }
}

/** No in-place op on a leaf that requires grad (checked first, by the autograd layer). */
export function leafCheck(self: Tensor, op: string): void {
  if (self.is_leaf && self.requires_grad && is_grad_enabled()) {
    throw torchError('RuntimeError', 'a leaf Variable that requires grad is being used in an in-place operation.', op);
  }
}

// ---------------------------------------------------------------------------------------------
// Binary ops
// ---------------------------------------------------------------------------------------------

const INT_BITS: Record<string, number> = { uint8: 8, int8: 8, int16: 16, int32: 32, int64: 64 };

/** A Python int divisor that is 0 once converted (wrapped) to the integer dtype t. */
function zeroDivisor(d: unknown, t: DType): boolean {
  if (t.category !== 'int') return false;
  const bits = INT_BITS[t.name];
  if (bits === undefined) return false;
  let v: bigint;
  if (typeof d === 'boolean') v = d ? 1n : 0n;
  else if (typeof d === 'bigint') v = d;
  else if (typeof d === 'number' && isPyInt(d)) v = BigInt(d);
  else return false;
  return BigInt.asUintN(bits, v) === 0n;
}

/** CPU kernels refuse an integer division by zero; CUDA's return garbage. */
function zeroDivision(device: string, op: string): void {
  if (device === 'cpu') throw torchError('RuntimeError', 'ZeroDivisionError', op);
  if (!device.startsWith('cuda')) throw UNKNOWN;
}

const NO_DIMS: readonly number[] = [];

/**
 * Broadcast shape, common dtype and device of (input, other|exponent): the hot path (tensor
 * inputs' metadata is read once, through _m: dispatch has checked it is there).
 */
function binary(a: Bound, op: string): Staged {
  const x = a.input;
  const y = a.other ?? a.exponent;
  let shape: readonly number[];
  let dtype: DType | undefined;
  let device: string;
  if (isTensor(x)) {
    const xm = x._m!;
    if (isTensor(y)) {
      const ym = y._m!;
      shape = xm.shape === ym.shape ? xm.shape : broadcastShapes(xm.shape, ym.shape, op);
      dtype = xm.dtype === ym.dtype ? xm.dtype : resultTypeOf({ dtype: xm.dtype, ndim: xm.shape.length }, { dtype: ym.dtype, ndim: ym.shape.length });
      device = xm.device === ym.device ? xm.device : commonDevice([x, y], op);
    } else {
      shape = xm.shape;
      const c = xm.dtype.category;
      dtype =
        typeof y === 'number' && (c === 'float' || c === 'complex' || (c === 'int' && isPyInt(y)))
          ? xm.dtype
          : resultTypeOf({ dtype: xm.dtype, ndim: xm.shape.length }, y as Scalar);
      device = xm.device;
    }
  } else if (isTensor(y)) {
    const ym = y._m!;
    shape = ym.shape;
    dtype = resultTypeOf(x as Scalar, { dtype: ym.dtype, ndim: ym.shape.length });
    device = ym.device;
  } else {
    shape = NO_DIMS;
    dtype = resultTypeOf(x as Scalar, y as Scalar);
    device = 'cpu';
  }
  // the kernel runs in the common dtype: only that one needs to be one the mirror models
  if (dtype === undefined || EXOTIC.has(dtype)) throw UNKNOWN;
  return { shape, dtype, device };
}

/** ATen's alpha_check for add/sub, then the checked conversion of alpha. */
function checkAlpha(alpha: unknown, t: DType, device: string, op: string): void {
  if (typeof alpha === 'boolean' && t.category !== 'bool') {
    throw torchError('RuntimeError', 'Boolean alpha only supported for Boolean results.', op);
  }
  const integral = typeof alpha === 'boolean' || typeof alpha === 'bigint' || (typeof alpha === 'number' && isPyInt(alpha));
  if ((t.category === 'int' || t.category === 'bool') && !integral) {
    throw torchError('RuntimeError', 'For integral input tensors, argument alpha must not be a floating point number.', op);
  }
  if (typeof alpha === 'object' && t.category !== 'complex') {
    throw torchError('RuntimeError', 'For non-complex input tensors, argument alpha must not be a complex number.', op);
  }
  checkScalar(alpha, t, op, device);
}

const isBool = (v: unknown) => (isTensor(v) ? v.dtype.category === 'bool' : typeof v === 'boolean');

staged(
  ['add'],
  (a, op) => {
    const s = binary(a, op);
    const alpha = a.alpha;
    if (alpha !== undefined && alpha !== null) s.post = () => checkAlpha(alpha, s.dtype, s.device, op);
    return s;
  },
  { inplace: true },
);

staged(
  ['sub', 'subtract'],
  (a, op) => {
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
    const s = binary(a, op);
    const alpha = a.alpha;
    if (alpha !== undefined && alpha !== null) s.post = () => checkAlpha(alpha, s.dtype, s.device, op);
    return s;
  },
  { inplace: true },
);

staged(['mul', 'multiply'], binary, { inplace: true });

staged(
  ['div', 'divide', 'true_divide'],
  (a, op) => {
    const mode = a.rounding_mode;
    if (mode !== undefined && mode !== null && mode !== 'trunc' && mode !== 'floor') {
      throw torchError('RuntimeError', `div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '${String(mode)}'`, op);
    }
    const s = binary(a, op);
    if (mode === undefined || mode === null) s.dtype = toFloat(s.dtype);
    else if (s.dtype.category === 'bool' || s.dtype.category === 'complex') {
      const t = s.dtype;
      s.post = () => notImplemented(`div_${String(mode)}_cpu`, t, s.device, op);
    } else if (zeroDivisor(a.other, s.dtype) && numel(s.shape) > 0) s.post = () => zeroDivision(s.device, op);
    return s;
  },
  { inplace: true, mayFail: true }, // integer division by zero
);

staged(
  ['pow'],
  (a, op) => {
    const base = a.input;
    const e = a.exponent;
    if (!isTensor(e)) {
      // Tensor ** Scalar: NumPy's rule first
      const b = base as Tensor;
      const negativeInt = (typeof e === 'number' && isPyInt(e) && e < 0) || (typeof e === 'bigint' && e < 0n);
      if ((b.dtype.category === 'int' || b.dtype.category === 'bool') && negativeInt) {
        throw torchError('RuntimeError', 'Integers to negative integer powers are not allowed.', op);
      }
    }
    const s = binary(a, op);
    const t = s.dtype;
    if (isTensor(e)) {
      if (t === bool) s.post = () => notImplemented('pow', t, s.device, op);
    } else if (t.category === 'int' || t === float16 || t === bfloat16) {
      s.post = () => checkScalar(e, t, op, s.device);
    } else if (s.device !== 'cpu') uncheckedOnCpu(e, t, s.device);
    return s;
  },
  { inplace: true },
);

staged(['float_power'], (a, op) => {
  const s = binary(a, op);
  s.dtype = s.dtype.category === 'complex' ? complex128 : float64;
  return s;
});
// float_power_: self must already be double (or complex double), checked before anything else
const floatPowerInPlace = inPlace((a, op) => {
  const s = binary(a, op);
  s.dtype = s.dtype.category === 'complex' ? complex128 : float64;
  return s;
});
rule(
  'float_power_',
  guard((a, op) => {
    const self = a.input as Tensor;
    const e = a.exponent;
    if (EXOTIC.has(self.dtype) || (isTensor(e) && EXOTIC.has(e.dtype))) unknown();
    const complex = self.dtype.category === 'complex' || (isTensor(e) ? e.dtype.category === 'complex' : typeof e === 'object');
    const want = complex ? complex128 : float64;
    if (self.dtype !== want) {
      throw torchError(
        'RuntimeError',
        `the base given to float_power_ has dtype ${self.dtype.scalarTypeName} but the operation's result requires dtype ${want.scalarTypeName}`,
        op,
      );
    }
    return floatPowerInPlace(a, op);
  }),
);

type Accepts = (t: DType) => boolean;
const notBoolOrComplex: Accepts = (t) => t.category === 'int' || t.category === 'float';
const notComplex: Accepts = (t) => t.category !== 'complex';
const floating: Accepts = (t) => t.category === 'float';
const integral: Accepts = (t) => t.category === 'int' || t.category === 'bool';
const intOnly: Accepts = (t) => t.category === 'int';
const floatOrComplex: Accepts = (t) => t.category === 'float' || t.category === 'complex';

/**
 * A binary op whose kernel runs in the common dtype: `accepts` says which common dtypes the
 * CPU kernel implements, `out` maps the common dtype to the result's.
 */
function binaryOp(
  names: readonly string[],
  kernel: string,
  accepts: Accepts | undefined,
  out?: (t: DType) => DType,
  opts: { mayFail?: boolean; grad?: 'none' | 'any dtype'; divides?: boolean } = {},
): void {
  staged(
    names,
    (a, op) => {
      const s = binary(a, op);
      const t = s.dtype;
      if (accepts !== undefined && !accepts(t)) s.post = () => notImplemented(kernel, t, s.device, op);
      else if (opts.divides && zeroDivisor(a.other, t) && numel(s.shape) > 0) s.post = () => zeroDivision(s.device, op);
      if (out !== undefined) s.dtype = out(t);
      if (opts.grad === 'none') s.differentiable = false;
      else if (opts.grad === 'any dtype') s.gradAnyDtype = true;
      return s;
    },
    // ops without a derivative skip autograd's in-place checks
    { inplace: true, mayFail: opts.mayFail, leafCheck: opts.grad !== 'none' },
  );
}

const toBool = (): DType => bool;
const divides = { mayFail: true, divides: true }; // integer division by zero fails (tensor divisors: in the runtime)
const logical = { grad: 'none' } as const;
const comparison = { grad: 'any dtype' } as const;

binaryOp(['floor_divide'], 'div_floor_cpu', notBoolOrComplex, undefined, divides);
binaryOp(['remainder'], 'remainder_cpu', notBoolOrComplex, undefined, divides);
binaryOp(['fmod'], 'fmod_cpu', notBoolOrComplex, undefined, divides);
binaryOp(['atan2', 'arctan2'], 'atan2_cpu', notComplex, toFloat);
binaryOp(['copysign'], 'copysign_cpu', notComplex, toFloat);
binaryOp(['xlogy', 'special.xlogy'], 'xlogy_cpu', notComplex, toFloat);
binaryOp(['hypot'], 'hypot_cpu', floating);
binaryOp(['nextafter'], 'nextafter_cpu', floating);
binaryOp(['logaddexp'], 'logaddexp_cpu', floatOrComplex);
binaryOp(['logaddexp2'], 'logaddexp2_cpu', floating);
binaryOp(['bitwise_and'], 'bitwise_and_cpu', integral);
binaryOp(['bitwise_or'], 'bitwise_or_cpu', integral);
binaryOp(['bitwise_xor'], 'bitwise_xor_cpu', integral);
binaryOp(['bitwise_left_shift'], 'lshift_cpu', intOnly);
binaryOp(['bitwise_right_shift'], 'rshift_cpu', intOnly);
binaryOp(['gcd'], 'gcd_cpu', intOnly);
binaryOp(['lcm'], 'lcm_cpu', intOnly);
binaryOp(['logical_and'], '', undefined, toBool, logical);
binaryOp(['logical_or'], '', undefined, toBool, logical);
binaryOp(['logical_xor'], '', undefined, toBool, logical);
binaryOp(['eq'], '', undefined, toBool, comparison);
binaryOp(['ne', 'not_equal'], '', undefined, toBool, comparison);
binaryOp(['lt', 'less'], 'lt_cpu', notComplex, toBool, comparison);
binaryOp(['le', 'less_equal'], 'le_cpu', notComplex, toBool, comparison);
binaryOp(['gt', 'greater'], 'gt_cpu', notComplex, toBool, comparison);
binaryOp(['ge', 'greater_equal'], 'ge_cpu', notComplex, toBool, comparison);

// maximum & co. refuse complex inputs before broadcasting
for (const name of ['maximum', 'minimum', 'fmax', 'fmin']) {
  staged([name], (a, op) => {
    const x = a.input as Tensor;
    const y = a.other as Tensor;
    if (x.dtype.category === 'complex' || y.dtype.category === 'complex') {
      if (EXOTIC.has(x.dtype) || EXOTIC.has(y.dtype)) unknown();
      throw torchError('RuntimeError', `${name} not implemented for complex tensors.`, op);
    }
    return binary(a, op);
  });
}

staged(
  ['heaviside'],
  (a, op) => {
    const x = a.input as Tensor;
    const y = a.values as Tensor;
    if (EXOTIC.has(x.dtype) || EXOTIC.has(y.dtype)) unknown();
    if (x.dtype.category === 'complex' || y.dtype.category === 'complex') {
      throw torchError('RuntimeError', 'heaviside is not yet implemented for complex tensors.', op);
    }
    if (x.dtype !== y.dtype) {
      throw torchError('RuntimeError', 'heaviside is not yet implemented for tensors with different dtypes.', op);
    }
    return binary({ input: x, other: y }, op);
  },
  { inplace: true },
);

// ---------------------------------------------------------------------------------------------
// Unary ops
// ---------------------------------------------------------------------------------------------

/**
 * A unary op: `out` makes the op's own checks and gives the result dtype (or a whole spec,
 * for ops returning their input); `kernel` is the kernel's dtype check.
 */
function unaryRule(
  out: (x: Tensor, a: Bound, op: string) => DType | OutSpec,
  kernel?: (x: Tensor, a: Bound, op: string) => void,
): StagedRule {
  return (a, op) => {
    const x = a.input as Tensor;
    if (EXOTIC.has(x.dtype)) unknown();
    const r = out(x, a, op);
    const s: Staged = 'shape' in r ? r : { shape: x.shape, dtype: r, device: x.device };
    if (kernel !== undefined) s.post = () => kernel(x, a, op);
    return s;
  };
}
function unary(
  names: readonly string[],
  out: (x: Tensor, a: Bound, op: string) => DType | OutSpec,
  kernel?: (x: Tensor, a: Bound, op: string) => void,
  opts: { inplace?: boolean } = { inplace: true },
): void {
  staged(names, unaryRule(out, kernel), opts);
}
const outOfPlaceOnly = { inplace: false };

/** The op returns its input itself. */
const itself = (x: Tensor): OutSpec => ({ shape: x.shape, dtype: x.dtype, device: x.device, alias: x });

/**
 * real, imag and conj of a complex tensor: views that, made in no_grad mode from a tensor that
 * requires grad, are leaves that require grad (other view ops' results do not).
 */
function complexView(x: Tensor, t: DType, part = true): OutSpec {
  // a real or imaginary part takes every other float of x (stride 2): not contiguous; conj keeps x's strides
  const spec: OutSpec = { shape: x.shape, dtype: t, device: x.device };
  if (part) spec.contiguous = false;
  if (!is_grad_enabled() && x.requires_grad) spec.requires_grad = true;
  return spec;
}

// int/bool compute in the default float dtype; float and complex keep theirs
unary(
  [
    'sqrt', 'rsqrt', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh', 'asinh', 'acosh', 'atanh',
    'arcsin', 'arccos', 'arctan', 'arcsinh', 'arccosh', 'arctanh', 'exp', 'exp2', 'expm1', 'log', 'log2', 'log10',
    'log1p', 'sigmoid', 'reciprocal', 'sinc',
  ],
  (x) => toFloat(x.dtype),
);
unary(['special.expit', 'special.exp2', 'special.expm1', 'special.log1p', 'special.sinc'], (x) => toFloat(x.dtype), undefined, outOfPlaceOnly);

// the same, with real kernels only
const REAL_FLOAT_KERNELS: Record<string, string> = {
  erf: 'erf_vml_cpu',
  erfc: 'erfc_vml_cpu',
  erfinv: 'erfinv_vml_cpu',
  lgamma: 'lgamma_vml_cpu',
  digamma: 'digamma',
  i0: 'i0_vml_cpu',
  logit: 'logit_cpu',
  'special.erf': 'erf_vml_cpu',
  'special.erfc': 'erfc_vml_cpu',
  'special.erfinv': 'erfinv_vml_cpu',
  'special.gammaln': 'lgamma_vml_cpu',
  'special.digamma': 'digamma',
  'special.psi': 'digamma',
  'special.i0': 'i0_vml_cpu',
  'special.logit': 'logit_cpu',
  'special.ndtr': 'erf_vml_cpu',
  'special.i0e': 'i0e_cpu',
  'special.i1': 'i1_cpu',
  'special.i1e': 'i1e_cpu',
  'special.entr': 'entr_cpu',
};
for (const [name, kernel] of Object.entries(REAL_FLOAT_KERNELS)) {
  unary(
    [name],
    (x) => toFloat(x.dtype),
    (x, _a, op) => {
      if (x.dtype.category === 'complex') notImplemented(kernel, x.dtype, x.device, op);
    },
    { inplace: !name.startsWith('special.') },
  );
}
for (const name of ['deg2rad', 'rad2deg']) {
  unary([name], (x, _a, op) => {
    if (x.dtype.category === 'complex') throw torchError('RuntimeError', `${name} is not supported for complex tensors.`, op);
    return toFloat(x.dtype);
  });
}

const boolKernel =
  (kernel: string) =>
  (x: Tensor, _a: Bound, op: string): void => {
    if (x.dtype === bool) notImplemented(kernel, bool, x.device, op);
  };

unary(['abs', 'absolute'], (x) => realOf(x.dtype), boolKernel('abs_cpu'), outOfPlaceOnly);
// abs_: no complex self (the result would be real)
const absInPlace = inPlace(
  unaryRule((x, _a, op) => {
    if (x.dtype.category === 'complex') throw torchError('RuntimeError', 'In-place abs is not supported for complex tensors.', op);
    return x.dtype;
  }, boolKernel('abs_cpu')),
);
rule('abs_', absInPlace);
rule('absolute_', absInPlace);

unary(['neg', 'negative'], (x, _a, op) => {
  if (x.dtype === bool) {
    throw torchError(
      'RuntimeError',
      'Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.',
      op,
    );
  }
  return x.dtype;
});

unary(
  ['positive'],
  (x, _a, op) => {
    if (x.dtype === bool) throw torchError('RuntimeError', 'The `+` operator, on a bool tensor is not supported.', op);
    return itself(x);
  },
  undefined,
  outOfPlaceOnly,
);

unary(['sign'], (x, _a, op) => {
  if (x.dtype.category === 'complex') {
    throw torchError('NotImplementedError', 'Unlike NumPy, torch.sign is not intended to support complex numbers. Please use torch.sgn instead.', op);
  }
  return x.dtype;
});
unary(['sgn'], (x) => x.dtype);

for (const [name, kernel] of [
  ['floor', 'floor'],
  ['ceil', 'ceil'],
  ['trunc', 'trunc'],
  ['fix', 'trunc'],
] as const) {
  unary(
    [name],
    (x, _a, op) => {
      if (x.dtype.category === 'complex') throw torchError('NotImplementedError', `${kernel} is not supported for complex inputs`, op);
      return x.dtype;
    },
    boolKernel(`${kernel}_vml_cpu`),
  );
}

function roundKernel(x: Tensor, decimals: unknown, op: string): void {
  if (x.dtype.category === 'float') return;
  if (decimals === undefined || decimals === 0) {
    if (x.dtype.category !== 'int' || decimals === 0) notImplemented('round_vml_cpu', x.dtype, x.device, op);
  } else notImplemented('round_cpu', x.dtype, x.device, op);
}
unary(['round'], (x) => x.dtype, (x, a, op) => roundKernel(x, a.decimals, op));
unary(['special.round'], (x) => x.dtype, (x, a, op) => roundKernel(x, a.decimals ?? 0, op), outOfPlaceOnly);

unary(['frac'], (x) => x.dtype, (x, _a, op) => {
  if (x.dtype.category !== 'float') notImplemented('frac_cpu', x.dtype, x.device, op);
});
unary(['square'], (x) => (x.dtype === bool ? int64 : x.dtype));
unary(['bitwise_not'], (x) => x.dtype, (x, _a, op) => {
  if (!integral(x.dtype)) notImplemented('bitwise_not_cpu', x.dtype, x.device, op);
});

// to bool
staged(
  ['logical_not'],
  (a) => {
    const x = a.input as Tensor;
    if (EXOTIC.has(x.dtype)) unknown();
    return { shape: x.shape, dtype: bool, device: x.device, differentiable: false };
  },
  { inplace: true, leafCheck: false },
);
unary(['isnan', 'isinf', 'isfinite', 'isreal'], () => bool, undefined, outOfPlaceOnly);
for (const name of ['isposinf', 'isneginf']) {
  unary(
    [name],
    (x, _a, op) => {
      if (x.dtype.category === 'complex') throw torchError('RuntimeError', `${name} does not support complex inputs.`, op);
      return bool;
    },
    undefined,
    outOfPlaceOnly,
  );
}
unary(
  ['signbit'],
  (x, _a, op) => {
    if (x.dtype.category === 'complex') throw torchError('NotImplementedError', 'signbit is not implemented for complex tensors.', op);
    return bool;
  },
  undefined,
  outOfPlaceOnly,
);

// complex parts
unary(['real'], (x) => (x.dtype.category === 'complex' ? complexView(x, realOf(x.dtype)) : itself(x)), undefined, outOfPlaceOnly);
unary(
  ['imag'],
  (x, _a, op) => {
    if (x.dtype.category !== 'complex') throw torchError('RuntimeError', 'imag is not implemented for tensors with non-complex dtypes.', op);
    return complexView(x, realOf(x.dtype));
  },
  undefined,
  outOfPlaceOnly,
);
unary(
  ['angle'],
  (x) => realOf(toFloat(x.dtype)),
  (x) => {
    if (x.device !== 'cpu' && (x.dtype === float16 || x.dtype === bfloat16)) unknown(); // no CUDA kernel
  },
  outOfPlaceOnly,
);
unary(['conj'], (x) => (x.dtype.category === 'complex' ? complexView(x, x.dtype, false) : itself(x)), undefined, outOfPlaceOnly);
unary(['conj_physical'], (x) => (x.dtype.category === 'complex' ? x.dtype : itself(x)), undefined, outOfPlaceOnly);
rule('conj_physical_', inPlace((a) => {
  const { shape, dtype, device } = (a.input as Tensor)._meta;
  return { shape, dtype, device };
}));
// resolve_conj/resolve_neg copy only when a conj/neg bit is set, which the mirror does not track
unary(['resolve_conj', 'resolve_neg'], (x) => (x.dtype.category === 'complex' ? unknown() : itself(x)), undefined, outOfPlaceOnly);

unary(
  ['nan_to_num'],
  (x, _a, op) => {
    if (x.dtype.category === 'complex' && x.requires_grad && is_grad_enabled()) {
      throw torchError('RuntimeError', 'nan_to_num does not support automatic differentiation for outputs with complex dtype.', op);
    }
    return x.dtype;
  },
  undefined,
  outOfPlaceOnly,
);
rule('nan_to_num_', inPlace(unaryRule((x) => x.dtype))); // no complex check in place
