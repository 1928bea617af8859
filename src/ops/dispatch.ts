/**
 * Calling a torch op: bind Python-style arguments, let the mirror predict the outputs (or
 * throw torch's error here, at the call site), create output handles at once, and queue the
 * op. Ops the mirror cannot predict take the pending path: the runtime reports metadata.
 */
import { Tensor, awaitMeta, newTensor, opName } from '../tensor/tensor.js';
import { Handle } from '../transport/codec.js';
import { bindOverloads, isKwargs, parseSignature, type Bound, type Signature } from './signature.js';
import { currentSession } from '../session/current.js';
import type { Session } from '../session/session.js';
import type { DType } from '../tensor/dtype.js';
import { is_grad_enabled } from '../autograd/grad_mode.js';
import { link } from '../autograd/graph.js';
import { GRAD_FN_FROM_RUNTIME, metaFromWire, resultMetaFromWire, type TensorMeta, type WireMeta } from '../tensor/meta.js';
import { gradFnOf, type GradFnSource } from '../mirror/grad_fn.js';
import { ArgumentError, TorchBridgeError, TorchError, torchError } from '../errors.js';
import { canCast } from '../mirror/promotion.js';
import { sameShape } from '../mirror/broadcast.js';
import { stridedUnlessTiny } from '../mirror/layout.js';

/** A predicted output. requires_grad is derived unless the rule fixes it. */
export interface OutSpec {
  shape: readonly number[];
  dtype: DType;
  device: string;
  /** false for outputs that never carry gradients (indices, detach) */
  differentiable?: boolean;
  /** explicit flag (factories' requires_grad=, detach) instead of the derived one */
  requires_grad?: boolean;
  /** the op may return its input itself (contiguous, no-op to): copy its autograd flags */
  alias?: Tensor;
  /** an in-place op on this tensor (see inplace()): its metadata is updated too */
  inplace?: Tensor;
  /** the inputs autograd records this output from, where not all are (to(other) and type_as(other): self only) */
  gradFrom?: readonly Tensor[];
  /** the autograd node torch records when the output requires grad (AddBackward0); default: the op's own (mirror/grad_fn.ts); GRAD_FN_FROM_RUNTIME: the runtime names it */
  grad_fn?: string;
  /** layout (mirror/layout.ts): true a fresh contiguous tensor, false maybe not; default: maybe not when a tensor input may not be */
  contiguous?: boolean;
}

/** A rule returns this when the outputs depend on something the mirror does not track. */
export const PENDING: unique symbol = Symbol('pending');

export type MetaRule = (a: Bound, op: string) => OutSpec | OutSpec[] | typeof PENDING;

export interface OpDef {
  /** Python name: 'add' (torch.add / Tensor.add), 'nn.functional.relu' */
  name: string;
  /** torch's overloads, tried in order */
  sigs: Signature[];
  /** undefined: outputs are pending until the runtime reports them */
  meta: MetaRule | undefined;
  /** the mirror does not fully validate this op: record the call site */
  mayFail: boolean;
  /** wire name of the method form ('.add') */
  methodWire: string;
  /** outputs on the pending path (torch returns a tuple of this many when > 1) */
  outputs?: number;
  /** @internal the grad_fn of results whose rule does not name it, found on first use (null: none) */
  gradFn?: GradFnSource | null;
}

export function defineOp(sig: string | string[], meta?: MetaRule, opts: { mayFail?: boolean; outputs?: number } = {}): OpDef {
  const sigs = (Array.isArray(sig) ? sig : [sig]).map(parseSignature);
  const name = sigs[0]!.name;
  return { name, sigs, meta, mayFail: opts.mayFail ?? meta === undefined, methodWire: '.' + name, outputs: opts.outputs };
}

/** Deeper than any torch argument nests: a circular list, refused before it overflows the stack. */
const MAX_NESTING = 256;

/** Every Tensor among the arguments (top level, in lists, in kwargs); `op` names the call in errors. */
export function tensorsIn(values: readonly unknown[], op: string, out: Tensor[] = [], depth = 0): Tensor[] {
  if (depth > MAX_NESTING) throw new ArgumentError(`${opName(op)}: an argument nests lists more than ${MAX_NESTING} deep (does it contain itself?)`);
  for (const v of values) {
    if (v instanceof Tensor) out.push(v);
    else if (Array.isArray(v)) tensorsIn(v, op, out, depth + 1);
  }
  return out;
}

