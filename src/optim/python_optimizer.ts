/**
 * Optimizers across the language line. A Python optimizer (made by the user's Python code,
 * reached through torch.py) is a TS Optimizer: `Optimizer.fromPython(proxy)`, or implicitly
 * where a TS scheduler is given one (`new StepLR(pyOpt, 2)`). The reverse: a TS optimizer or
 * scheduler passed to a torch.py call arrives in Python as the torch object it stands for
 * (`lr_scheduler.StepLR(tsOpt, 2)` in Python's own module).
 *
 * A Python optimizer's step() and zero_grad() are Python calls on an object that holds the
 * tensors it was made over (py/touched.ts): those tensors' metadata and .grad are re-read after
 * each, never assumed. Its tensors are not listed on the TS side (`params` is empty):
 * `await opt.param_groups_value()` reads them from Python (new handles to the same tensors).
 */
import { Optimizer, type ParamGroupValue, type ZeroGradOptions } from './optimizer.js';
import { PyObject } from '../py/object.js';
import type { PyProxy } from '../py/proxy.js';
import { proxyTarget } from '../py/to_python.js';
import { treeValue } from '../py/tree.js';
import { heldBy, hold, restate } from '../py/touched.js';
import { pythonObject } from '../py/counterpart.js';
import { keep } from '../memory/lifetime.js';
import { ArgumentError } from '../errors.js';
import { describe } from '../ops/signature.js';

export class PythonOptimizer extends Optimizer {
  override step(): void;
  override step<T>(closure: () => T): T;
  override step<T>(closure?: () => T): T | void {
    const result = closure === undefined ? super.step() : super.step(closure);
    const touched = (): void => restate(heldBy(this.py));
    if (result instanceof Promise) return result.finally(touched) as T;
    touched();
    return result;
  }

  override zero_grad(set_to_none: boolean | ZeroGradOptions = true): void {
    super.zero_grad(set_to_none);
    restate(heldBy(this.py));
  }

  /** Python's `optimizer.param_groups` (a sync point): options as JS values, params as tensors by handle. */
  override async param_groups_value(): Promise<ParamGroupValue[]> {
    const groups = this.py.attr('param_groups');
    try {
      return (await treeValue(groups)) as ParamGroupValue[];
    } finally {
      groups.dispose();
    }
  }

  override toString(): string {
    return `${this.name} (Python)`;
  }
}

const wrapped = new WeakMap<PyObject, PythonOptimizer>();

/** The PyObject behind a torch.py proxy or PyObject; undefined for anything else. */
function pyObjectOf(x: unknown): PyObject | undefined {
  if (x instanceof PyObject) return x;
  const target = typeof x === 'function' ? proxyTarget.get(x) : undefined;
  return target?.();
}

/** A Python optimizer as a TS Optimizer (the same wrapper for the same handle). */
export function fromPython(obj: PyProxy | PyObject | Optimizer): Optimizer {
  if (obj instanceof Optimizer) return obj;
  const py = pyObjectOf(obj);
  if (py === undefined) throw new ArgumentError(`Optimizer.fromPython() takes a Python optimizer (a torch.py proxy), got ${describe(obj)}`);
  let opt = wrapped.get(py);
  if (opt === undefined) {
    // Optimizer's constructor makes a new torch optimizer; this one exists already
    opt = Object.create(PythonOptimizer.prototype) as PythonOptimizer;
    Object.assign(opt, { py: keep(py), name: py.origin, _groups: [] });
    wrapped.set(py, opt);
  }
  return opt;
}

/** What a TS scheduler takes: a TS Optimizer, or a Python one; undefined for anything else. */
export function asOptimizer(x: unknown): Optimizer | undefined {
  if (x instanceof Optimizer) return x;
  return pyObjectOf(x) === undefined ? undefined : fromPython(x as PyProxy);
}

// TS optimizers stand for their torch objects (schedulers: lr_scheduler.ts) in torch.py calls; the tensors a
// TS optimizer updates are then held by Python code given it
(Optimizer.prototype as unknown as Record<symbol, unknown>)[pythonObject] = function (this: Optimizer): PyObject {
  hold(this.py, this.params);
  return this.py;
};

declare module './optimizer.js' {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Optimizer {
    /** A Python optimizer (a torch.py proxy) as a TS Optimizer, for TS schedulers and training loops. */
    let fromPython: (obj: PyProxy | PyObject | Optimizer) => Optimizer;
  }
}

(Optimizer as unknown as { fromPython: typeof fromPython }).fromPython = fromPython;
