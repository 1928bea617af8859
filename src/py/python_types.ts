/**
 * JS values whose Python counterparts msgpack has no form for (toPython asks here):
 *   Set -> set (its items must be hashable in Python: no arrays, objects, Maps or Sets)
 *   Date -> datetime.datetime, aware, in UTC (the same instant)
 *   a bigint beyond 64 bits -> int (ext BIGINT; smaller ones go as msgpack ints)
 *   an apache-arrow Table -> pyarrow.Table (arrow.ts)
 * The way back (set -> Set, datetime -> Date, a wide int -> bigint) is the runtime's
 * conversions.py and codec.ts.
 */
import { ArgumentError } from '../errors.js';
import { SetItems, Tuple, WideInt } from '../transport/codec.js';
import { arrowArgument, isArrowTable } from './arrow.js';

export const NOT_SPECIAL = Symbol('not special');

const INT64_MIN = -(1n << 63n);
const UINT64_MAX = (1n << 64n) - 1n;

/** A bigint as the wire carries it: as itself within msgpack's 64-bit ints, else wrapped. */
export function pythonInt(x: bigint): bigint | WideInt {
  return x < INT64_MIN || x > UINT64_MAX ? new WideInt(x) : x;
}

/**
 * Python's value for x if it is a Set, Date or Arrow Table, else NOT_SPECIAL. `walk` converts an
 * item; handles made on the way go into `temporaries`.
 */
export function specialValue(x: object, path: string, walk: (item: unknown, path: string) => unknown, temporaries: { dispose(): void }[]): unknown {
  if (x instanceof Set) {
    const items: unknown[] = [];
    let i = 0;
    for (const item of x) {
      const where = `${path} item ${i++}`;
      const v = walk(item, where);
      unhashable(v, where);
      items.push(v);
    }
    return new SetItems(items);
  }
  if (x instanceof Date) {
    if (Number.isNaN(x.getTime())) throw new ArgumentError(`${path} is an invalid Date, which has no Python datetime`);
    return x;
  }
  if (isArrowTable(x)) {
    const c = arrowArgument(x, path);
    temporaries.push(...c.temporaries);
    return c.value;
  }
  return NOT_SPECIAL;
}

/** Python's set takes hashable items only: say so here rather than fail in the runtime. */
function unhashable(v: unknown, path: string): void {
  if (v instanceof Tuple) {
    v.items.forEach((item, i) => unhashable(item, `${path}[${i}]`));
    return;
  }
  if (Array.isArray(v) || v instanceof Map || v instanceof SetItems) {
    const kind = Array.isArray(v) ? 'an array (a Python list)' : v instanceof Map ? 'an object or Map (a Python dict)' : 'a Set';
    throw new ArgumentError(`${path} is ${kind}, which is unhashable in Python and cannot be in a set`);
  }
}
