/**
 * torch.nn.utils.clip_grad_norm_ and clip_grad_value_, run by torch's own functions in the
 * runtime on the parameters' handles, so the numbers (norm types, foreach kernels, the
 * non-finite check) are exactly Python's. Gradients are scaled in place: handles stay valid.
 */
import { Tensor } from '../../tensor/tensor.js';
import { sessionOf } from '../../ops/dispatch.js';
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
 * Scale the gradients so that their joint norm is at most max_norm; returns the total norm
 * before clipping (a 0-dim tensor; its metadata arrives with the runtime's answer). norm_type
 * may be Infinity for the max norm.
 */
export function clip_grad_norm_(
  parameters: Parameters,
  max_norm: number,
  ...rest: PyRest<ClipGradNormOptions, ['norm_type', 'error_if_nonfinite', 'foreach']>
): Tensor {
  const params = parameterList(parameters, 'clip_grad_norm_');
  const a = clipNormArgs([max_norm, ...rest]);
  return call('nn.utils.clip_grad_norm_', [params, a.max_norm], {
    norm_type: a.norm_type,
    error_if_nonfinite: a.error_if_nonfinite,
    foreach: a.foreach,
  });
}

const clipValueArgs = binder<{ clip_value: number; foreach: boolean | null }>('clip_grad_value_(float clip_value, bool? foreach=None)');

/** Clamp every gradient element into [-clip_value, clip_value], in place. */
export function clip_grad_value_(parameters: Parameters, clip_value: number, ...rest: PyRest<{ foreach: boolean | null }, ['foreach']>): void {
  const params = parameterList(parameters, 'clip_grad_value_');
  const a = clipValueArgs([clip_value, ...rest]);
  const s = sessionOf(params);
  s.call(null, 'nn.utils.clip_grad_value_', [params, a.clip_value], { foreach: a.foreach }, 0, true);
}
