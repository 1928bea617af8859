/** torch.optim.Adagrad: per-coordinate learning rates from the sum of squared gradients. */
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type Params } from './optimizer.js';
import { parseSignature, type PyArgs } from './args.js';

export interface AdagradOptions {
  lr?: number | Tensor;
  lr_decay?: number;
  weight_decay?: number;
  initial_accumulator_value?: number;
  eps?: number;
  foreach?: boolean | null;
  maximize?: boolean;
  differentiable?: boolean;
  fused?: boolean | null;
}

const SIGNATURE = parseSignature(
  'Adagrad(float|Tensor lr=1e-2, float lr_decay=0, float weight_decay=0, float initial_accumulator_value=0, float eps=1e-10, ' +
    'bool? foreach=None, *, bool maximize=False, bool differentiable=False, bool? fused=None)',
);

export class Adagrad extends Optimizer {
  /** `new Adagrad(params, lr?, lr_decay?, weight_decay?, initial_accumulator_value?, eps?, foreach?, {keywords}?)`, as in Python. */
  constructor(
    params: Params,
    ...args: PyArgs<[lr: number | Tensor, lr_decay: number, weight_decay: number, initial_accumulator_value: number, eps: number, foreach: boolean | null], AdagradOptions>
  ) {
    super('Adagrad', SIGNATURE, params, args);
  }
}
