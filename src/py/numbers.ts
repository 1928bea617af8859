/**
 * Python floats from JS numbers. JS has one number type: a whole number (2, 2.0, 1e3) reaches
 * Python as an int, anything else as a float. Where the type matters to the callee (a
 * `float` attribute checked with isinstance, `x / 2` vs `x // 2` in Python 2-style code, a
 * dataclass validated by type, a value stored then used as a dict key), wrap it:
 * `torch.py.float(2)` arrives as the Python float 2.0.
 */
import { addExtension } from 'msgpackr';
import { ArgumentError } from '../errors.js';

/** A number that travels as a Python float even when it is whole (see torch.py.float). */
export class PyFloat {
  constructor(readonly value: number) {}

  toString(): string {
    return `torch.py.float(${this.value})`;
  }
}

// Written as msgpack's own float64 (0xcb + 8 bytes, big-endian): Python decodes it as a float,
// so the runtime needs no extension of its own. The extension type is never written; msgpackr
// requires one to register the class, and this one is outside protocol.json's range.
const UNUSED_EXT_TYPE = 0x50;
addExtension({
  Class: PyFloat,
  type: UNUSED_EXT_TYPE,
  pack(f: PyFloat, allocateForWrite: (n: number) => { target: Uint8Array; targetView: DataView; position: number }) {
    const { target, targetView, position } = allocateForWrite(9);
    target[position] = 0xcb;
    targetView.setFloat64(position + 1, f.value);
  },
  unpack() {
    throw new Error('a PyFloat is only sent, never received');
  },
} as never);

/** Python's float(x): `torch.py.float(2)` reaches Python as 2.0 (a plain 2 arrives as int 2). */
export function pyFloat(x: number | string): PyFloat {
  const v = typeof x === 'string' ? parseFloatLikePython(x) : x;
  if (typeof v !== 'number') throw new ArgumentError(`torch.py.float() takes a number or a numeric string, got ${typeof x}`);
  return new PyFloat(v);
}

/** float('inf'), float('nan'), float('1e-3') as Python parses them. */
function parseFloatLikePython(s: string): number {
  const t = s.trim().toLowerCase().replace(/_/g, '');
  if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (t === 'nan' || t === '+nan' || t === '-nan') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(t)) throw new ArgumentError(`torch.py.float(): could not convert string to float: '${s}'`);
  return Number(t);
}
