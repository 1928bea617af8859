/**
 * torch.py: Python objects from TS, enough to pull data out of existing Python code.
 * `torch.py.import('sklearn.datasets')` gives a proxy (see proxy.ts); PyObject is the plain
 * handle underneath, for library code.
 */
import { pyImport, proxyFor } from './proxy.js';
import type { PyImport } from './typed.js';

export { PyObject, pyCall, pyRun, pyValue } from './object.js';
export type { PyProxy, PyProxyMembers } from './proxy.js';
export { proxyFor } from './proxy.js';
export type * from './typed.js';

export const py = {
  /** Python's importlib.import_module(name), as a proxy: `const np = torch.py.import('numpy')`. */
  import: pyImport as PyImport, // typed for modules with generated stubs (typed.ts)
  /** A proxy over a PyObject handle (e.g. one returned by PyObject.value()). */
  proxy: proxyFor,
};
