/** Helpers shared by the torch.nn.functional rule files (nn_functional, nn_conv, nn_loss). */
import type { OutSpec } from './dispatch.js';
import { torchError, type TorchError } from '../errors.js';
import { isPyInt } from '../mirror/promotion.js';
import { complex128, complex32, float16, float32, float64, type DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';

export const isFloat = (t: DType): boolean => t.category === 'float';

/** An output like the input: same shape, dtype, device. */
export function same(x: Tensor): OutSpec {
  return { shape: x.shape, dtype: x.dtype, device: x.device };
}

/** ATen's dispatch-macro error: "kernel" not implemented for 'Long'. */
export function notImplemented(kernel: string, t: DType, op: string): TorchError {
  return torchError('NotImplementedError', `"${kernel}" not implemented for '${t.scalarTypeName}'`, op);
}

/**
 * A number as Python prints it: ints (which the wire sends as Python ints) plainly, floats
 * with repr's shortest digits and exponent rules (1e-05, 1e+16, 0.5, inf, nan).
 */
export function pyFloat(v: number, asFloat = false): string {
  if (!asFloat && isPyInt(v)) return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0.0' : '0.0';
  const [mant, expStr] = v.toExponential().split('e') as [string, string];
  const exp = Number(expStr);
  if (exp < -4 || exp >= 16) {
    const m = mant.includes('.') ? mant : mant;
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const s = String(v);
  if (s.includes('e')) {
    // JS uses exponents from 1e21 and below 1e-6; Python only outside [1e-4, 1e16)
    const digits = mant.replace('-', '').replace('.', '');
    const sign = v < 0 ? '-' : '';
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    return `${sign}${digits.padEnd(exp + 1, '0')}.0`;
  }
  return s.includes('.') ? s : `${s}.0`;
}

/** A C++ double as ATen's error messages print it (std::ostream, 6 significant digits). */
export function cppDouble(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const exp = Math.floor(Math.log10(Math.abs(v)));
  let s: string;
  if (exp < -5 || exp >= 6) {
    s = v.toExponential(5);
    let [m, e] = s.split('e') as [string, string];
    if (m.includes('.')) m = m.replace(/0+$/, '').replace(/\.$/, '');
    const en = Number(e);
    return `${m}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  }
  s = v.toPrecision(6);
  if (s.includes('e')) return String(Number(s));
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return s;
}

/** An int or a tuple argument expanded to n values (torch's _single/_pair/_triple). */
export function expand(v: unknown, n: number, dflt: number): number[] {
  if (v === undefined || v === null) return Array(n).fill(dflt);
  if (typeof v === 'number') return Array(n).fill(v);
  return [...(v as number[])];
}

export const prod = (s: readonly number[]): number => s.reduce((p, v) => p * v, 1);

export const shapeStr = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** The C++ element type names of c10's conversion errors. */
const CPP_SCALAR: Record<string, string> = {
  uint8: 'uint8_t',
  int8: 'int8_t',
  int16: 'int16_t',
  int32: 'int',
  int64: 'int64_t',
  float16: 'at::Half',
  bfloat16: 'at::BFloat16',
  float32: 'float',
  float64: 'double',
};

const LIMITS: Record<string, [number, number]> = {
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  int64: [-(2 ** 63), 2 ** 63 - 1],
  float16: [-65504, 65504],
  bfloat16: [-3.3895313892515355e38, 3.3895313892515355e38],
  float32: [-3.4028234663852886e38, 3.4028234663852886e38],
};

/**
 * c10::checked_convert of a Python scalar to a kernel's element type: "value cannot be
 * converted to type uint8_t without overflow". Python ints may wrap into unsigned types
 * (down to -max), floats may not; infinities fit floating types.
 */
export function checkScalarFits(v: unknown, t: DType, op: string): void {
  if (typeof v !== 'number' || Number.isNaN(v)) return;
  const lim = LIMITS[t.name];
  if (!lim) return;
  let [lo, hi] = lim;
  if (t.category === 'float' && !Number.isFinite(v)) return;
  if (isPyInt(v) && t.category === 'int' && !t.signed) lo = -hi;
  if (v < lo || v > hi) throw torchError('RuntimeError', `value cannot be converted to type ${CPP_SCALAR[t.name]} without overflow`, op);
}

/** The real dtype of a complex one (abs, norms); other dtypes unchanged. */
export function realOf(t: DType): DType {
  if (t.category !== 'complex') return t;
  return t === complex128 ? float64 : t === complex32 ? float16 : float32;
}
