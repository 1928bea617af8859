/**
 * Python exceptions as TorchErrors: an exception raised by a torch.py call rejects the next
 * read with a TorchError carrying Python's type (err.pyType 'BadInput', err.pyQualifiedType
 * 'mypkg.errors.BadInput'), message, traceback and the TS call site, plus err.pyException, a
 * proxy to the exception object itself:
 *
 *   try { await feats.normalize(x) } catch (e) {
 *     if (e instanceof TorchError && await torch.py.isinstance(e.pyException, errors.BadInput))
 *       console.log(await e.pyException.field);
 *   }
 *   const err = await torch.py.raises(errors.BadInput, () => feats.normalize(x));   // in tests
 */
import { TorchBridgeError, TorchError, type PythonErrorInfo } from '../errors.js';
import { torchErrorHooks, type Session } from '../session/session.js';
import { PyObject } from './object.js';
import { keep } from '../memory/lifetime.js';
import { proxyFor, type PyProxy } from './proxy.js';
import { isinstance } from './builtins.js';
import { proxyTarget } from './to_python.js';

/**
 * One proxy per exception object: the runtime reports the same exception at every read of the
 * handles its op poisoned, and one free of its handle must not leave another proxy dangling.
 */
const known = new Map<number, WeakRef<PyProxy>>();
const forget = new FinalizationRegistry<number>((id) => {
  if (known.get(id)?.deref() === undefined) known.delete(id);
});

function attach(s: Session, err: TorchError, info: PythonErrorInfo): void {
  if (typeof info.exc !== 'number') return;
  let proxy = known.get(info.exc)?.deref();
  if (proxy === undefined) {
    // kept, never a torch.tidy scope's (replies run in the async context the session started in,
    // which may be a scope's): an error outlives scopes; GC frees it (the backstop)
    const obj = keep(new PyObject(s, info.exc, `${err.pyQualifiedType} raised by ${info.op ?? 'a torch.py call'}`));
    proxy = proxyFor(obj, true);
    known.set(info.exc, new WeakRef(proxy));
    forget.register(proxy, info.exc);
  }
  err.pyException = proxy;
}
torchErrorHooks.push(attach);

/** What torch.py.raises throws when the expected Python exception was not raised. */
export class NotRaisedError extends TorchBridgeError {
  override name = 'NotRaisedError';
}

/**
 * pytest.raises for TS: awaits `action` (a promise, a thenable proxy, or a function giving one)
 * and returns its TorchError when the Python exception is an instance of `cls` (a proxied
 * exception class, or a tuple of them); any other error is rethrown as it is, and no error at
 * all throws NotRaisedError.
 */
export async function raises(cls: unknown, action: PromiseLike<unknown> | (() => unknown)): Promise<TorchError> {
  let err: unknown;
  try {
    // a proxy is callable too: it is the awaited expression, not a function to call
    await (typeof action === 'function' && !proxyTarget.has(action) ? (action as () => unknown)() : action);
  } catch (e) {
    err = e;
  }
  if (err === undefined) throw new NotRaisedError(`torch.py.raises(${await describe(cls)}): nothing was raised`);
  if (!(err instanceof TorchError) || err.pyException === undefined) throw err;
  if (!(await isinstance(err.pyException, cls))) throw err;
  return err;
}

async function describe(cls: unknown): Promise<string> {
  try {
    return String(await (cls as PyProxy).__qualname__);
  } catch {
    return String(cls);
  }
}