/** Every Tensor among a call's positional and keyword arguments. */
export function tensorsOfCall(op: string, pos: readonly unknown[], kw?: Record<string, unknown>): Tensor[] {
  const out = tensorsIn(pos, op);
  return kw ? tensorsIn(Object.values(kw), op, out) : out;
}

/** The session of the inputs (all must share one), else the current one. */
export function sessionOf(tensors: readonly Tensor[]): Session {
  let s: Session | undefined;
  for (const t of tensors) s = sameSession(s, t);
  return s ?? currentSession();
}

function sameSession(s: Session | undefined, t: Tensor): Session {
  t._check();
  if (s === undefined || t._s === s) return t._s;
  throw new TorchError({
    type: 'RuntimeError',
    message: 'tensors from different torchbridge runtimes cannot be mixed (one of them is from a runtime that was restarted)',
  });
}

/** Run a defined op. `self` is set for the method form (t.add(...)). This is the hot path. */
export function invoke(def: OpDef, args: readonly unknown[], self?: Tensor): Tensor | Tensor[] {
  let n = args.length;
  const last = n > 0 ? args[n - 1] : undefined;
  let kw: Record<string, unknown> | undefined;
  if (typeof last === 'object' && last !== null && isKwargs(last)) {
    kw = last;
    n--;
  }
  const off = self ? 1 : 0;
  const full = new Array<unknown>(n + off);
  if (self) full[0] = self;
  for (let i = 0; i < n; i++) full[i + off] = args[i];
  const bound = bindOverloads(def.sigs, full, kw);

  // One pass over the tensor inputs. Tensors nested in lists or keyword arguments are rare:
  // they are gathered first, only when there are some.
  scanStart(def.meta === undefined);
  let nested: Tensor[] | undefined;
  for (let i = 0; i < full.length; i++) {
    const a = full[i];
    if (a instanceof Tensor) scanInput(a);
    else if (Array.isArray(a)) nested = tensorsIn(a, def.name, nested);
  }
  if (kw !== undefined) nested = tensorsIn(Object.values(kw), def.name, nested);
  if (nested !== undefined) for (const t of nested) scanInput(t);
  const pending = scan.pending;
  const strided = scan.strided;
  let grad = scan.grad;
  let gradInputs = scan.gradInputs;
  const session = scan.session ?? currentSession();
  const wireName = self ? def.methodWire : def.name;
  if (gradInputs !== undefined && !is_grad_enabled()) gradInputs = undefined;
  if (!mirror.enabled) return pendingResult(def, linkAll(unmirroredCall(session, wireName, full, kw, def.outputs ?? 1, def.mayFail, def.outputs !== undefined), gradInputs));
  if (pending) return reportedByRuntime(def, session, wireName, full, kw, gradInputs, false);

  const specs = predict(def, bound, wireName, session);
  if (specs === PENDING) return reportedByRuntime(def, session, wireName, full, kw, gradInputs, false);
  grad = grad && is_grad_enabled();
  // a result autograd records under a node the mirror cannot name: the runtime reports it
  if (grad && unnamed(def, specs)) return reportedByRuntime(def, session, wireName, full, kw, gradInputs, true);
  // an alias of a tensor whose node the runtime has yet to name: the runtime reports it all
  if (aliasesUnnamed(specs)) return reportedByRuntime(def, session, wireName, full, kw, gradInputs, true);
  if (!Array.isArray(specs)) {
    const out = newTensor(session, toMeta(specs, grad, strided, def, bound), wireName);
    session.call(out.id, wireName, full, kw ?? null, replyFor(session, [out]), def.mayFail);
    if (gradInputs !== undefined) {
      // an in-place op's self carries the new history too (the returned handle aliases it)
      if (specs.inplace !== undefined) linkOne(specs.inplace, gradInputs);
      linkOne(out, gradInputs);
    }
    return out;
  }
  const outs = specs.map((spec) => newTensor(session, toMeta(spec, grad, strided, def, bound), wireName));
  session.call(outs.map((t) => t.id), wireName, full, kw ?? null, replyFor(session, outs), def.mayFail);
  if (gradInputs !== undefined) linkAll(outs, gradInputs);
  return outs;
}

