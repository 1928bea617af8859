/**
 * Tensor: a handle to a tensor owned by the runtime, plus the local mirror of its metadata
 * (shape, dtype, device, autograd flags), readable synchronously.
 */
import { inspect } from 'node:util';
import { Handle } from '../transport/codec.js';
import { READ } from '../transport/protocol.js';
import { DisposedError, PendingMetadataError, TorchError } from '../errors.js';
import type { ReadKind, Session } from '../session/session.js';
import { adopt } from '../memory/lifetime.js';
import type { DType } from './dtype.js';
import { GRAD_FN_FROM_RUNTIME, metaFromWire, type TensorMeta, type WireMeta } from './meta.js';
import { dataFromReply, type DataReply, type TensorData } from './data.js';
import { wrapDim } from '../mirror/dims.js';

/** Options every read (sync point) takes. */
export interface ReadOptions {
  /** Aborting it interrupts the runtime (torch.interrupt()) and rejects the read with the signal's reason. */
  signal?: AbortSignal;
}

export type Scalar = number | boolean | bigint;
/** What tolist() gives: nested arrays of Python-like values. */
export type NestedList = Scalar | { re: number; im: number } | NestedList[];

export class Tensor extends Handle {
  // The metadata's state, changed only through the transitions below: known (metaKnown),
  // pending (metaPending: a runtime reply will tell), or failed (metaFailure: the op that made
  // it failed). TS-private, not #private: reading them from an object that only pretends to be
  // a Tensor (its prototype set to Tensor's) gives undefined rather than a TypeError.
  private metaKnown: TensorMeta | undefined;
  private metaPending: Promise<void> | undefined;
  private metaFailure: Error | undefined;
  /** @internal the mirror's metadata; undefined while pending or failed */
  get _m(): TensorMeta | undefined {
    return this.metaKnown;
  }
  /** @internal settles once the runtime has reported metadata the mirror could not tell */
  get _pending(): Promise<void> | undefined {
    return this.metaPending;
  }
  /** @internal why the metadata will never be known */
  get _metaError(): Error | undefined {
    return this.metaFailure;
  }

  /** @internal replace the metadata (a mirror rule for an in-place op, a conversion...); undefined: unknown. */
  _setMeta(meta: TensorMeta | undefined): void {
    this.metaKnown = meta;
  }

  /**
   * @internal a runtime reply will settle the metadata (with it, or with the error that makes it
   * unknowable); what the mirror knows meanwhile stays readable (_setMeta(undefined) first for
   * "unknown"). A later expectation replaces an earlier one still on its way.
   */
  _expectMeta(reply: Promise<TensorMeta | Error>): Promise<void> {
    const p: Promise<void> = reply.then(
      (m) => {
        if (this.metaPending !== p) return;
        if (m instanceof Error) this.metaFailure = m;
        else this.metaKnown = m;
        this.metaPending = undefined;
      },
      (err: Error) => {
        if (this.metaPending !== p) return;
        this.metaFailure = err;
        this.metaPending = undefined;
      },
    );
    this.metaPending = p;
    return p;
  }
  /** @internal */ _disposed = false;
  /** @internal */ _kept = false;
  /** @internal */ _registered = false;
  /** @internal the client's shared mapping this tensor aliases (frombuffer), kept alive with it */
  _keepAlive: ArrayBufferLike | undefined;
  /** @internal */ readonly _s: Session;
  /** @internal the op that made it, for messages */ readonly _op: string;
  /** @internal autograd: the inputs requiring grad it was computed from (see autograd/graph.ts) */
  _inputs: Tensor[] | undefined;
  /** @internal autograd: the runtime's .grad is None (0), a tensor the mirror knows (1), one whose metadata only the runtime knows (2: after create_graph), or being re-read after a Python call (3: py/touched.ts) */
  _gradState: 0 | 1 | 2 | 3 = 0;
  /** @internal autograd: the handle last given out for .grad */
  _gradCache: Tensor | undefined;
  /** @internal autograd: the roots of backward(create_graph=True) passes that made .grad (its graph) */
  _gradGraph: Tensor[] | undefined;
  /** @internal autograd: retain_grad() was called on this non-leaf */
  _retainsGrad = false;

