/**
 * The escape hatch: call any torch function or Tensor method by its Python name before it has
 * a typed wrapper. Results are tensors whose metadata is pending until the runtime answers.
 */
import { pendingCall, sessionOf, tensorsOfCall } from './dispatch.js';
import { Tensor } from '../tensor/tensor.js';
import { READ } from '../transport/protocol.js';
import { ArgumentError } from '../errors.js';
import { fromRemote } from '../py/object.js';
import type { Session } from '../session/session.js';

export interface CallOptions {
  /** Number of tensors the call returns (a tuple of that many), default 1. */
  outputs?: number;
}

function check(name: string): void {
  if (!/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$/.test(name) || name.split('.').some((p) => p.startsWith('__'))) {
    throw new ArgumentError(`torch.call(): '${name}' is not a valid torch attribute path`);
  }
}


/**
 * torch.call('name', args, kwargs): runs torch.<name>(*args, **kwargs) in the runtime, e.g.
 * torch.call('nn.functional.gelu', [x]) or torch.call('max', [x, 1], {}, {outputs: 2}).
 */
export function call(name: string, args?: unknown[], kwargs?: Record<string, unknown>): Tensor;
export function call(name: string, args: unknown[], kwargs: Record<string, unknown>, opts: { outputs: number }): Tensor[];
export function call(name: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}, opts: CallOptions = {}): Tensor | Tensor[] {
  check(name);
  const s = sessionOf(tensorsOfCall(name, args, kwargs));
  const outs = pendingCall(s, name, [...args], kwargs, opts.outputs ?? 1);
  return opts.outputs === undefined ? outs[0]! : outs;
}

/** Tensor method by name: t.call('softmax', [0]) runs t.softmax(0) in the runtime. */
export function callMethod(self: Tensor, name: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}, opts: CallOptions = {}): Tensor | Tensor[] {
  check(name);
  const s = sessionOf([self, ...tensorsOfCall(name, args, kwargs)]);
  const outs = pendingCall(s, '.' + name, [self, ...args], kwargs, opts.outputs ?? 1);
  return opts.outputs === undefined ? outs[0]! : outs;
}

/**
 * Call a torch function and get its (non-tensor) result as a JS value: numbers, booleans,
 * strings, lists, dicts; tensors (and NumPy arrays) inside come back as nested lists, objects
 * with no plain form (torch.finfo) as PyObject handles. A sync point.
 */
export async function callValue(name: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}): Promise<unknown> {
  check(name);
  return valueOf(sessionOf(tensorsOfCall(name, args, kwargs)), name, [...args], kwargs);
}

/**
 * Run `wireName(*pos, **kw)` and read its result back by value (a sync point): plain values as
 * JS values, objects with no plain form (torch.finfo) as PyObjects. `pos` is converted in place.
 */
export async function valueOf(s: Session, wireName: string, pos: unknown[], kw: Record<string, unknown> | null): Promise<unknown> {
  const id = s.newHandle();
  s.call(id, wireName, pos, kw, 0, true);
  try {
    return fromRemote(s, await s.read(id, READ.VALUE), wireName);
  } finally {
    s.free(id);
  }
}

declare module '../tensor/tensor.js' {
  interface Tensor {
    /** Escape hatch: any Tensor method by its Python name; metadata pending until the runtime answers. */
    call(method: string, args?: unknown[], kwargs?: Record<string, unknown>): Tensor;
    call(method: string, args: unknown[], kwargs: Record<string, unknown>, opts: { outputs: number }): Tensor[];
  }
}

Tensor.prototype.call = function (this: Tensor, method: string, args?: unknown[], kwargs?: Record<string, unknown>, opts?: CallOptions): never {
  return callMethod(this, method, args, kwargs, opts) as never;
};
