/**
 * torch.py: Python objects from TS, enough to drive an existing Python pipeline.
 * `torch.py.import('sklearn.datasets')` gives a proxy (see proxy.ts); PyObject is the plain
 * handle underneath, for library code.
 */
import { pyImport, proxyFor } from './proxy.js';
import { contains, delitem, isinstance, item, len, repr, setitem, str, type } from './builtins.js';
import { iter } from './iteration.js';
import { enter, withContext } from './context.js';
import { raises } from './exceptions.js';
import { pyFloat } from './numbers.js';
import type { PyImport } from './typed.js';

export { PyObject, pyCall, pyRun, pyValue } from './object.js';
export type { PyProxy, PyProxyMembers } from './proxy.js';
export { proxyFor } from './proxy.js';
export { PyFloat } from './numbers.js';
export { NotRaisedError } from './exceptions.js';
export type { EnteredContext } from './context.js';
export type { IterOptions } from './iteration.js';
export type * from './typed.js';

export const py = {
  /** Python's importlib.import_module(name), as a proxy: `const np = torch.py.import('numpy')`. */
  import: pyImport as PyImport, // typed for modules with generated stubs (typed.ts)
  /** A proxy over a PyObject handle (e.g. one returned by PyObject.value()). */
  proxy: proxyFor,
  /** Python's float(x): a number that reaches Python as a float even when whole (`torch.py.float(2)` is 2.0). */
  float: pyFloat,
  /** Python's len(obj). A sync point. */
  len,
  /** Python's `item in obj`. A sync point. */
  contains,
  /** Python's str(obj). A sync point. */
  str,
  /** Python's repr(obj). A sync point. */
  repr,
  /** Python's isinstance(obj, cls), cls a proxied class. A sync point. */
  isinstance,
  /** Python's type(obj), as a proxy of the class. */
  type,
  /** obj[key] as a proxy (proxy.$item(key) is the same). */
  item,
  /** obj[key] = value (queued). */
  setitem,
  /** del obj[key] (queued). */
  delitem,
  /** iter(obj) as an async iterable, with options (items per round trip); a proxy is iterable itself. */
  iter,
  /** Python's `with cm as v: body` (__exit__ sees the body's exception). */
  with: withContext,
  /** cm.__enter__(): the value, whose Symbol.asyncDispose calls __exit__ (`await using v = await torch.py.enter(cm)`). */
  enter,
  /** pytest.raises: the TorchError of `action` when its Python exception is an instance of cls. */
  raises,
};
