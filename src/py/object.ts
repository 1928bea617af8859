/**
 * Python objects held by handle in the runtime (an optimizer, a module imported through
 * torch.py, a generator): calls on them are queued like ops, so they pipeline too; only
 * value() waits for an answer.
 */
import { inspect } from 'node:util';
import { Handle, RemoteOut } from '../transport/codec.js';
import { READ, HELPER } from '../transport/protocol.js';
import { DisposedError, TorchError } from '../errors.js';
import type { Session } from '../session/session.js';
import { adopt } from '../memory/lifetime.js';
import { Tensor } from '../tensor/tensor.js';
import { resultMetaFromWire, type WireMeta } from '../tensor/meta.js';
import { currentSession } from '../session/current.js';
import { ArrowRef, resolveArrow } from './arrow.js';

export class PyObject extends Handle {
  /** @internal */ _disposed = false;
  /** @internal */ _kept = false;
  /** @internal */ _registered = false;
  /** @internal */ readonly _s: Session;
  /** What made it, for messages: 'optim.SGD', 'tb.import(sklearn)'. */
  readonly origin: string;

  /** @internal made by pyCall() and friends. */
  constructor(session: Session, id: number, origin: string) {
    super(id);
    this._s = session;
    this.origin = origin;
    adopt(this);
  }

  /** @internal */
  _check(): void {
    if (this._disposed) throw new DisposedError(`this Python object (from ${this.origin}) was disposed and cannot be used`);
    this._s.assertAlive();
  }

  /** obj.name, as another handle. */
  attr(name: string): PyObject {
    return pyCall(HELPER.getattr, [this, name], undefined, `${this.origin}.${name}`);
  }

  /** obj.name = value (queued). */
  setattr(name: string, value: unknown): void {
    pyRun(HELPER.setattr, [this, name, value]);
  }

  /** obj(*args, **kwargs), as another handle. */
  call(args: unknown[] = [], kwargs?: Record<string, unknown>): PyObject {
    return pyCall(HELPER.call, [this, ...args], kwargs, `${this.origin}(...)`);
  }

  /** obj.name(*args, **kwargs), as another handle. */
  method(name: string, args: unknown[] = [], kwargs?: Record<string, unknown>): PyObject {
    return pyCall(HELPER.method, [this, name, ...args], kwargs, `${this.origin}.${name}(...)`);
  }

  /**
   * obj.name(*args, **kwargs) for its effect only: nothing is kept (errors surface at the next
   * sync). mayFail=false skips recording the TS call site (a stack capture, ~15 µs) for calls
   * that cannot fail on valid objects.
   */
  run(name: string, args: unknown[] = [], kwargs?: Record<string, unknown>, mayFail = true): void {
    pyRun(HELPER.method, [this, name, ...args], kwargs, mayFail);
  }

  /** obj[key], as another handle. */
  item(key: unknown): PyObject {
    return pyCall(HELPER.getitem, [this, key], undefined, `${this.origin}[...]`);
  }

  /**
   * The object as JS values: numbers, strings, booleans, null, lists (tuples too) and dicts by
   * value; tensors (NumPy arrays as tensors sharing their memory) as Tensor; any other object
   * as a PyObject handle. A sync point. kind READ.TREE: containers tagged (see tree.ts).
   */
  async value(kind: typeof READ.CONVERT | typeof READ.TREE = READ.CONVERT): Promise<unknown> {
    this._check();
    const tables: ArrowRef[] = []; // DataFrames and Arrow tables, read once the value is here
    const v = fromRemote(this._s, await this._s.read(this.id, kind), this.origin, tables);
    return tables.length === 0 ? v : resolveArrow(v, tables);
  }

  /** Python's str(obj). */
  async str(): Promise<string> {
    this._check();
    return (await this._s.read(this.id, READ.STR)) as string;
  }

  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this._s.free(this.id);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  override toString(): string {
    return this._disposed ? 'PyObject(disposed)' : `PyObject(${this.origin})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

function sessionFor(args: readonly unknown[]): Session {
  for (const a of args) {
    if (a instanceof PyObject || a instanceof Tensor) {
      a._check();
      return a._s;
    }
  }
  return currentSession();
}

/**
 * Queue `name(*args, **kwargs)` in the runtime and hold its result by handle. `name` is a torch
 * path ('optim.SGD', 'Generator') or a runtime helper (HELPER.method, ...). eager=false: an idle
 * runtime does not get it at once but with whatever else this turn queues (a read of it).
 */
export function pyCall(name: string, args: unknown[], kwargs?: Record<string, unknown>, origin = name, eager = true): PyObject {
  const s = sessionFor(args);
  const out = new PyObject(s, s.newHandle(), origin);
  s.call(out.id, name, [...args], kwargs ?? null, 0, true, eager);
  return out;
}

/** Queue `name(*args, **kwargs)` for its effect; the result is dropped. */
export function pyRun(name: string, args: unknown[], kwargs?: Record<string, unknown>, mayFail = true): void {
  const s = sessionFor(args);
  s.call(null, name, [...args], kwargs ?? null, 0, mayFail);
}

/** Queue a call and get its converted result (see PyObject.value). A sync point. */
export async function pyValue(name: string, args: unknown[], kwargs?: Record<string, unknown>): Promise<unknown> {
  const obj = pyCall(name, args, kwargs);
  try {
    return await obj.value();
  } finally {
    obj.dispose();
  }
}

/**
 * Turn a converted reply into JS values, Tensors and PyObjects; tables (['arrow', rows]) become
 * ArrowRefs collected in `tables`, for the caller to read (resolveArrow).
 */
export function fromRemote(s: Session, v: unknown, origin: string, tables?: ArrowRef[]): unknown {
  if (v instanceof RemoteOut) {
    const m = v.meta as WireMeta;
    if (m[0] === 'py') return new PyObject(s, v.id, `${origin}: ${m[1]}`);
    if ((m[0] as unknown) === 'arrow' && tables !== undefined) {
      const ref = new ArrowRef(s, v.id, origin);
      tables.push(ref);
      return ref;
    }
    const meta = resultMetaFromWire(m);
    if ('notTensor' in meta) throw new TorchError({ type: 'TypeError', message: `unexpected ${meta.notTensor}` });
    return new Tensor(s, v.id, meta, origin);
  }
  if (Array.isArray(v)) return v.map((x) => fromRemote(s, x, origin, tables));
  if (v instanceof Set) return new Set([...v].map((x) => fromRemote(s, x, origin, tables)));
  if (v instanceof Uint8Array) return Buffer.from(v); // Python bytes: a Buffer of its own (msgpack's may view the whole message)
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = fromRemote(s, x, origin, tables);
    return out;
  }
  return v;
}
