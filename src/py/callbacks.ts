/**
 * Callbacks into TS: a JS function passed to Python (a torch.py argument, an attribute or item
 * set to it) arrives there as a Python callable. When Python calls it, the runtime asks this
 * client (python/torchbridge_runtime/callbacks.py has the protocol), the function runs here,
 * sync or async, and its value goes back: tensors and proxies by handle, JS values converted as
 * toPython says. What the function queues meanwhile runs at once, inside the Python call that
 * waits (ops, reads, more Python calls, which may call TS functions again); ops queued before
 * the runtime asked run after that Python call, as program order says.
 *
 *   const hooks = torch.py.import('mypipeline.hooks');
 *   await hooks.train_loop(model, batches, { on_step: (step: number, loss: Tensor) => log(step, loss) });
 *
 * Arguments arrive as JS values, tensors (by handle: dispose them, or let GC free them) and
 * settled proxies; keyword arguments, when Python passes any, as a trailing plain object. A
 * function that throws (or rejects) raises torchbridge_runtime.CallbackError in Python (a
 * RuntimeError naming the JS error's type, message and stack), which Python may catch.
 * Lifetime: each function passed is registered until Python drops its callable (the runtime
 * says so on its next reply); callbackRegistrations() counts them.
 */
import { AsyncResource } from 'node:async_hooks';
import type { Session } from '../session/session.js';
import { currentSession } from '../session/current.js';
import { HELPER, OP, STATUS } from '../transport/protocol.js';
import { PyObject, fromRemote, pyCall } from './object.js';
import { toPython } from './to_python.js';
import { proxyFor } from './proxy.js';

type JsFunction = (...args: never[]) => unknown;

interface Registry {
  readonly fns: Map<number, JsFunction>;
  next: number;
  /** calls the runtime waits on, the innermost last */
  readonly running: number[];
}

const registries = new WeakMap<Session, Registry>();

/**
 * Callbacks run outside whatever async context the connection's reader has (a torch.tidy scope
 * that happened to start the session must not collect their tensors): in the module's own.
 */
const root = new AsyncResource('torchbridge.callback');

function registryOf(s: Session): Registry {
  let reg = registries.get(s);
  if (reg === undefined) {
    const r: Registry = { fns: new Map(), next: 1, running: [] };
    s.onRequest = (id, status, value) => onRequest(s, r, id, status, value);
    registries.set(s, r);
    reg = r;
  }
  return reg;
}

/**
 * toPython's hook for a JS function: register it and queue the Python callable standing for it
 * (a temporary handle: Python keeps the callable as long as it holds it).
 */
export function callbackArg(fn: JsFunction, path: string, temporaries: { dispose(): void }[]): PyObject {
  const s = currentSession();
  const reg = registryOf(s);
  const id = reg.next++;
  const name = fn.name || 'anonymous';
  const obj = pyCall(HELPER.callback, [id, name], undefined, `${path} (TS function ${name})`);
  reg.fns.set(id, fn);
  temporaries.push(obj);
  return obj;
}

/** How many TS functions Python holds callables for (in `s`, the current session by default). */
export function callbackRegistrations(s: Session = currentSession()): number {
  return registries.get(s)?.fns.size ?? 0;
}

function onRequest(s: Session, reg: Registry, id: number, status: number, value: unknown): void {
  if (status === STATUS.RELEASE) {
    for (const fid of value as number[]) reg.fns.delete(fid);
    return;
  }
  if (status !== STATUS.CALLBACK) return;
  const [fid, args, kwargs] = value as [number, unknown[], Record<string, unknown> | null];
  reg.running.push(id);
  // whatever it queues goes after this marker; what was queued before runs after the Python call
  s.opening = [OP.CALLBACK_BEGIN, id];
  root.runInAsyncScope(() => run(s, reg, id, fid, args, kwargs));
}

function run(s: Session, reg: Registry, call: number, fid: number, args: unknown[], kwargs: Record<string, unknown> | null): void {
  const fn = reg.fns.get(fid);
  const name = fn?.name || 'anonymous';
  let result: unknown;
  try {
    if (fn === undefined) throw new ReferenceError(`TS function ${fid} is no longer registered (Python called a callable it had dropped?)`);
    const jsArgs = args.map((a) => argValue(s, a, name));
    if (kwargs !== null) jsArgs.push(argValue(s, kwargs, name));
    result = fn(...(jsArgs as never[]));
  } catch (err) {
    reply(s, reg, call, STATUS.ERROR, thrown(err));
    return;
  }
  if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
    Promise.resolve(result as PromiseLike<unknown>).then(
      (v) => returned(s, reg, call, name, v),
      (err: unknown) => reply(s, reg, call, STATUS.ERROR, thrown(err)),
    );
  } else returned(s, reg, call, name, result);
}

/** Python's value of what the function returned, as the reply. */
function returned(s: Session, reg: Registry, call: number, name: string, v: unknown): void {
  // the usual case, kept tight (whole numbers beyond 32 bits go through toPython, for their int64)
  if (v == null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && !(Number.isSafeInteger(v) && (v > 0xffffffff || v < -0x80000000)))) {
    reply(s, reg, call, STATUS.OK, v ?? null);
    return;
  }
  let converted;
  try {
    converted = toPython(v, `the value returned by TS function ${name}`);
  } catch (err) {
    reply(s, reg, call, STATUS.ERROR, thrown(err));
    return;
  }
  reply(s, reg, call, STATUS.OK, converted.value);
  for (const t of converted.temporaries) t.dispose(); // (after the reply, in queue order)
}

function reply(s: Session, reg: Registry, call: number, status: number, value: unknown): void {
  const i = reg.running.lastIndexOf(call);
  if (i >= 0) reg.running.splice(i, 1);
  if (s.opening !== null && s.opening[1] === call) s.opening = null; // it queued nothing: the reply alone
  if (!s.alive) return;
  s.queueOp([OP.CALLBACK_REPLY, call, status, value]);
  s.flush();
}

/** A callback's argument: JS values, tensors by handle, other Python objects as settled proxies. */
function argValue(s: Session, v: unknown, name: string): unknown {
  if (v === null || typeof v !== 'object') return v;
  return proxies(fromRemote(s, v, `an argument of TS function ${name}`));
}

function proxies(v: unknown): unknown {
  if (v instanceof PyObject) return proxyFor(v, true);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = proxies(v[i]);
    return v;
  }
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = proxies(o[k]);
  }
  return v;
}

/** What Python's CallbackError says about a thrown value: its type, message and stack. */
function thrown(err: unknown): { type: string; message: string; stack: string } {
  if (err instanceof Error) {
    const stack = err.stack ?? '';
    // the stack's first line repeats "Type: message": keep the frames
    const frames = stack.split('\n').filter((l) => /^\s+at /.test(l)).join('\n');
    return { type: err.name, message: err.message, stack: frames };
  }
  const type = err === null ? 'null' : typeof err === 'object' ? ((err as object).constructor?.name ?? 'Object') : typeof err;
  return { type, message: String(err), stack: '' };
}
