/**
 * torch.py proxies: Python objects used with Python's syntax from TS.
 *
 *   const np = torch.py.import('numpy');
 *   const a = np.linspace(0, 1, 5, { dtype: 'float32' });   // queued, no round trip
 *   const t = await a;                                       // Tensor (from_numpy: shared memory)
 *
 * Attribute access and calls queue work and return more proxies at once; `await proxy` is the
 * one sync point and gives Python's value as JS (see treeValue): numbers, strings, lists,
 * tuples, dicts by value, tensors and NumPy arrays as Tensor, any other object as a *settled*
 * proxy. A settled proxy is not thenable (awaiting it gives itself), which is what lets an
 * await end; its attributes and calls are ordinary proxies again.
 *
 * Attributes resolve lazily: `np.random.randn(3)` queues getattr for `np.random` and one call
 * of its `randn`, and a proxy never used queues nothing. An attribute is read when its proxy is
 * first used (called, awaited, passed), in order with everything queued before.
 *
 * Names: Python identifiers never contain '$', so the proxy's own members are `$`-prefixed
 * ($value, $str, $item, $setitem, $delitem, $attr, $setattr, $dispose, $object), plus `then` on unsettled
 * proxies and JS's symbols (Symbol.dispose for `using`). A Python attribute the proxy keeps for
 * JS (then, toString, valueOf, toJSON, constructor) is reachable with $attr(name).
 *
 * Lifetime: each queued call or read attribute holds a runtime handle, freed by $dispose(),
 * `using`, the end of a torch.tidy scope, or GC. tidy cannot see through a returned proxy: to
 * keep one made inside a scope, torch.keep(proxy.$object).
 *
 * Arguments: JS values convert as toPython says (a trailing plain object is the keyword
 * arguments, so pass a dict positionally as a Map); Tensors and proxies travel by handle.
 */
import { inspect } from 'node:util';
import { ArgumentError } from '../errors.js';
import { isKwargs } from '../ops/signature.js';
import { PyObject, pyCall, pyRun } from './object.js';
import { treeValue } from './tree.js';
import { proxyTarget, toPython } from './to_python.js';
import { inherit, pythonCalled } from './touched.js';
import { HELPER } from '../transport/protocol.js';

/** A Python object (or a queued expression) seen from TS; see the file comment. */
export type PyProxy = PyProxyMembers & {
  /**
   * A Python attribute: another PyProxy (nothing is queued until it is used); `proxy.name = v`
   * sets it. Typed `any` because an index signature's type would read as `PyProxy | undefined`
   * under noUncheckedIndexedAccess, forcing a `!` on every attribute.
   */
  [attribute: string]: any;
} & {
  /** Call it: Python positional arguments, then an optional plain object of keyword arguments. */
  (...args: unknown[]): PyProxy;
};

export interface PyProxyMembers {
  /** Python's value as JS (the same as `await proxy`). A sync point. */
  $value(): Promise<unknown>;
  /** Python's str(obj). A sync point. */
  $str(): Promise<string>;
  /** obj[key], as a proxy (dicts, lists, arrays, DataFrames...). */
  $item(key: unknown): PyProxy;
  /** obj[key] = value (queued). */
  $setitem(key: unknown, value: unknown): void;
  /** del obj[key] (queued). */
  $delitem(key: unknown): void;
  /** obj.name for any name, JS's reserved ones included. */
  $attr(name: string): PyProxy;
  /** obj.name = value (queued; `proxy.name = value` does the same). */
  $setattr(name: string, value: unknown): void;
  /** Free the runtime's reference now (Python frees the object when nothing else holds it). */
  $dispose(): void;
  /** The handle behind the proxy, for APIs that take a PyObject (torch.keep, pyCall). */
  readonly $object: PyObject;
  [Symbol.dispose](): void;
  /** `for await (const x of proxy)`: Python's iteration, in batches (see iteration.ts). */
  [Symbol.asyncIterator](): AsyncIterator<unknown>;
  /** `await proxy` gives Python's value as JS (settled proxies have no then: they await to themselves). */
  then<T = unknown, E = never>(onfulfilled?: ((value: unknown) => T | PromiseLike<T>) | null, onrejected?: ((reason: unknown) => E | PromiseLike<E>) | null): Promise<T | E>;
}

interface State {
  /** the handle, once the expression was queued */
  obj: PyObject | null;
  /** how to queue it (an attribute of a parent), until then */
  parent: State | null;
  name: string;
  /** Python source-like text for messages: numpy.random.randn(...) */
  origin: string;
  settled: boolean;
}

/** Members other files give every proxy under a JS symbol (Symbol.asyncIterator: iteration.ts). */
export const symbolHooks = new Map<symbol, (proxy: PyProxy) => unknown>();

/** torch.py.import(name): the module, as a proxy. */
export function pyImport(name: string): PyProxy {
  if (typeof name !== 'string' || name === '') throw new ArgumentError(`torch.py.import() takes a module name such as 'numpy', got ${String(name)}`);
  return proxyOf({ obj: pyCall(HELPER.import, [name], undefined, name), parent: null, name, origin: name, settled: false });
}

/** A proxy for a handle the caller already holds (e.g. a PyObject from pyCall). */
export function proxyFor(obj: PyObject, settled = false): PyProxy {
  return proxyOf({ obj, parent: null, name: '', origin: obj.origin, settled });
}

function materialize(st: State): PyObject {
  if (st.obj === null) {
    const parent = materialize(st.parent!);
    st.obj = pyCall(HELPER.getattr, [parent, st.name], undefined, st.origin);
    inherit(st.obj, parent);
    st.parent = null;
  }
  st.obj._check();
  return st.obj;
}