/**
 * The rule's prediction. A rule that throws anything but torch's own error (TorchError) or an
 * ArgumentError has a bug: the runtime, which runs torch itself, decides instead (PENDING), and
 * strict mode reports the failed rule as a mirror mismatch.
 */
export function predict(def: OpDef, bound: Bound, wireName: string, session: Session): OutSpec | OutSpec[] | typeof PENDING {
  try {
    return def.meta!(bound, wireName);
  } catch (e) {
    if (e instanceof TorchBridgeError) throw e;
    if (strict.enabled) session.mirrorMismatch(`${opName(wireName)}: the mirror's rule failed (${(e as Error)?.message ?? String(e)}); the runtime's answer was used`);
    return PENDING;
  }
}

/**
 * What invoke learns from its tensor inputs: their session, pending metadata, autograd, layout.
 * One object reused by every call (invoke does not re-enter while scanning): no allocation on
 * the hot path.
 */
const scan = {
  session: undefined as Session | undefined,
  pending: false,
  grad: false,
  /** some input may be non-contiguous: so may the outputs that follow their inputs' layout */
  strided: false,
  /** inputs that require grad (or may: pending metadata), for the autograd graph; rare, so lazy */
  gradInputs: undefined as Tensor[] | undefined,
};

function scanStart(pending: boolean): void {
  scan.session = undefined;
  scan.pending = pending;
  scan.grad = false;
  scan.strided = false;
  scan.gradInputs = undefined;
}

function scanInput(t: Tensor): void {
  scan.session = sameSession(scan.session, t);
  const m = t._m;
  if (m === undefined) {
    scan.pending = true;
    (scan.gradInputs ??= []).push(t);
    return;
  }
  if (m.requires_grad) {
    scan.grad = true;
    (scan.gradInputs ??= []).push(t);
  }
  if (m.maybeNoncontiguous) scan.strided = true;
}

/**
 * The op's results with the metadata the runtime reports (the mirror cannot predict it). An
 * in-place op (relu_ on a pending input, an op without a rule...) changes its first argument,
 * which the result aliases: that tensor takes the reported metadata too. Until then what the
 * mirror knew stays readable, except after an op that changes shape, dtype or autograd flags
 * in place (resize_, set_...): that tensor is unknown until the reply rather than stale.
 */
function reportedByRuntime(def: OpDef, s: Session, wireName: string, full: unknown[], kw: Record<string, unknown> | undefined, gradInputs: Tensor[] | undefined, predicted: boolean): Tensor | Tensor[] {
  const self = changesFirstArgument(def.name) && full[0] instanceof Tensor ? full[0] : undefined;
  const changed = self && { tensor: self, before: self._m };
  if (self !== undefined && !predicted && RESTATES_SELF.has(def.name)) self._setMeta(undefined);
  return pendingResult(def, linkAll(pendingCall(s, wireName, full, kw, def.outputs ?? 1, def.outputs !== undefined, changed), gradInputs));
}

/** In-place ops that change their tensor's metadata, not only its values. */
const RESTATES_SELF = new Set(['resize_', 'resize_as_', 'set_', 'as_strided_', 'asarray', 'detach_', 'requires_grad_', 'squeeze_', 'unsqueeze_', 't_', 'transpose_', 'swapdims_', 'swapaxes_', 'sparse_resize_', 'sparse_resize_and_clear_']);

/**
 * torch's naming: an in-place op ends in one underscore (add_), a dunder does not count. And
 * asarray(t, requires_grad=True) returns t itself, now requiring grad.
 */
function changesFirstArgument(name: string): boolean {
  return (name.endsWith('_') && !name.endsWith('__')) || name === 'asarray';
}

/** Autograd graph: an output that requires grad remembers its inputs (see autograd/graph.ts). */
function linkOne(out: Tensor, inputs: Tensor[]): void {
  const m = out._m;
  if (m === undefined || m.requires_grad) link(out, inputs);
}

