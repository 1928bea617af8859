/**
 * JS values on their way to Python (torch.py call arguments, torch.save's object): checked and
 * copied into what the wire carries, so a mistake is an ArgumentError at the call naming where
 * it sits, not an odd Python object later.
 */
import { ArgumentError } from '../errors.js';
import { Tensor } from '../tensor/tensor.js';
import { DType } from '../tensor/dtype.js';
import { ComplexValue, Ellipsis, Slice, Tuple } from '../transport/codec.js';
import { tensor } from '../ops/from_data.js';
import { PyObject, pyCall } from './object.js';
import { PyFloat } from './numbers.js';
import { NOT_SPECIAL, pythonInt, specialValue } from './python_types.js';
import { pythonObjectOf } from './counterpart.js';
import { callbackArg } from './callbacks.js';

/** Finds the PyObject behind a torch.py proxy (set by proxy.ts); undefined for anything else. */
export const proxyTarget = new WeakMap<object, () => PyObject>();

export interface Converted {
  value: unknown;
  /** handles made here for TypedArrays: dispose them once the call using them is queued */
  temporaries: { dispose(): void }[];
}

/**
 * Python's value for `v`: Tensors and Python objects (PyObject or a torch.py proxy) by handle;
 * a JS function as a Python callable that runs it (callbacks.ts); null/undefined as None; booleans, numbers (whole ones as int), bigints, strings as themselves;
 * arrays as lists, Tuple as a tuple, Maps and plain objects as dicts (in their iteration
 * order); a Buffer as bytes; any other TypedArray as a NumPy array (a copy, through shared
 * memory when large; as a tensor where `typedArrays` says so); dtypes, slices, complex values as their torch/Python counterparts.
 * `where` names the value in messages ('torch.save(obj)'); `functions: 'refuse'` refuses JS functions (what is stored).
 */
export function toPython(v: unknown, where: string, typedArrays: 'numpy' | 'tensor' = 'numpy', functions: 'callback' | 'refuse' = 'callback'): Converted {
  const temporaries: { dispose(): void }[] = [];
  const within: object[] = []; // the containers being walked: one met again is a cycle
  const walk = (x: unknown, path: string): unknown => {
    if (x === null || x === undefined) return null;
    switch (typeof x) {
      case 'boolean':
      case 'string':
        return x;
      case 'bigint':
        return pythonInt(x);
      case 'number':
        // msgpack would carry a whole number beyond 32 bits as a float: send it as an int
        return Number.isSafeInteger(x) && (x > 0xffffffff || x < -0x80000000) ? BigInt(x) : x;
      case 'function': {
        const target = proxyTarget.get(x);
        if (target) return target();
        const stands = pythonObjectOf(x); // (a callable TS object standing for a Python one goes as that)
        if (stands !== undefined) return walk(stands, path);
        if (functions === 'refuse') throw new ArgumentError(`${path} is a JS function, which cannot be stored`);
        return callbackArg(x as never, path, temporaries); // a Python callable that runs it here
      }
      case 'object':
        break;
      default:
        throw new ArgumentError(`${path} is a JS ${typeof x}, which has no Python counterpart`);
    }
    if (x instanceof Tensor) {
      x._check();
      return x;
    }
    if (x instanceof PyObject) {
      x._check();
      return x;
    }
    if (x instanceof DType || x instanceof Slice || x instanceof ComplexValue || x === Ellipsis || x instanceof PyFloat) return x;
    const counterpart = pythonObjectOf(x); // a wrapped Python module, a TS optimizer... (counterpart.ts)
    if (counterpart !== undefined) return walk(counterpart, path);
    if (within.includes(x)) throw new ArgumentError(`${path} contains itself; a circular structure has no Python counterpart`);
    within.push(x);
    const out = container(x, path);
    within.pop();
    return out;
  };
  const container = (x: object, path: string): unknown => {
    if (Array.isArray(x)) return x.map((item, i) => walk(item, `${path}[${i}]`));
    if (x instanceof Tuple) return new Tuple(x.items.map((item, i) => walk(item, `${path}[${i}]`)));
    if (x instanceof Map) {
      const out = new Map<unknown, unknown>();
      for (const [k, item] of x) out.set(key(k, path), walk(item, `${path}.get(${JSON.stringify(k) ?? String(k)})`));
      return out;
    }
    if (Buffer.isBuffer(x)) return x;
    const special = specialValue(x, path, walk, temporaries); // Set, Date, Arrow Table
    if (special !== NOT_SPECIAL) return special;
    if (ArrayBuffer.isView(x) && !(x instanceof DataView)) {
      // NumPy's array, the lingua franca of Python code (np.sum(tensor) fails, np.sum(array) works)
      const t = tensor(x);
      if (typedArrays === 'tensor') {
        temporaries.push(t);
        return t;
      }
      const array = pyCall('.numpy', [t], undefined, `${path} (a ${x.constructor.name} as numpy.ndarray)`);
      temporaries.push(t, array);
      return array;
    }
    const proto = Object.getPrototypeOf(x);
    if (proto === Object.prototype || proto === null) {
      const out = new Map<string, unknown>();
      for (const [k, item] of Object.entries(x)) out.set(k, walk(item, `${path}.${k}`));
      return out;
    }
    const kind = (x as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    throw new ArgumentError(`${path} is a JS ${kind}, which has no Python counterpart${hint(x)}`);
  };
  const key = (k: unknown, path: string): unknown => {
    if (typeof k === 'string' || typeof k === 'boolean' || k === null) return k;
    if (typeof k === 'number' || typeof k === 'bigint') return walk(k, path);
    if (k instanceof Tuple) return walk(k, path);
    throw new ArgumentError(`${path} has a key of type ${typeof k}; Python dict keys from JS are strings, numbers, booleans, null or Tuples`);
  };
  try {
    return { value: walk(v, where), temporaries };
  } catch (err) {
    for (const t of temporaries) t.dispose();
    throw err;
  }
}

function hint(x: object): string {
  // a torch.nn.Module lives in JS: its tensors are what Python can take
  if (typeof (x as { state_dict?: unknown }).state_dict === 'function') return ' (pass module.state_dict() instead)';
  return '';
}