/** Arguments as Python sees them: a trailing plain object is the keyword arguments. */
function callArgs(args: unknown[], origin: string): { pos: unknown[]; kw: Record<string, unknown> | undefined; temporaries: { dispose(): void }[] } {
  const last = args[args.length - 1];
  const hasKw = args.length > 0 && isKwargs(last);
  const pos = toPython(hasKw ? args.slice(0, -1) : args, `${origin} argument`);
  let kw: Record<string, unknown> | undefined;
  const temporaries = pos.temporaries;
  if (hasKw) {
    kw = {};
    for (const [k, v] of Object.entries(last as Record<string, unknown>)) {
      const c = toPython(v, `${origin} keyword argument ${k}`);
      kw[k] = c.value;
      temporaries.push(...c.temporaries);
    }
  }
  return { pos: pos.value as unknown[], kw, temporaries };
}

function call(st: State, args: unknown[]): PyProxy {
  const origin = `${st.origin}(...)`;
  const { pos, kw, temporaries } = callArgs(args, st.origin);
  // obj.name(...) is one op: the attribute itself need not be held. Not sent at once even to an
  // idle runtime: `await obj.name(...)` reads it in this turn, and call and read go as one message.
  const callee = st.obj === null ? materialize(st.parent!) : materialize(st);
  const out = st.obj === null ? pyCall(HELPER.method, [callee, st.name, ...pos], kw, origin, false) : pyCall(HELPER.call, [callee, ...pos], kw, origin, false);
  pythonCalled(callee, pos, kw, out); // what Python may have changed is re-read (touched.ts)
  for (const t of temporaries) t.dispose(); // freed after the call, in queue order
  return proxyOf({ obj: out, parent: null, name: '', origin, settled: false });
}

function attribute(st: State, name: string): PyProxy {
  return proxyOf({ obj: null, parent: st, name, origin: `${st.origin}.${name}`, settled: false });
}

function value(st: State): Promise<unknown> {
  try {
    return treeValue(materialize(st), (o) => proxyFor(o, true));
  } catch (err) {
    return Promise.reject(err);
  }
}

function setValue(st: State, helper: typeof HELPER.setattr | typeof HELPER.setitem, key: unknown, v: unknown, what: string): void {
  const k = toPython(key, `${st.origin} ${what}`);
  const c = toPython(v, `${st.origin} ${what} value`);
  const target = materialize(st);
  pyRun(helper, [target, k.value, c.value]);
  pythonCalled(target, [k.value, c.value], undefined, null);
  for (const t of [...k.temporaries, ...c.temporaries]) t.dispose();
}

/** JS asks these of any object (printing, JSON, test matchers): never Python attributes. */
const JS_PROTOCOL = new Set(['constructor', 'toJSON', 'valueOf', 'asymmetricMatch', 'nodeType']);

function proxyOf(st: State): PyProxy {
  const describe = (): string => `PyProxy(${st.origin})`;
  const dispose = (): void => {
    st.obj?.dispose();
  };
  const members: Record<string, unknown> = {
    $value: () => value(st),
    $str: () => materialize(st).str(),
    $item: (key: unknown) => {
      const k = toPython(key, `${st.origin}[key]`);
      const container = materialize(st);
      const out = pyCall(HELPER.getitem, [container, k.value], undefined, `${st.origin}[...]`);
      inherit(out, container);
      for (const t of k.temporaries) t.dispose();
      return proxyOf({ obj: out, parent: null, name: '', origin: `${st.origin}[...]`, settled: false });
    },
    $setitem: (key: unknown, v: unknown) => setValue(st, HELPER.setitem, key, v, '[key] ='),
    $delitem: (key: unknown) => {
      const k = toPython(key, `del ${st.origin}[key]`);
      pyRun(HELPER.delitem, [materialize(st), k.value]);
      for (const t of k.temporaries) t.dispose();
    },
    $attr: (name: string) => attribute(st, name),
    $setattr: (name: string, v: unknown) => setValue(st, HELPER.setattr, name, v, `.${name} =`),
    $dispose: dispose,
    toString: describe,
  };
  // A function target makes the proxy callable; Node's inspect shows the target, so it carries the label.
  const target = Object.assign(function pyProxy() {}, { [inspect.custom]: describe });
  const proxy = new Proxy(target, {
    get(_t, prop, receiver) {
      if (typeof prop === 'symbol') {
        if (prop === Symbol.dispose) return dispose;
        const hook = symbolHooks.get(prop);
        if (hook) return hook(receiver as PyProxy);
        if (prop === inspect.custom || prop === Symbol.toPrimitive) return describe;
        if (prop === Symbol.toStringTag) return 'PyProxy';
        return undefined;
      }
      if (prop === '$object') return materialize(st);
      if (Object.hasOwn(members, prop)) return members[prop];
      if (prop === 'then') return st.settled ? undefined : (ok: (v: unknown) => unknown, fail: (e: unknown) => unknown) => value(st).then(ok, fail);
      if (prop.startsWith('$') || JS_PROTOCOL.has(prop)) return undefined;
      return attribute(st, prop);
    },
    set(_t, prop, v) {
      if (typeof prop === 'symbol' || prop.startsWith('$')) return false;
      setValue(st, HELPER.setattr, prop, v, `.${prop} =`);
      return true;
    },
    apply(_t, _this, args) {
      return call(st, args);
    },
  }) as unknown as PyProxy;
  proxyTarget.set(proxy, () => materialize(st));
  return proxy;
}
