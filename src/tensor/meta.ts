/** What the local mirror knows about a tensor without asking the runtime. */
import type { DType } from './dtype.js';
import { dtypeFromName } from './dtype.js';
import { stridedUnlessTiny } from '../mirror/layout.js';

export interface TensorMeta {
  shape: readonly number[];
  dtype: DType;
  device: string;
  requires_grad: boolean;
  is_leaf: boolean;
  /** the autograd node's class name (Python's t.grad_fn.name()); null for leaves and results without grad */
  grad_fn: string | null;
  /**
   * The tensor may be non-contiguous (a transpose, an expand, a slice, or a result computed from
   * one): the mirror tracks no strides, only this flag, so it never names a layout-dependent
   * grad_fn (reshape's ViewBackward0 vs UnsafeViewBackward0...) for it. Absent or false: known
   * contiguous. See mirror/layout.ts.
   */
  maybeNoncontiguous?: boolean;
}

/**
 * A recorded result whose autograd node only the runtime can name (it depends on the backend
 * torch picks, e.g. oneDNN, cuDNN or the native loop for an LSTM): everything else about it is
 * known at once, and the name arrives with the op's reply (see dispatch.ts reportGradFns).
 */
export const GRAD_FN_FROM_RUNTIME = '<named by the runtime>';

/**
 * The runtime's report of a result: [shape, dtype, device, requires_grad, is_leaf, grad_fn], and
 * is_contiguous where the runtime reports it (else the layout is unknown: maybe non-contiguous).
 */
export type WireMeta = [number[], string, string, boolean, boolean, string | null, boolean?] | ['py', string];

/** The reported metadata as torch states it (what strict mode and torch.runtime.meta compare). */
export function metaFromWire(w: WireMeta): TensorMeta | { notTensor: string } {
  if (w[0] === 'py') return { notTensor: w[1] };
  const [shape, dtype, device, requires_grad, is_leaf, grad_fn] = w;
  return { shape, dtype: dtypeFromName(dtype)!, device, requires_grad, is_leaf, grad_fn };
}

/**
 * The metadata of a result the mirror did not predict (pending ops, Python calls), for the
 * mirror to go on from: maybe non-contiguous unless the runtime reported it contiguous.
 */
export function resultMetaFromWire(w: WireMeta): TensorMeta | { notTensor: string } {
  const m = metaFromWire(w);
  if ('notTensor' in m) return m;
  if (w[6] !== true && stridedUnlessTiny(m.shape)) m.maybeNoncontiguous = true;
  return m;
}