  /** @internal use the torch.* factories and ops. */
  constructor(session: Session, id: number, meta: TensorMeta | undefined, op: string) {
    super(id);
    this._s = session;
    this.metaKnown = meta;
    this._op = op;
    adopt(this);
  }

  /** @internal the metadata, or a clear error when it is pending, failed, or disposed. */
  get _meta(): TensorMeta {
    const m = this._m;
    if (m !== undefined && !this._disposed) return m;
    if (this._disposed) throw new DisposedError(`this tensor (from ${opName(this._op)}) was disposed and cannot be used`);
    if (this._metaError) throw this._metaError;
    throw new PendingMetadataError(
      `the metadata of this tensor (from ${opName(this._op)}) is not known until the runtime answers: ` +
        '`await t.ready()` (or `await torch.sync()`) before reading shape, dtype or device',
    );
  }

  get shape(): readonly number[] {
    return this._meta.shape;
  }
  get dtype(): DType {
    return this._meta.dtype;
  }
  get device(): string {
    return this._meta.device;
  }
  get requires_grad(): boolean {
    return this._meta.requires_grad;
  }
  /** Python's `t.requires_grad = flag`: the same as t.requires_grad_(flag) (src/autograd/grad.ts). */
  set requires_grad(flag: boolean) {
    this.requires_grad_(flag);
  }
  get is_leaf(): boolean {
    return this._meta.is_leaf;
  }
  /** The autograd node that made this tensor (Python's t.grad_fn): null for leaves and results without grad. */
  get grad_fn(): GradFn | null {
    const name = this._meta.grad_fn;
    if (name === GRAD_FN_FROM_RUNTIME) {
      throw new PendingMetadataError(
        `the autograd node of this tensor (from ${opName(this._op)}) depends on the backend torch picks and is named by the runtime's answer: ` +
          '`await t.ready()` before reading grad_fn (shape, dtype and device are known already)',
      );
    }
    return name ? new GradFn(name) : null;
  }
  get ndim(): number {
    return this._meta.shape.length;
  }
  get is_cuda(): boolean {
    return this._meta.device.startsWith('cuda');
  }
  dim(): number {
    return this.ndim;
  }
  numel(): number {
    let n = 1;
    for (const s of this._meta.shape) n *= s;
    return n;
  }
  size(): readonly number[];
  size(dim: number): number;
  size(dim?: number): readonly number[] | number {
    const shape = this._meta.shape;
    if (dim === undefined) return shape;
    return shape[wrapDim(dim, shape.length, 'size')]!;
  }
  element_size(): number {
    return this._meta.dtype.itemsize;
  }

  /** Resolves once the metadata is known (immediately for mirrored ops); rejects if the op failed. */
  async ready(opts?: ReadOptions): Promise<this> {
    this._check();
    if (this._pending) await (opts?.signal ? this._s.abortable(this._pending, opts.signal) : this._pending);
    if (this._metaError) throw this._metaError;
    if (this._m === undefined) {
      // made with the mirror off: ask the runtime now
      const w = (await this._s.read(this.id, READ.META, opts?.signal)) as WireMeta;
      const m = metaFromWire(w);
      if ('notTensor' in m) throw new TorchError({ type: 'TypeError', message: `${opName(this._op)} returned a Python ${m.notTensor}, not a Tensor`, op: this._op });
      this.metaKnown = m;
    }
    return this;
  }

  /** @internal throw if this handle cannot be used any more. */
  _check(): void {
    if (this._disposed) throw new DisposedError(`this tensor (from ${opName(this._op)}) was disposed and cannot be used`);
    this._s.assertAlive();
  }

