/**
 * Python values with their structure intact: a READ TREE (or the runtime's helper HELPER.tree,
 * which marks a value so) converts it with every container tagged (['list', items], ['tuple', items],
 * ['dict', [[key, value], ...]]), so dict key order and key types survive the trip that a
 * msgpack map into a JS object would lose. torch.py proxies and torch.load read values so.
 */
import { TorchError } from '../errors.js';
import { PyObject } from './object.js';
import { READ } from '../transport/protocol.js';

/**
 * Python's value of `obj` as JS: lists and tuples as arrays; a dict as a plain object when its
 * keys are strings that a JS object keeps in Python's order, else as a Map (int or tuple keys,
 * or integer-like string keys out of ascending order); tensors and NumPy arrays as Tensor;
 * other objects through `wrap`. A sync point.
 */
export async function treeValue(obj: PyObject, wrap: (o: PyObject) => unknown = (o) => o): Promise<unknown> {
  // READ TREE converts as HELPER.tree would, without an op and a handle of its own
  return untag(await obj.value(READ.TREE), wrap);
}

/** A value converted from a Tree (tagged containers) as JS; see treeValue. */
export function untag(v: unknown, wrap: (o: PyObject) => unknown): unknown {
  if (v instanceof PyObject) return wrap(v);
  if (v instanceof Set) return new Set([...v].map((x) => untag(x, wrap))); // a set's items are tagged too
  if (!Array.isArray(v)) return v; // scalars, Tensors, dtypes, bytes, Dates, Arrow Tables
  const [tag, items] = v as [string, unknown[]];
  if (tag === 'list' || tag === 'tuple') return items.map((x) => untag(x, wrap));
  if (tag === 'dict') return dictValue((items as [unknown, unknown][]).map(([k, x]) => [untag(k, wrap), untag(x, wrap)]));
  throw new TorchError({ type: 'TypeError', message: `unexpected tagged value from the runtime: ${String(tag)}` });
}

function dictValue(entries: [unknown, unknown][]): Record<string, unknown> | Map<unknown, unknown> {
  if (!entries.every(([k]) => typeof k === 'string') || !keepsOrder(entries.map(([k]) => k as string))) return new Map(entries);
  const out: Record<string, unknown> = {};
  // defineProperty, not assignment: a key '__proto__' is data, not the prototype
  for (const [k, x] of entries) Object.defineProperty(out, k as string, { value: x, enumerable: true, writable: true, configurable: true });
  return out;
}

/** A JS object enumerates array-index keys first, ascending: does that change this order? */
function keepsOrder(keys: string[]): boolean {
  let lastIndex = -1;
  let sawName = false;
  for (const k of keys) {
    if (isArrayIndex(k)) {
      const n = Number(k);
      if (sawName || n < lastIndex) return false;
      lastIndex = n;
    } else sawName = true;
  }
  return true;
}

function isArrayIndex(k: string): boolean {
  return /^(0|[1-9]\d*)$/.test(k) && Number(k) < 2 ** 32 - 1;
}
