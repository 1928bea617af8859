/**
 * torch.py: Python objects from TS, enough to pull data out of existing Python code.
 * `torch.py.import('sklearn.datasets')` gives a proxy (see proxy.ts); PyObject is the plain
 * handle underneath, for library code.
 */
import { pyImport, proxyFor } from './proxy.js';

export { PyObject, pyCall, pyRun, pyValue } from './object.js';
export type { PyProxy, PyProxyMembers } from './proxy.js';
export { proxyFor } from './proxy.js';

export const py = {
  /** Python's importlib.import_module(name), as a proxy: `const np = torch.py.import('numpy')`. */
  import: pyImport,
  /** A proxy over a PyObject handle (e.g. one returned by PyObject.value()). */
  proxy: proxyFor,
};
