/**
 * Python's builtins on proxied objects, under their Python names:
 *
 *   await torch.py.len(batch)                  // len(batch)
 *   await torch.py.contains(cfg.tags, 'x')      // 'x' in cfg.tags
 *   await torch.py.str(cfg), torch.py.repr(cfg) // str(cfg), repr(cfg)
 *   await torch.py.isinstance(obj, mod.Config)  // isinstance(obj, mod.Config)
 *   torch.py.type(obj)                          // type(obj), as a proxy: await torch.py.type(obj).__name__
 *   torch.py.item(d, 'k'), setitem, delitem     // d['k'], d['k'] = v, del d['k']
 *
 * Reads (len, contains, str, repr, isinstance) are sync points; item and type give proxies and
 * setitem/delitem are queued, like every other proxy operation.
 */
import { ArgumentError } from '../errors.js';
import { HELPER } from '../transport/protocol.js';
import { PyObject, pyCall, pyRun } from './object.js';
import { proxyFor, type PyProxy } from './proxy.js';
import { proxyTarget, toPython } from './to_python.js';
import { treeValue } from './tree.js';

/** The handle behind a torch.py proxy or a PyObject; an ArgumentError naming `what` otherwise. */
export function objectOf(x: unknown, what: string): PyObject {
  if (x instanceof PyObject) {
    x._check();
    return x;
  }
  const target = (typeof x === 'function' || typeof x === 'object') && x !== null ? proxyTarget.get(x) : undefined;
  if (target === undefined) throw new ArgumentError(`${what} takes a Python object (a torch.py proxy), got ${describe(x)}`);
  return target();
}

function describe(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (typeof x === 'object') return `a JS ${(x as object).constructor?.name ?? 'object'}`;
  return `the JS ${typeof x} ${String(x)}`;
}

/** Queue helper(obj, ...args) with args converted as call arguments; the result as a proxy. */
function expression(helper: string, obj: PyObject, args: unknown[], origin: string, eager = true): PyObject {
  const converted = toPython(args, origin);
  const out = pyCall(helper, [obj, ...(converted.value as unknown[])], undefined, origin, eager);
  for (const t of converted.temporaries) t.dispose(); // freed after the call, in queue order
  return out;
}

/** helper(obj, ...args) as a JS value: one message each way. */
async function valueOf<T>(helper: string, obj: PyObject, args: unknown[], origin: string): Promise<T> {
  const out = expression(helper, obj, args, origin, false);
  try {
    return (await treeValue(out, (o) => proxyFor(o, true))) as T;
  } finally {
    out.dispose();
  }
}

/** Python's len(obj). */
export function len(obj: unknown): Promise<number> {
  try {
    const o = objectOf(obj, 'torch.py.len()');
    return valueOf<number>(HELPER.len, o, [], `len(${o.origin})`);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Python's `item in obj`. */
export function contains(obj: unknown, item: unknown): Promise<boolean> {
  try {
    const o = objectOf(obj, 'torch.py.contains()');
    return valueOf<boolean>(HELPER.contains, o, [item], `(... in ${o.origin})`);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Python's str(obj). */
export function str(obj: unknown): Promise<string> {
  try {
    return objectOf(obj, 'torch.py.str()').str();
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Python's repr(obj). */
export function repr(obj: unknown): Promise<string> {
  try {
    const o = objectOf(obj, 'torch.py.repr()');
    return valueOf<string>(HELPER.repr, o, [], `repr(${o.origin})`);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Python's isinstance(obj, cls): cls a proxied class, or a tuple of them (torch.py.tuple / Tuple). */
export function isinstance(obj: unknown, cls: unknown): Promise<boolean> {
  try {
    const o = objectOf(obj, 'torch.py.isinstance()');
    return valueOf<boolean>(HELPER.isinstance, o, [cls], `isinstance(${o.origin}, ...)`);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Python's type(obj), as a proxy of the class. */
export function type(obj: unknown): PyProxy {
  const o = objectOf(obj, 'torch.py.type()');
  return proxyFor(expression(HELPER.type, o, [], `type(${o.origin})`));
}

/** obj[key], as a proxy (the same as proxy.$item(key)). */
export function item(obj: unknown, key: unknown): PyProxy {
  const o = objectOf(obj, 'torch.py.item()');
  return proxyFor(expression(HELPER.getitem, o, [key], `${o.origin}[...]`));
}

/** obj[key] = value (queued). */
export function setitem(obj: unknown, key: unknown, value: unknown): void {
  const o = objectOf(obj, 'torch.py.setitem()');
  const c = toPython([key, value], `${o.origin}[key] =`);
  pyRun(HELPER.setitem, [o, ...(c.value as unknown[])]);
  for (const t of c.temporaries) t.dispose();
}

/** del obj[key] (queued). */
export function delitem(obj: unknown, key: unknown): void {
  const o = objectOf(obj, 'torch.py.delitem()');
  const c = toPython([key], `del ${o.origin}[key]`);
  pyRun(HELPER.delitem, [o, ...(c.value as unknown[])]);
  for (const t of c.temporaries) t.dispose();
}
