/**
 * The mirror after Python touches a tensor. A Python call that receives torchbridge tensors may
 * change them: an optimizer's zero_grad() sets .grad to None, requires_grad_(), resize_(),
 * `p.data = ...`. The mirror cannot predict arbitrary Python, so it never guesses:
 *
 * - A torch.py call (a call, a setattr or setitem through a proxy) that receives tensors, or
 *   Python objects known to hold some, marks each of those tensors' metadata and `.grad` pending,
 *   and queues `tb.restate` right after the call: its reply re-states them. Reading `t.shape` or
 *   `t.grad` meanwhile throws PendingMetadataError (`await t.ready()` or `torch.sync()` first);
 *   ops on them go on at once (their results' metadata comes from the runtime meanwhile).
 * - Which Python objects hold which tensors: a wrapped module holds its parameters and buffers;
 *   a call that received tensors may keep them in its result, its receiver and the callable
 *   (so `opt = make_optimizer(model)` holds model's parameters, and `opt.zero_grad()` touches
 *   them); an attribute or item of a holder holds what the holder does. Held weakly: a tensor
 *   the program dropped is not kept alive by the objects it was given to.
 * - A later local change wins over a re-statement still on its way (backward() reaching a
 *   pending tensor queues another re-statement after itself; zero_grad and `t.grad = g` state
 *   the new .grad outright).
 *
 * Pure-TS work never comes here: only torch.py proxies and Python-backed modules and
 * optimizers call these functions.
 */
import { Tensor } from '../tensor/tensor.js';
import { resultMetaFromWire, type TensorMeta, type WireMeta } from '../tensor/meta.js';
import { HELPER } from '../transport/protocol.js';
import { Tuple } from '../transport/codec.js';
import { torchError } from '../errors.js';
import { PyObject } from './object.js';

/** Tensor._gradState while a re-statement is on its way: reading .grad throws PendingMetadataError. */
export const GRAD_PENDING = 3;

/** One WeakRef per tensor, so a holder's Set dedupes it. */
const refs = new WeakMap<Tensor, WeakRef<Tensor>>();
/** Python objects that may hold tensors, to what they may hold (shared by a holder and its attributes). */
const holdings = new WeakMap<PyObject, Set<WeakRef<Tensor>>>();
/** The re-statement each pending tensor waits for: an older reply must not overwrite a newer state. */
const latest = new WeakMap<Tensor, object>();

function refOf(t: Tensor): WeakRef<Tensor> {
  let r = refs.get(t);
  if (r === undefined) refs.set(t, (r = new WeakRef(t)));
  return r;
}

function setOf(obj: PyObject): Set<WeakRef<Tensor>> {
  let set = holdings.get(obj);
  if (set === undefined) holdings.set(obj, (set = new Set()));
  return set;
}

/** Record that the Python object `obj` may hold these tensors. */
export function hold(obj: PyObject, tensors: Iterable<Tensor>): void {
  const set = setOf(obj);
  for (const t of tensors) set.add(refOf(t));
}

/** `child` (an attribute or item of `parent`) holds what `parent` does, now and later. */
export function inherit(child: PyObject, parent: PyObject): void {
  const set = holdings.get(parent);
  if (set !== undefined) holdings.set(child, set);
}

/** The live tensors `obj` may hold (collected or disposed ones are dropped on the way). */
export function heldBy(obj: PyObject): Tensor[] {
  const set = holdings.get(obj);
  if (set === undefined) return [];
  const out: Tensor[] = [];
  for (const r of set) {
    const t = r.deref();
    if (t === undefined || t._disposed) set.delete(r);
    else out.push(t);
  }
  return out;
}

/** Tensors and Python objects among converted call arguments (lists, tuples, dicts, Maps). */
function gather(v: unknown, tensors: Set<Tensor>, objects: PyObject[], depth = 0): void {
  if (v === null || typeof v !== 'object' || depth > 32) return;
  if (v instanceof Tensor) tensors.add(v);
  else if (v instanceof PyObject) objects.push(v);
  else if (Array.isArray(v)) for (const x of v) gather(x, tensors, objects, depth + 1);
  else if (v instanceof Tuple) for (const x of v.items) gather(x, tensors, objects, depth + 1);
  else if (v instanceof Map) for (const x of v.values()) gather(x, tensors, objects, depth + 1);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) gather(x, tensors, objects, depth + 1);
}

/**
 * A torch.py call was queued: `callee` (the callable, or the receiver of a method call), its
 * converted arguments, and its result (null for setattr/setitem). Everything it may have
 * changed is marked pending and re-read; its result, callee and the objects passed hold what
 * it received.
 */
export function pythonCalled(callee: PyObject, args: unknown[], kwargs: Record<string, unknown> | undefined, result: PyObject | null): void {
  const tensors = new Set<Tensor>();
  const objects: PyObject[] = [callee];
  gather(args, tensors, objects);
  if (kwargs !== undefined) gather(kwargs, tensors, objects);
  for (const o of objects) for (const t of heldBy(o)) tensors.add(t);
  if (tensors.size === 0) return; // the common call on plain values: nothing to track
  for (const o of objects) hold(o, tensors);
  if (result !== null) hold(result, tensors);
  restate([...tensors]);
}

/**
 * Queue a re-statement of these tensors' metadata and .grad, in order after everything queued
 * so far, and mark them pending until its reply (and `after`, which the caller needs done before
 * the new state counts).
 */
export function restate(tensors: readonly Tensor[], after?: Promise<unknown>): void {
  const live = tensors.filter((t) => !t._disposed);
  if (live.length === 0) return;
  const s = live[0]!._s;
  const reply = s.expectReply();
  s.call(null, HELPER.restate, [live], null, reply.id, true, false); // with the call it follows (and its read): one message
  live.forEach((t, i) => {
    const token = {};
    latest.set(t, token);
    t._gradState = GRAD_PENDING;
    t._gradCache = undefined;
    t._gradGraph = undefined;
    t._setMeta(undefined);
    void t._expectMeta(
      reply.promise.then(async (metas) => {
        if (after !== undefined) await after;
        const w = metas as WireMeta[];
        const m = resultMetaFromWire(w[2 * i]!);
        if ('notTensor' in m) return torchError('TypeError', `re-reading a tensor after a Python call found a Python ${m.notTensor}`, HELPER.restate);
        if (latest.get(t) === token && t._gradState === GRAD_PENDING) setGradState(t, m, w[2 * i + 1]!);
        return m;
      }),
    );
  });
}

/**
 * Tensor._gradState from the runtime's report of t.grad: none (0), a grad the mirror describes
 * from t itself (1), or one whose metadata only the runtime knows (2: it has a graph, or an
 * unusual layout).
 */
export function setGradState(t: Tensor, m: TensorMeta, grad: WireMeta | null | undefined): void {
  t._gradCache = undefined;
  t._gradGraph = undefined;
  if (grad === null || grad === undefined || grad[0] === 'py') {
    t._gradState = 0;
    return;
  }
  const [shape, dtype, device, requiresGrad] = grad;
  const plain = !requiresGrad && dtype === m.dtype.name && device === m.device && shape.length === m.shape.length && shape.every((n, i) => n === m.shape[i]);
  t._gradState = plain ? 1 : 2;
}
