/** Small helpers layers share: Python's tuple arguments (_single, _pair) and their repr. */

/** Python's _ntuple: a number repeated n times, or the list as given. */
export function ntuple(v: number | readonly number[], n: number): number[] {
  return typeof v === 'number' ? new Array<number>(n).fill(v) : [...v];
}

/** Python's repr of a tuple: (3, 3), or (3,) for one element. */
export function tupleRepr(v: number | readonly number[]): string {
  if (typeof v === 'number') return String(v);
  return v.length === 1 ? `(${v[0]},)` : `(${v.join(', ')})`;
}

/** Python's repr of a float argument: 0.5, 1e-05, 1.0 (a JS integer prints with '.0'). */
export function floatRepr(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
  const a = Math.abs(v);
  // Python switches to exponent notation below 1e-4 and from 1e16
  if (a !== 0 && (a < 1e-4 || a >= 1e16)) {
    return v.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  }
  return Number.isInteger(v) ? `${v}.0` : String(v);
}

/** Python's repr of a bool. */
export function boolRepr(v: boolean): string {
  return v ? 'True' : 'False';
}
