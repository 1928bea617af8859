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
import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import { fileURLToPath } from 'node:url';
import type { Session } from '../session/session.js';
import { currentSession } from '../session/current.js';
import { wantsCallsite } from '../session/callsites.js';
import { HELPER, OP, STATUS } from '../transport/protocol.js';
import { PyObject, fromRemote, pyCall } from './object.js';
import { toPython } from './to_python.js';
import { proxyFor } from './proxy.js';

type JsFunction = (...args: never[]) => unknown;

/** One call Python waits on. */
interface Call {
  readonly id: number;
  /** its CALLBACK_BEGIN was queued (before the first op it queued) */
  begun: boolean;
  done: boolean;
}

/** An op held back while a callback runs: it goes after the reply of every call above its owner. */
interface Parked {
  /** the call whose code queued it; undefined: code outside every call still running */
  owner: Call | undefined;
  op: unknown[];
  mayFail: boolean;
  site: Error | undefined;
}

interface Registry {
  readonly fns: Map<number, JsFunction>;
  next: number;
  /** calls the runtime waits on, the innermost last (the one whose ops it runs now) */
  readonly running: Call[];
  readonly parked: Parked[];
}

const registries = new WeakMap<Session, Registry>();
const HERE = fileURLToPath(import.meta.url);

/** The call whose code is running (it follows the callback's async code). */
const inCall = new AsyncLocalStorage<Call>();

/**
 * Callbacks run outside whatever async context the connection's reader has (a torch.tidy scope
 * that happened to start the session must not collect their tensors): in the module's own.
 */
const root = new AsyncResource('torchbridge.callback');

function registryOf(s: Session): Registry {
  let reg = registries.get(s);
  if (reg === undefined) {
    const r: Registry = { fns: new Map(), next: 1, running: [], parked: [] };
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
  if (status === STATUS.CANCEL) {
    // interrupted: Python no longer waits for it (its function's late value is dropped)
    const call = reg.running.find((c) => c.id === id);
    if (call !== undefined) finish(s, reg, call);
    s.flush();
    return;
  }
  if (status !== STATUS.CALLBACK) return;
  const [fid, args, kwargs] = value as [number, unknown[], Record<string, unknown> | null];
  const call: Call = { id, begun: false, done: false };
  reg.running.push(call);
  s.intercept ??= (op, mayFail) => route(s, reg, op, mayFail);
  root.runInAsyncScope(() => inCall.run(call, () => run(s, reg, call, fid, args, kwargs)));
}

/**
 * Where an op queued while Python waits goes: the innermost call's own ops run now, inside the
 * Python call that waits (its CALLBACK_BEGIN first); any other code's wait for the calls above
 * it to return, as program order says (Python's own code could not run meanwhile either).
 */
function route(s: Session, reg: Registry, op: unknown[], mayFail: boolean): boolean {
  const top = reg.running[reg.running.length - 1];
  let owner = inCall.getStore();
  if (owner !== undefined && owner.done) owner = undefined; // (a returned callback's straggling code)
  if (owner === top && top !== undefined) {
    if (!top.begun) {
      top.begun = true;
      s.queueOp([OP.CALLBACK_BEGIN, top.id]);
    }
    return false;
  }
  reg.parked.push({ owner, op, mayFail, site: wantsCallsite(mayFail) ? new Error() : undefined });
  return true;
}

function run(s: Session, reg: Registry, call: Call, fid: number, args: unknown[], kwargs: Record<string, unknown> | null): void {
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
function returned(s: Session, reg: Registry, call: Call, name: string, v: unknown): void {
  // the usual case, kept tight (whole numbers beyond 32 bits go through toPython, for their int64)
  if (v == null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && !(Number.isSafeInteger(v) && (v > 0xffffffff || v < -0x80000000)))) {
    reply(s, reg, call, STATUS.OK, v ?? null);
    return;
  }
  let converted;
  try {
    // (in the call's context: what converting queues, e.g. a TypedArray's upload, is its own)
    converted = inCall.run(call, () => toPython(v, `the value returned by TS function ${name}`));
  } catch (err) {
    reply(s, reg, call, STATUS.ERROR, thrown(err));
    return;
  }
  reply(s, reg, call, STATUS.OK, converted.value);
  for (const t of converted.temporaries) t.dispose(); // (after the reply, in queue order)
}

function reply(s: Session, reg: Registry, call: Call, status: number, value: unknown): void {
  if (call.done || !s.alive) return; // (cancelled)
  s.queueOp([OP.CALLBACK_REPLY, call.id, status, value]); // (alone, when it queued nothing: no BEGIN)
  finish(s, reg, call);
  s.flush();
}

function finish(s: Session, reg: Registry, call: Call): void {
  call.done = true;
  const i = reg.running.lastIndexOf(call);
  if (i >= 0) reg.running.splice(i, 1);
  release(s, reg);
}

/** Queue the held-back ops whose owner is now the innermost call (or, once none runs, all). */
function release(s: Session, reg: Registry): void {
  const top = reg.running[reg.running.length - 1];
  if (top === undefined) s.intercept = null;
  if (reg.parked.length === 0) return;
  const still: Parked[] = [];
  for (const p of reg.parked) {
    const owner = p.owner !== undefined && p.owner.done ? undefined : p.owner;
    if (top !== undefined && owner !== top) {
      still.push(p);
      continue;
    }
    if (top !== undefined && !top.begun) {
      top.begun = true;
      s.queueOp([OP.CALLBACK_BEGIN, top.id]);
    }
    s.queueOp(p.op, p.mayFail, p.site);
  }
  reg.parked.length = 0;
  reg.parked.push(...still);
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
    // the stack's frames, down to the one that called the function here (the first line repeats "Type: message")
    const frames: string[] = [];
    for (const line of (err.stack ?? '').split('\n')) {
      if (line.includes(HERE)) break;
      if (/^\s+at /.test(line)) frames.push(line);
    }
    return { type: err.name, message: err.message, stack: frames.join('\n') };
  }
  const type = err === null ? 'null' : typeof err === 'object' ? ((err as object).constructor?.name ?? 'Object') : typeof err;
  return { type, message: String(err), stack: '' };
}
