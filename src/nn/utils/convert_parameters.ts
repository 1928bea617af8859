/** torch.nn.utils.parameters_to_vector and vector_to_parameters. */
import { Tensor } from '../../tensor/tensor.js';
import { cat } from '../../generated/torch.js';
import { sessionOf } from '../../ops/dispatch.js';
import { ArgumentError, TorchError } from '../../errors.js';
import { parameterList, type Parameters } from './clip_grad.js';

function checkSameDevice(params: Tensor[], fn: string): void {
  const device = params[0]?.device;
  for (const p of params) {
    if (p.device !== device) throw new TorchError({ type: 'TypeError', message: `Found two parameters on different devices, this is currently not supported.` });
  }
  void fn;
}

/** One vector of every parameter's elements, in order (mirrored: torch.cat of views, like Python). */
export function parameters_to_vector(parameters: Parameters): Tensor {
  const params = parameterList(parameters, 'parameters_to_vector');
  checkSameDevice(params, 'parameters_to_vector');
  const views = params.map((p) => p.view(-1));
  const out = cat(views);
  for (const v of views) v.dispose();
  return out;
}

/** Copy slices of vec into the parameters' data, in order (Python's `param.data = ...`). */
export function vector_to_parameters(vec: Tensor, parameters: Parameters): void {
  if (!(vec instanceof Tensor)) throw new ArgumentError(`expected torch.Tensor, but got: ${typeof vec}`);
  const params = parameterList(parameters, 'vector_to_parameters');
  checkSameDevice(params, 'vector_to_parameters');
  const total = params.reduce((n, p) => n + p.numel(), 0);
  if (vec.ndim !== 1 || vec.numel() < total) {
    throw new TorchError({ type: 'RuntimeError', message: `vector_to_parameters(): vec of shape [${vec.shape.join(', ')}] cannot fill ${total} parameter elements` });
  }
  const s = sessionOf([vec, ...params]);
  s.call(null, 'nn.utils.vector_to_parameters', [vec, params], null, 0, true);
  // param.data takes vec's dtype and device
  for (const p of params) if (p._m) p._setMeta({ ...p._m, dtype: vec.dtype, device: vec.device });
}
