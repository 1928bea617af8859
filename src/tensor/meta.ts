/** What the local mirror knows about a tensor without asking the runtime. */
import type { DType } from './dtype.js';
import { dtypeFromName } from './dtype.js';

export interface TensorMeta {
  shape: readonly number[];
  dtype: DType;
  device: string;
  requires_grad: boolean;
  is_leaf: boolean;
  /** the autograd node's class name (Python's t.grad_fn.name()); null for leaves and results without grad */
  grad_fn: string | null;
}

/** The runtime's report of a result: [shape, dtype, device, requires_grad, is_leaf, grad_fn]. */
export type WireMeta = [number[], string, string, boolean, boolean, string | null] | ['py', string];

export function metaFromWire(w: WireMeta): TensorMeta | { notTensor: string } {
  if (w[0] === 'py') return { notTensor: w[1] };
  const [shape, dtype, device, requires_grad, is_leaf, grad_fn] = w;
  return { shape, dtype: dtypeFromName(dtype)!, device, requires_grad, is_leaf, grad_fn };
}