  private read(what: ReadKind, opts?: ReadOptions): Promise<unknown> {
    try {
      this._check();
    } catch (err) {
      return Promise.reject(err);
    }
    return this._s.read(this.id, what, opts?.signal);
  }

  /**
   * The value of a one-element tensor as a JS number (bigint beyond 2^53, boolean for bool).
   * Every read takes `{ signal }`: aborting it interrupts the runtime (torch.interrupt()).
   */
  item(opts?: ReadOptions): Promise<Scalar | { re: number; im: number }> {
    return this.read(READ.ITEM, opts) as Promise<Scalar>;
  }

  /** Nested arrays, exactly like Python's tolist(). */
  tolist(opts?: ReadOptions): Promise<NestedList> {
    return this.read(READ.TOLIST, opts) as Promise<NestedList>;
  }

  /**
   * The contents as a TypedArray in row-major order (BigInt64Array for int64, Uint8Array for
   * bool, Uint16Array raw bits for float16/bfloat16, interleaved re/im for complex). Large
   * tensors arrive as a view of shared memory (no copy in Node); for a tensor made from a
   * shared array it is a live view of that memory. Name the array type you expect for a
   * typed result: `await t.data<Float32Array>()`.
   */
  async data<A extends TensorData = TensorData>(opts?: ReadOptions): Promise<A> {
    const view = dataFromReply((await this.read(READ.DATA, opts)) as DataReply);
    // A view of a shared array whose JS side was collected: take a copy instead.
    return (view ?? dataFromReply((await this.read(READ.DATA_COPY, opts)) as DataReply)!) as A;
  }

  /** Exactly Python's str(t). */
  async str(opts?: ReadOptions): Promise<string> {
    return (await this.read(READ.STR, opts)) as string;
  }

  /** Free the runtime's tensor now. Using this handle afterwards throws DisposedError. */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this._s.free(this.id);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  get isDisposed(): boolean {
    return this._disposed;
  }

  override toString(): string {
    if (this._disposed) return 'Tensor(disposed)';
    const m = this._m;
    if (!m) return this._metaError ? 'Tensor(failed)' : 'Tensor(pending)';
    const extra = [
      `dtype=${m.dtype}`,
      m.device !== 'cpu' ? `device='${m.device}'` : '',
      // like Python's repr: the grad_fn when there is one, else requires_grad
      m.grad_fn ? `grad_fn=<${m.grad_fn === GRAD_FN_FROM_RUNTIME ? 'pending' : m.grad_fn}>` : m.requires_grad ? 'requires_grad=True' : '',
    ].filter(Boolean);
    return `Tensor(shape=[${m.shape.join(', ')}], ${extra.join(', ')})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** What Tensor.grad_fn gives: the autograd node's class, by name (like Python's Node.name()). */
export class GradFn {
  constructor(private readonly _name: string) {}
  /** Python's Node.name(): generated nodes by class name, torch's hand-written ones qualified */
  name(): string {
    return this._name === 'CopySlices' || this._name === 'NotImplemented' ? `torch::autograd::${this._name}` : this._name;
  }
  toString(): string {
    return `<${this._name} object>`;
  }
  [inspect.custom](): string {
    return this.toString();
  }
}

export function opName(op: string): string {
  return op.startsWith('.') ? `Tensor${op}` : `torch.${op}`;
}

/** @internal create an output tensor in session s. */
export function newTensor(s: Session, meta: TensorMeta | undefined, op: string): Tensor {
  return new Tensor(s, s.newHandle(), meta, op);
}

/** @internal attach pending-metadata resolution to tensors whose op could not be mirrored. */
export function awaitMeta(outs: Tensor[], reply: Promise<unknown>, toMeta: (w: unknown, i: number) => TensorMeta | Error): void {
  // a toMeta that throws makes that the metadata error (_expectMeta's promise never rejects)
  outs.forEach((t, i) => void t._expectMeta(reply.then((metas) => toMeta((metas as unknown[])[i], i))));
}
