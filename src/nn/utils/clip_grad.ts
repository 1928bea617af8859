/**
 * torch.nn.utils.clip_grad_norm_ and clip_grad_value_, run by torch's own functions in the
 * runtime on the parameters' handles, so the numbers (norm types, foreach kernels, the
 * non-finite check) are exactly Python's. Gradients are scaled in place: handles stay valid.
 */
import { Tensor, newTensor } from '../../tensor/tensor.js';
import type { TensorMeta } from '../../tensor/meta.js';
import { get_default_dtype } from '../../tensor/dtype.js';
import { sessionOf, strictCheck } from '../../ops/dispatch.js';
import { call } from '../../ops/escape.js';
import { ArgumentError } from '../../errors.js';
import { binder, type PyRest } from '../args.js';

export type Parameters = Tensor | Iterable<Tensor>;

/** The parameters as a list, like Python's `[parameters] if isinstance(parameters, Tensor)`. */
export function parameterList(parameters: Parameters, fn: string): Tensor[] {
  const list = parameters instanceof Tensor ? [parameters] : [...parameters];
  for (const p of list) if (!(p instanceof Tensor)) throw new ArgumentError(`${fn}(): parameters must be Tensors`);
  return list;
}

export interface ClipGradNormOptions {
  norm_type: number;
  error_if_nonfinite: boolean;
  foreach: boolean | null;
}
const clipNormArgs = binder<{ max_norm: number } & ClipGradNormOptions>(
  'clip_grad_norm_(float max_norm, float norm_type=2.0, bool error_if_nonfinite=False, bool? foreach=None)',
);

/**
 * The total norm's metadata, as torch computes it: torch.tensor(0.0) when no parameter has a
 * gradient, else the norm of the gradients' norms, a 0-dim tensor of their dtype on the first
 * one's device, outside autograd. Undefined (the runtime reports it) when a gradient's
 * metadata is not known here or the gradients mix dtypes or devices (torch promotes and moves).
 */
function totalNormMeta(params: readonly Tensor[]): TensorMeta | undefined {
  let like: TensorMeta | undefined;
  for (const p of params) {
    if (p._gradState === 0) continue;
    if (p._gradState === 2 || p._m === undefined) return undefined;
    const m = p._m;
    if (!m.dtype.is_floating_point) return undefined;
    if (like === undefined) like = m;
    else if (m.dtype !== like.dtype || m.device !== like.device) return undefined;
  }
  const dtype = like?.dtype ?? get_default_dtype();
  const device = like?.device ?? 'cpu';
  return { shape: [], dtype, device, requires_grad: false, is_leaf: true, grad_fn: null };
}

/**
 * Scale the gradients so that their joint norm is at most max_norm; returns the total norm
 * before clipping (a 0-dim tensor whose metadata the mirror knows). norm_type may be Infinity
 * for the max norm.
 */
export function clip_grad_norm_(
  parameters: Parameters,
  max_norm: number,
  ...rest: PyRest<ClipGradNormOptions, ['norm_type', 'error_if_nonfinite', 'foreach']>
): Tensor {
  const params = parameterList(parameters, 'clip_grad_norm_');
  const a = clipNormArgs([max_norm, ...rest]);
  const kwargs = { norm_type: a.norm_type, error_if_nonfinite: a.error_if_nonfinite, foreach: a.foreach };
  const meta = totalNormMeta(params);
  if (meta === undefined) return call('nn.utils.clip_grad_norm_', [params, a.max_norm], kwargs);
  const s = sessionOf(params);
  const norm = newTensor(s, meta, 'clip_grad_norm_');
  // may fail in the runtime (error_if_nonfinite): the call site is recorded
  s.call(norm.id, 'nn.utils.clip_grad_norm_', [params, a.max_norm], kwargs, strictCheck(s, [norm]), true);
  return norm;
}

const clipValueArgs = binder<{ clip_value: number; foreach: boolean | null }>('clip_grad_value_(float clip_value, bool? foreach=None)');

/** Clamp every gradient element into [-clip_value, clip_value], in place. */
export function clip_grad_value_(parameters: Parameters, clip_value: number, ...rest: PyRest<{ foreach: boolean | null }, ['foreach']>): void {
  const params = parameterList(parameters, 'clip_grad_value_');
  const a = clipValueArgs([clip_value, ...rest]);
  const s = sessionOf(params);
  s.call(null, 'nn.utils.clip_grad_value_', [params, a.clip_value], { foreach: a.foreach }, 0, true);
}
