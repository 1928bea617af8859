/**
 * torch.nn.init. Every initialiser runs in the runtime as torch's own torch.nn.init function,
 * in place on the tensor's handle, so the random stream is consumed exactly as in Python and
 * a TS model seeded like a Python one starts from identical weights. Metadata is unchanged.
 */
import type { Tensor } from '../tensor/tensor.js';
import { sessionOf } from '../ops/dispatch.js';
import { ArgumentError } from '../errors.js';
import { binder, type PyRest } from './args.js';

type Generator = unknown;
type Mode = 'fan_in' | 'fan_out';

/** An initialiser: checks its arguments here, then queues torch.nn.init.<name> on the handle. */
function initializer<A extends unknown[]>(name: string, signature: string): (tensor: Tensor, ...args: A) => Tensor {
  const bindArgs = binder(`nn.init.${name}(Tensor tensor, ${signature})`);
  return (tensor, ...args) => {
    const { tensor: t, ...kwargs } = bindArgs([tensor, ...args]) as { tensor: Tensor } & Record<string, unknown>;
    const s = sessionOf([t]);
    s.call(null, `nn.init.${name}`, [t], kwargs, 0, true);
    return t;
  };
}

export const uniform_ = initializer<PyRest<{ a: number; b: number; generator: Generator }, ['a', 'b', 'generator']>>(
  'uniform_', 'float a=0.0, float b=1.0, any generator=None');
export const normal_ = initializer<PyRest<{ mean: number; std: number; generator: Generator }, ['mean', 'std', 'generator']>>(
  'normal_', 'float mean=0.0, float std=1.0, any generator=None');
export const trunc_normal_ = initializer<
  PyRest<{ mean: number; std: number; a: number; b: number; generator: Generator }, ['mean', 'std', 'a', 'b', 'generator']>
>('trunc_normal_', 'float mean=0.0, float std=1.0, float a=-2.0, float b=2.0, any generator=None');
export const constant_ = initializer<[val: number] | [{ val: number }]>('constant_', 'float val');
export const ones_ = initializer<[]>('ones_', '');
export const zeros_ = initializer<[]>('zeros_', '');
export const eye_ = initializer<[]>('eye_', '');
export const dirac_ = initializer<PyRest<{ groups: number }, ['groups']>>('dirac_', 'int groups=1');
export const xavier_uniform_ = initializer<PyRest<{ gain: number; generator: Generator }, ['gain', 'generator']>>(
  'xavier_uniform_', 'float gain=1.0, any generator=None');
export const xavier_normal_ = initializer<PyRest<{ gain: number; generator: Generator }, ['gain', 'generator']>>(
  'xavier_normal_', 'float gain=1.0, any generator=None');
type Kaiming = { a: number; mode: Mode; nonlinearity: string; generator: Generator };
export const kaiming_uniform_ = initializer<PyRest<Kaiming, ['a', 'mode', 'nonlinearity', 'generator']>>(
  'kaiming_uniform_', "float a=0, str mode='fan_in', str nonlinearity='leaky_relu', any generator=None");
export const kaiming_normal_ = initializer<PyRest<Kaiming, ['a', 'mode', 'nonlinearity', 'generator']>>(
  'kaiming_normal_', "float a=0, str mode='fan_in', str nonlinearity='leaky_relu', any generator=None");
export const orthogonal_ = initializer<PyRest<{ gain: number; generator: Generator }, ['gain', 'generator']>>(
  'orthogonal_', 'float gain=1, any generator=None');
export const sparse_ = initializer<
  [sparsity: number, ...PyRest<{ std: number; generator: Generator }, ['std', 'generator']>] | [{ sparsity: number; std?: number }]
>('sparse_', 'float sparsity, float std=0.01, any generator=None');

/** torch.nn.init.calculate_gain: the recommended gain for a nonlinearity (pure arithmetic). */
export function calculate_gain(nonlinearity: string, param: number | null = null): number {
  const linear = ['linear', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d', 'sigmoid'];
  if (linear.includes(nonlinearity)) return 1;
  if (nonlinearity === 'tanh') return 5 / 3;
  if (nonlinearity === 'relu') return Math.sqrt(2.0);
  if (nonlinearity === 'leaky_relu') {
    const slope = param ?? 0.01;
    if (typeof slope !== 'number') throw new ArgumentError(`negative_slope ${String(slope)} not a valid number`);
    return Math.sqrt(2.0 / (1 + slope ** 2));
  }
  if (nonlinearity === 'selu') return 3.0 / 4;
  throw new ArgumentError(`Unsupported nonlinearity ${nonlinearity}`);
}

/** torch.nn.init._calculate_fan_in_and_fan_out, from the shape alone (modules use it for bias bounds). */
export function _calculate_fan_in_and_fan_out(tensor: Tensor): [number, number] {
  const shape = tensor.shape;
  if (shape.length < 2) {
    throw new ArgumentError('Fan in and fan out can not be computed for tensor with fewer than 2 dimensions');
  }
  let receptive = 1;
  for (const s of shape.slice(2)) receptive *= s;
  return [shape[1]! * receptive, shape[0]! * receptive];
}
