/**
 * Python's `with` from TS.
 *
 *   await torch.py.with(ctx.Recorder('run'), async (rec) => { ... });   // with Recorder('run') as rec:
 *   await using rec = await torch.py.enter(ctx.Recorder('run'));         // __exit__ at the block's end
 *
 * torch.py.with passes an exception thrown in the body to __exit__ (a TorchError from a Python
 * call as its Python exception; any other JS error as torchbridge_runtime.py_context.JSError
 * with the JS error's "Name: message") and rethrows it unless __exit__ returns a true value,
 * as Python does. `await using` cannot do that: JavaScript gives a disposer no error, so
 * __exit__ then always sees (None, None, None); use torch.py.with where __exit__ looks at the
 * exception (suppresses it, rolls back...).
 */
import { TorchError } from '../errors.js';
import { HELPER } from '../transport/protocol.js';
import { PyObject, pyCall } from './object.js';
import { objectOf } from './builtins.js';
import { proxyFor, symbolHooks, type PyProxy, type PyProxyMembers } from './proxy.js';
import { proxyTarget } from './to_python.js';
import { READ } from '../transport/protocol.js';

/**
 * The value __enter__ returned, as a settled proxy (`await v.$value()` gives its JS value; awaiting
 * it gives itself, hence `then?: undefined`), whose Symbol.asyncDispose calls __exit__.
 */
export interface EnteredContext extends Omit<PyProxyMembers, 'then'> {
  then?: undefined;
  /** A Python attribute (typed as PyProxy's are). */
  [attribute: string]: any;
  (...args: unknown[]): PyProxy;
  [Symbol.asyncDispose](): Promise<void>;
}

/** What disposing an entered value does: __exit__ of its context manager, once. */
const exits = new WeakMap<object, (error?: unknown) => Promise<boolean>>();

/**
 * cm.__enter__(), awaited (its exception surfaces here, as at Python's `with`): the value it
 * returned, whose Symbol.asyncDispose calls cm.__exit__(None, None, None).
 */
export async function enter(cm: unknown): Promise<EnteredContext> {
  const manager = objectOf(cm, 'torch.py.enter()');
  const entered = pyCall(HELPER.enter, [manager], undefined, `${manager.origin}.__enter__()`, false);
  try {
    await entered._s.read(entered.id, READ.META); // the cheapest read: waits for __enter__ to have run
  } catch (e) {
    entered.dispose();
    throw e;
  }
  const value = proxyFor(entered, true) as unknown as EnteredContext;
  let exited = false;
  exits.set(value, async (error?: unknown) => {
    if (exited) return false;
    exited = true;
    return exit(manager, error);
  });
  return value;
}

/** cm.__exit__ for a body that ended normally (no error) or threw `error`: whether it suppressed it. */
async function exit(manager: PyObject, error?: unknown): Promise<boolean> {
  const out = pyCall(HELPER.exit, [manager, error === undefined ? null : asPython(error)], undefined, `${manager.origin}.__exit__(...)`, false);
  try {
    return (await out.value()) === true;
  } finally {
    out.dispose();
  }
}

/** A JS error as __exit__'s exception: a Python exception's own object, else [message, stack] (JSError). */
function asPython(error: unknown): unknown {
  if (error instanceof TorchError && error.pyException !== undefined) {
    const target = proxyTarget.get(error.pyException as object);
    if (target !== undefined) return target();
  }
  if (error instanceof Error) return [`${error.name}: ${error.message}`, error.stack ?? ''];
  return [String(error), ''];
}

/**
 * Python's `with cm as value: body`: enters cm, runs `body(value)`, exits; an exception from the
 * body reaches __exit__ and is rethrown unless __exit__ suppresses it (then the result is
 * undefined).
 */
export async function withContext<T>(cm: unknown, body: (value: EnteredContext) => T | Promise<T>): Promise<T | undefined> {
  const value = await enter(cm);
  const exitOnce = exits.get(value as object)!;
  let result: T;
  try {
    result = await body(value);
  } catch (e) {
    if (await exitOnce(e)) return undefined;
    throw e;
  }
  await exitOnce();
  return result;
}

symbolHooks.set(Symbol.asyncDispose, (proxy: PyProxy) => {
  const exitOnce = exits.get(proxy);
  return exitOnce === undefined ? undefined : async () => void (await exitOnce());
});
