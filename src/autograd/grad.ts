/**
 * Tensor.grad, requires_grad_(), retain_grad() and the requires_grad setter. Which tensors have
 * a .grad is known locally (backward() marks them from the mirror's graph), so reading .grad
 * never waits: the handle is queued and its metadata is the tensor's own.
 */
import { Tensor, newTensor, opName } from '../tensor/tensor.js';
import type { TensorMeta } from '../tensor/meta.js';
import { pendingCall, strictCheck } from '../ops/dispatch.js';
import { ArgumentError, PendingMetadataError, torchError } from '../errors.js';
import { sameShape } from '../mirror/broadcast.js';
import { link } from './graph.js';
import { HELPER } from '../transport/protocol.js';

/** The metadata of t's gradient (without create_graph): t's shape, dtype and device, a leaf without grad. */
export function gradMeta(t: Tensor): TensorMeta {
  const m = t._meta;
  return { shape: m.shape, dtype: m.dtype, device: m.device, requires_grad: false, is_leaf: true, grad_fn: null };
}

/** The handle for t.grad, or null when the runtime's grad is None. */
export function getGrad(t: Tensor): Tensor | null {
  t._check();
  if (t._gradState === 0) return null;
  if (t._gradState === 3) throw gradPending(t);
  const cached = t._gradCache;
  if (cached !== undefined && !cached._disposed) return cached;
  const s = t._s;
  let g: Tensor;
  if (t._gradState === 2) {
    g = pendingCall(s, HELPER.getattr, [t, 'grad'], undefined, 1)[0]!;
    if (t._gradGraph !== undefined) link(g, t._gradGraph);
  } else {
    g = newTensor(s, gradMeta(t), '.grad');
    s.call(g.id, HELPER.getattr, [t, 'grad'], null, strictCheck(s, [g]), false);
  }
  t._gradCache = g;
  return g;
}

/** A Python call may have changed t.grad (py/touched.ts): known once the runtime re-states it. */
function gradPending(t: Tensor): Error {
  return (
    t._metaError ??
    new PendingMetadataError(
      `the .grad of this tensor (from ${opName(t._op)}) is re-read from the runtime after a Python call that received it: ` +
        '`await t.ready()` (or `await torch.sync()`) before reading it',
    )
  );
}

/** t.grad = g (a tensor of t's shape, dtype and device) or null, as in Python. */
export function setGrad(t: Tensor, g: Tensor | null): void {
  t._check();
  if (g !== null) {
    if (!(g instanceof Tensor)) throw new ArgumentError(`Tensor.grad: assigned grad expected to be a Tensor or None`);
    const m = t._meta;
    const gm = g._meta;
    if (!sameShape(m.shape, gm.shape)) {
      throw torchError('RuntimeError', `attempting to assign a gradient of size '[${gm.shape.join(', ')}]' to a tensor of size '[${m.shape.join(', ')}]'. Please ensure that the gradient and the tensor are the same size`, '.grad');
    }
    if (gm.dtype !== m.dtype) {
      throw torchError('RuntimeError', `attempting to assign a gradient with dtype '${gm.dtype.cppTypeName}' to a tensor with dtype '${m.dtype.cppTypeName}'. Please ensure that the gradient and the tensor have the same dtype`, '.grad');
    }
  }
  t._s.call(null, HELPER.setattr, [t, 'grad', g], null, 0, true);
  forgetGrad(t);
  if (g !== null) {
    t._gradState = g._m === undefined ? 2 : 1;
    t._gradCache = g;
  }
}

/** The runtime set t.grad to None (zero_grad with set_to_none): update the local view only. */
export function forgetGrad(t: Tensor): void {
  t._gradState = 0;
  t._gradCache = undefined;
  t._gradGraph = undefined;
}

/** backward() gave t a grad (accumulated in place when it had one, unless create_graph). */
export function markGrad(t: Tensor, createGraph: boolean, roots: Tensor[]): void {
  if (createGraph) {
    // the new grad is a fresh tensor computed (differentiably) from the roots' graph
    t._gradState = 2;
    t._gradCache = undefined;
    t._gradGraph = t._gradGraph === undefined ? roots : t._gradGraph.concat(roots);
  } else if (t._gradState === 0) {
    t._gradState = 1;
  }
}

export function requires_grad_(t: Tensor, requires_grad = true): Tensor {
  t._check();
  if (typeof requires_grad !== 'boolean') throw new ArgumentError(`Tensor.requires_grad_(): argument 'requires_grad' must be bool`);
  const m = t._meta;
  if (!m.is_leaf) {
    if (!requires_grad) {
      throw torchError('RuntimeError', "you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().", '.requires_grad_');
    }
    return t;
  }
  if (requires_grad && m.dtype.category !== 'float' && m.dtype.category !== 'complex') {
    throw torchError('RuntimeError', 'only Tensors of floating point dtype can require gradients', '.requires_grad_');
  }
  t._s.call(null, '.requires_grad_', [t, requires_grad], null, 0, false);
  if (m.requires_grad !== requires_grad) t._setMeta({ ...m, requires_grad });
  return t;
}

export function retain_grad(t: Tensor): void {
  t._check();
  const m = t._meta;
  if (!m.requires_grad) throw torchError('RuntimeError', "can't retain_grad on Tensor that has requires_grad=False", '.retain_grad');
  if (m.is_leaf || t._retainsGrad) return;
  t._retainsGrad = true;
  t._s.call(null, '.retain_grad', [t], null, 0, false);
}

declare module '../tensor/tensor.js' {
  interface Tensor {
    /** The gradient accumulated by backward(), or null (Python's None). Readable at once. */
    grad: Tensor | null;
    /** Python's `t.requires_grad = flag` is `t.requires_grad_(flag)`. */
    requires_grad_(requires_grad?: boolean): Tensor;
    /** Keep .grad on this non-leaf after backward(). */
    retain_grad(): void;
    /** Whether retain_grad() was called on this non-leaf (false for leaves, as in Python). */
    readonly retains_grad: boolean;
  }
}

Object.defineProperty(Tensor.prototype, 'grad', {
  get(this: Tensor) {
    return getGrad(this);
  },
  set(this: Tensor, g: Tensor | null) {
    setGrad(this, g);
  },
  configurable: true,
});

Object.defineProperty(Tensor.prototype, 'retains_grad', {
  get(this: Tensor) {
    return this._retainsGrad;
  },
  configurable: true,
});

Tensor.prototype.requires_grad_ = function (this: Tensor, requires_grad?: boolean | { requires_grad?: boolean }) {
  const flag = typeof requires_grad === 'object' && requires_grad !== null ? requires_grad.requires_grad : requires_grad;
  return requires_grad_(this, flag ?? true) as never;
};

Tensor.prototype.retain_grad = function (this: Tensor) {
  retain_grad(this);
};