function linkAll(outs: Tensor[], inputs: Tensor[] | undefined): Tensor[] {
  if (inputs !== undefined) for (const t of outs) linkOne(t, inputs);
  return outs;
}

/**
 * Strict mode (TORCHBRIDGE_STRICT=1 or torch.set_strict(true)): the runtime reports the real
 * metadata of every mirrored result and the session checks that the mirror agreed. Returns the
 * reply id to put on the op (0 when not strict).
 */
export function strictCheck(session: Session, outs: (Tensor | null)[]): number {
  // null: an output torch returns as None (autograd.grad's unused inputs), not checked
  const first = outs.find((t) => t !== null);
  if (!strict.enabled || first === undefined) return 0;
  const predicted = outs.map((t) => t?._m);
  const op = first._op;
  const reply = session.expectReply();
  reply.promise.then(
    (metas) => (metas as WireMeta[]).forEach((w, i) => compareWithRuntime(session, op, i, predicted[i], w)),
    () => {}, // a failing op is reported through the usual error path
  );
  return reply.id;
}

/** Strict mode's verdict on one output: the mirror's prediction against the runtime's report. */
function compareWithRuntime(session: Session, op: string, i: number, mine: TensorMeta | undefined, w: WireMeta): void {
  if (mine === undefined) return;
  const real = metaFromWire(w);
  let diff = 'notTensor' in real ? `a Python ${real.notTensor}` : describeMismatch(mine, real);
  // a tensor the mirror calls contiguous must be (checked where the runtime reports is_contiguous)
  if (!diff && w.length > 6 && w[6] === false && !mine.maybeNoncontiguous) diff = `${describeMeta(mine)}, not contiguous`;
  if (diff) session.mirrorMismatch(`${opName(op)} output ${i}: the mirror predicted ${describeMeta(mine)} but torch gave ${diff}`);
}

export const strict = { enabled: process.env.TORCHBRIDGE_STRICT === '1' };

/** The reply id for a mirrored op: the runtime names nodes the mirror cannot, else strict mode's check. */
function replyFor(session: Session, outs: Tensor[]): number {
  for (const t of outs) if (t._m!.grad_fn === GRAD_FN_FROM_RUNTIME) return reportGradFns(session, outs);
  return strictCheck(session, outs);
}

/**
 * Results the mirror knows except for their autograd node (GRAD_FN_FROM_RUNTIME): the op's reply
 * names it. Until then reading grad_fn says to await ready(), which waits for the reply. In
 * strict mode the rest of the metadata is checked as strictCheck does.
 */
function reportGradFns(session: Session, outs: Tensor[]): number {
  const reply = session.expectReply();
  const check = strict.enabled ? outs.map((t) => t._m) : undefined;
  awaitMeta(outs, reply.promise, (w, i) => {
    const t = outs[i]!;
    const m = t._m!;
    const real = metaFromWire(w as WireMeta);
    if ('notTensor' in real) return m;
    const mine = check?.[i];
    if (mine !== undefined) compareWithRuntime(session, t._op, i, { ...mine, grad_fn: real.grad_fn }, w as WireMeta);
    // an in-place op since may have given t a node of its own: only the placeholder is replaced
    return m.grad_fn === GRAD_FN_FROM_RUNTIME ? { ...m, grad_fn: real.grad_fn } : m;
  });
  return reply.id;
}

/** Whether a rule returns an alias of a tensor whose node the runtime has yet to name (hot path: no allocation). */
function aliasesUnnamed(specs: OutSpec | OutSpec[]): boolean {
  if (!Array.isArray(specs)) return specs.alias?._m?.grad_fn === GRAD_FN_FROM_RUNTIME;
  for (const spec of specs) if (spec.alias?._m?.grad_fn === GRAD_FN_FROM_RUNTIME) return true;
  return false;
}

/**
 * The mirror can be switched off (TORCHBRIDGE_MIRROR=0 or torch.set_mirror(false)) to measure
 * what it costs: ops then skip the rules, and metadata is fetched only when awaited (ready()).
 */
export const mirror = { enabled: process.env.TORCHBRIDGE_MIRROR !== '0' };

