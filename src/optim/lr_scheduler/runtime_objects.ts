/** Python objects the schedulers build their runtime side from (a dict's pop, functools.partial, Counter). */
import { PyObject, pyCall } from '../../py/object.js';
import { HELPER } from '../../transport/protocol.js';

/** `module.name` in the runtime, by handle (the caller disposes it once its queued uses are in). */
export function pythonAttr(module: string, name: string): PyObject {
  const m = pyCall(HELPER.import, [module]);
  const attr = m.attr(name);
  m.dispose();
  return attr;
}
