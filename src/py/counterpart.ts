/**
 * TS objects that stand for a Python object: a wrapped Python module, a TS optimizer or
 * scheduler (whose real torch object lives in the runtime). Passed to a torch.py call, such an
 * object arrives in Python as that object, as Python code expects (a Python LR scheduler over a
 * TS optimizer, a Python function taking a wrapped model).
 */
import type { PyObject } from './object.js';

/** The method that gives the Python object an instance stands for. */
export const pythonObject: unique symbol = Symbol.for('torchbridge.pythonObject');

export interface HasPythonObject {
  [pythonObject](): PyObject;
}

/** The Python object `x` stands for, or undefined when it stands for none. */
export function pythonObjectOf(x: object): PyObject | undefined {
  const get = (x as Partial<HasPythonObject>)[pythonObject];
  return typeof get === 'function' ? get.call(x) : undefined;
}