/** Queue an op without predicting or asking for its outputs' metadata (mirror off). */
function unmirroredCall(s: Session, wireName: string, args: unknown[], kw: Record<string, unknown> | undefined, outputs: number, mayFail: boolean, sequence: boolean): Tensor[] {
  const outs = Array.from({ length: outputs }, () => newTensor(s, undefined, wireName));
  s.call(sequence ? outs.map((t) => t.id) : outs[0]!.id, wireName, args, kw ?? null, 0, mayFail);
  return outs;
}

export function describeMeta(m: TensorMeta): string {
  return `shape [${m.shape.join(', ')}], ${m.dtype}, ${m.device}, requires_grad=${m.requires_grad}, is_leaf=${m.is_leaf}, grad_fn=${m.grad_fn}`;
}

export function describeMismatch(mine: TensorMeta, real: TensorMeta): string | undefined {
  const same =
    mine.shape.length === real.shape.length &&
    mine.shape.every((v, i) => v === real.shape[i]) &&
    mine.dtype === real.dtype &&
    mine.device === real.device &&
    mine.requires_grad === real.requires_grad &&
    mine.is_leaf === real.is_leaf &&
    mine.grad_fn === real.grad_fn;
  return same ? undefined : describeMeta(real);
}

/**
 * The rule of an in-place method (add_, mul_, ...) from its out-of-place rule, with torch's
 * checks: no in-place op on a leaf that requires grad, the result must be castable to self's
 * dtype, and self's shape cannot change.
 */
export function inplace(base: MetaRule): MetaRule {
  return (a, op) => {
    const self = a.input as Tensor;
    // torch checks the leaf before anything else
    if (is_grad_enabled() && self.is_leaf && self.requires_grad) {
      throw torchError('RuntimeError', 'a leaf Variable that requires grad is being used in an in-place operation.', op);
    }
    const out = base(a, op);
    if (out === PENDING || Array.isArray(out)) return out;
    if (!canCast(out.dtype, self.dtype)) {
      throw torchError('RuntimeError', `result type ${out.dtype.scalarTypeName} can't be cast to the desired output type ${self.dtype.scalarTypeName}`, op);
    }
    if (!sameShape(out.shape, self.shape)) {
      throw torchError('RuntimeError', `output with shape [${self.shape.join(', ')}] doesn't match the broadcast shape [${out.shape.join(', ')}]`, op);
    }
    return { shape: self.shape, dtype: self.dtype, device: self.device, inplace: self, differentiable: out.differentiable, grad_fn: out.grad_fn };
  };
}

/** Whether a result may be non-contiguous: as its rule says, else as its inputs (mirror/layout.ts). */
function maybeStridedOut(spec: OutSpec, inputsStrided: boolean): boolean {
  const maybe = spec.contiguous === undefined ? inputsStrided : !spec.contiguous;
  return maybe && stridedUnlessTiny(spec.shape);
}

function toMeta(spec: OutSpec, inputsRequireGrad: boolean, inputsStrided: boolean, def: OpDef, a: Bound): TensorMeta {
  if (spec.inplace) {
    // self is modified: it now requires grad if any input did; the returned handle is self again
    const self = spec.inplace;
    const m = self._m!;
    // torch marks self as requiring grad whatever its dtype (even an integer self)
    const recorded = inputsRequireGrad && (m.requires_grad || spec.differentiable !== false);
    const requires_grad = m.requires_grad || recorded;
    // a recorded in-place op becomes self's grad_fn (add_ -> AddBackward0); ops without a
    // derivative (logical_and_) leave it as it was
    const grad_fn = recorded && spec.differentiable !== false ? (spec.grad_fn ?? defaultGradFn(def, a)) : m.grad_fn;
    const meta = { ...m, requires_grad, is_leaf: requires_grad ? m.is_leaf && m.requires_grad : true, grad_fn };
    self._setMeta(meta);
    return meta;
  }
  if (spec.alias) {
    const m = spec.alias._m!;
    return { shape: spec.shape, dtype: spec.dtype, device: spec.device, requires_grad: m.requires_grad, is_leaf: m.is_leaf, grad_fn: m.grad_fn, maybeNoncontiguous: m.maybeNoncontiguous === true };
  }
  if (spec.requires_grad !== undefined) {
    // factories and detach: fresh leaves, whatever requires_grad says
    return { shape: spec.shape, dtype: spec.dtype, device: spec.device, requires_grad: spec.requires_grad, is_leaf: true, grad_fn: null, maybeNoncontiguous: maybeStridedOut(spec, inputsStrided) };
  }
  const floating = spec.dtype.category === 'float' || spec.dtype.category === 'complex';
  const fromInputs = spec.gradFrom === undefined ? inputsRequireGrad : inputsRequireGrad && spec.gradFrom.some((t) => t._m?.requires_grad === true);
  const requires_grad = fromInputs && floating && spec.differentiable !== false;
  const grad_fn = requires_grad ? (spec.grad_fn ?? defaultGradFn(def, a)) : null;
  return { shape: spec.shape, dtype: spec.dtype, device: spec.device, requires_grad, is_leaf: !requires_grad, grad_fn, maybeNoncontiguous: maybeStridedOut(spec, inputsStrided) };
}

