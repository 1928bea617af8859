/** torch.optim.SGD: stochastic gradient descent, with momentum, Nesterov momentum and weight decay. */
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type Params } from './optimizer.js';
import { parseSignature, type PyArgs } from './args.js';

export interface SGDOptions {
  lr?: number | Tensor;
  momentum?: number;
  dampening?: number;
  weight_decay?: number | Tensor;
  nesterov?: boolean;
  maximize?: boolean;
  foreach?: boolean | null;
  differentiable?: boolean;
  fused?: boolean | null;
}

const SIGNATURE = parseSignature(
  'SGD(float|Tensor lr=1e-3, float momentum=0, float dampening=0, float|Tensor weight_decay=0, bool nesterov=False, ' +
    '*, bool maximize=False, bool? foreach=None, bool differentiable=False, bool? fused=None)',
);

export class SGD extends Optimizer {
  /** `new SGD(params, lr?, momentum?, dampening?, weight_decay?, nesterov?, {keywords}?)`, as in Python. */
  constructor(
    params: Params,
    ...args: PyArgs<[lr: number | Tensor, momentum: number, dampening: number, weight_decay: number | Tensor, nesterov: boolean], SGDOptions>
  ) {
    super('SGD', SIGNATURE, params, args);
  }
}
