/**
 * Types for torch.py proxies of Python modules that have generated stubs:
 *
 *   npx torchbridge-stubs mypkg.features --out typings/    (python/torchbridge_runtime/stubs.py)
 *
 * Each generated `.d.ts` declares its module's functions, classes and constants as interfaces and
 * adds the module to PyModules by module augmentation, so `torch.py.import('mypkg.features')` is
 * typed without a cast; names without stubs stay the untyped PyProxy.
 *
 * The types say what the proxies do at runtime (proxy.ts): a call or an attribute read is queued
 * and gives a proxy at once, which is a PyResult<T> — awaitable to T (Python's value as JS) and
 * usable as an argument of further calls before it is awaited. T is the awaited value: number,
 * string, boolean, null, arrays, Record/Map, Tensor (torch tensors and NumPy arrays), or, for
 * instances of stubbed classes, the class's interface (a settled proxy: its attributes and
 * methods are typed proxies again). Two known gaps: a Python int beyond 2^53 arrives as a bigint,
 * and a str-keyed dict whose integer-like keys are out of ascending order as a Map.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { PyObject } from './object.js';
import type { PyProxy } from './proxy.js';

/**
 * Python module name → the type of its proxy. Empty here: generated stubs add to it with
 *
 *   declare module 'torchbridge' { interface PyModules { 'mypkg.features': PyModule<Module> } }
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface PyModules {}

/** torch.py.import: typed for the modules in PyModules, an untyped PyProxy for any other name. */
export interface PyImport {
  <N extends keyof PyModules & string>(name: N): PyModules[N];
  (name: string): PyProxy;
}

/**
 * What every settled proxy offers (PyProxyMembers without `then`), typed: generated class and
 * module interfaces extend it. `$value()` gives the proxy itself, as awaiting a settled proxy does.
 */
export interface PyInstance {
  $value(): Promise<this>;
  /** Python's str(obj). A sync point. */
  $str(): Promise<string>;
  /** obj[key], untyped. */
  $item(key: unknown): PyProxy;
  /** obj[key] = value (queued). */
  $setitem(key: unknown, value: unknown): void;
  /** obj.name for any name (untyped): for attributes the stubs do not list. */
  $attr(name: string): PyProxy;
  /** obj.name = value (queued). */
  $setattr(name: string, value: unknown): void;
  /** Free the runtime's reference now. */
  $dispose(): void;
  readonly $object: PyObject;
  [Symbol.dispose](): void;
  /**
   * The Python classes (qualified names) the object is an instance of, for tsc only: it keeps
   * one stubbed class from passing for another. Always undefined at runtime (a proxy answers no
   * `$` name it does not define), as the optional type says.
   */
  readonly $classes?: Record<string, true>;
}

/** The proxy members of a result whose value is plain data (a number, a list, a Tensor). */
export interface PyValueMembers<T> extends Omit<PyInstance, '$value' | '$classes'> {
  /** Python's value as JS (the same as `await proxy`). A sync point. */
  $value(): Promise<T>;
}

/** A queued call or attribute read: awaitable to T, and usable as a call argument before that. */
export type PyResult<T> = ([T] extends [PyInstance] ? T : PyValueMembers<T> & ([T] extends [readonly (infer E)[]] ? AsyncIterable<E> : unknown)) & PromiseLike<T>;

/** Every TypedArray: what a NumPy-array parameter takes besides a Tensor (it arrives as a NumPy array). */
export type PyTypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/**
 * What a parameter whose Python type reads as T takes: the JS value (arrays for lists and tuples,
 * a Map for a dict: a plain object in the last place would be taken as the keyword arguments),
 * a proxy whose value is T, or an untyped proxy (its type is not known to tsc).
 */
export type PyArg<T> = PyIn<T> | PyResult<T> | PyProxy;

/** The JS values that convert to a Python value of type T (see to_python.ts). */
export type PyIn<T> = T extends Tensor | PyInstance | string | number | boolean | bigint | null | undefined
  ? T
  : T extends readonly unknown[]
    ? { [K in keyof T]: PyArg<T[K]> }
    : T extends ReadonlyMap<infer K, infer V>
      ? ReadonlyMap<PyArg<K>, PyArg<V>>
      : T extends ReadonlySet<infer V>
        ? ReadonlySet<PyArg<V>> | readonly PyArg<V>[]
        : T extends Record<string, infer V>
          ? ReadonlyMap<string, PyArg<V>>
          : T;

/** A Python callable held by proxy (a `Callable[[A, B], R]` result): call it like a function. */
export type PyCallable<A extends unknown[], R> = PyInstance & ((...args: { [K in keyof A]: PyArg<A[K]> }) => PyResult<R>);

/**
 * What a `Callable[[A, B], R]` parameter takes: a TS function (Python calls it with the arguments
 * converted as `await` converts values; it returns R, or a promise of it), or a Python callable
 * proxy (a typed one whose result awaits to R fits this function type too).
 */
export type PyCallback<A extends unknown[], R> = (...args: A) => PyIn<R> | PromiseLike<PyIn<R>>;

/**
 * What a generator or iterator gives: iterate it with `for await`, items converted as `await`
 * converts values.
 */
export interface PyIterator<T> extends PyInstance, AsyncIterable<T> {}

/** A typed module proxy (what torch.py.import gives): its members, and awaitable to itself. */
export type PyModule<M extends PyInstance> = M & PromiseLike<M>;