/** Marks a result whose grad_fn neither the rule nor derivatives.yaml names (invoke() sends those to the runtime). */
const UNKNOWN_GRAD_FN = '<unknown to the mirror>';

/** The op's own autograd node (mirror/grad_fn.ts), looked up once per op; null: none known. */
function ownGradFn(def: OpDef): GradFnSource | null {
  let src = def.gradFn;
  if (src === undefined) src = def.gradFn = gradFnOf(def.name) ?? null;
  return src;
}

function defaultGradFn(def: OpDef, a: Bound): string {
  const src = ownGradFn(def);
  if (src === null) return UNKNOWN_GRAD_FN;
  return typeof src === 'string' ? src : src(a);
}

/** Whether a recorded output would need the op's own node where the mirror knows none. */
function unnamed(def: OpDef, specs: OutSpec | OutSpec[]): boolean {
  if (ownGradFn(def) !== null) return false;
  const named = (s: OutSpec) =>
    s.grad_fn !== undefined || s.alias !== undefined || s.requires_grad !== undefined || s.differentiable === false || (s.inplace === undefined && s.dtype.category !== 'float' && s.dtype.category !== 'complex');
  return Array.isArray(specs) ? !specs.every(named) : !named(specs);
}

function pendingResult(def: OpDef, outs: Tensor[]): Tensor | Tensor[] {
  return def.outputs === undefined ? outs[0]! : outs;
}

/** Queue an op whose outputs' metadata only the runtime can tell. */
export function pendingCall(
  s: Session,
  wireName: string,
  args: unknown[],
  kw: Record<string, unknown> | undefined,
  outputs: number,
  /** torch returns a tuple or list (of any length, one included) rather than a tensor */
  sequence = outputs !== 1,
  /** the tensor an in-place op changed (and what was known of it): it takes the first output's reported metadata */
  changed?: { tensor: Tensor; before: TensorMeta | undefined },
): Tensor[] {
  const outs = Array.from({ length: outputs }, () => newTensor(s, undefined, wireName));
  const wireOuts = sequence ? outs.map((t) => t.id) : outs[0]!.id;
  const reply = s.expectReply();
  s.call(wireOuts, wireName, args, kw ?? null, reply.id, true);
  const toMeta = (w: unknown): TensorMeta | Error => {
    const m = resultMetaFromWire(w as WireMeta);
    if ('notTensor' in m) {
      return torchError('TypeError', `${wireName} returned a Python ${m.notTensor}, not a Tensor: use torch.callValue() for non-tensor results`, wireName);
    }
    return m;
  };
  awaitMeta(outs, reply.promise, toMeta);
  if (changed !== undefined) {
    // a failed op changed nothing: what the mirror knew stays (the error, where nothing was known)
    const { tensor, before } = changed;
    void tensor._expectMeta(reply.promise.then((metas) => toMeta((metas as unknown[])[0]), (err: Error) => before ?? err));
  }
  return outs;
}

/** Helpers shared by mirror rules. */
export function isTensor(v: unknown): v is Tensor {
  return v instanceof Handle;
}
