/** torch.optim.Adam: adaptive moment estimation (with AMSGrad and decoupled weight decay options). */
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type Params } from './optimizer.js';
import { parseSignature, type PyArgs } from './args.js';

export interface AdamOptions {
  lr?: number | Tensor;
  /** (beta1, beta2), a Python tuple */
  betas?: [number | Tensor, number | Tensor];
  eps?: number;
  weight_decay?: number;
  amsgrad?: boolean;
  foreach?: boolean | null;
  maximize?: boolean;
  capturable?: boolean;
  differentiable?: boolean;
  fused?: boolean | null;
  decoupled_weight_decay?: boolean;
}

const SIGNATURE = parseSignature(
  'Adam(float|Tensor lr=1e-3, any betas=(0.9 0.999), float eps=1e-8, float weight_decay=0, bool amsgrad=False, ' +
    '*, bool? foreach=None, bool maximize=False, bool capturable=False, bool differentiable=False, bool? fused=None, ' +
    'bool decoupled_weight_decay=False)',
);

export class Adam extends Optimizer {
  /** `new Adam(params, lr?, betas?, eps?, weight_decay?, amsgrad?, {keywords}?)`, as in Python. */
  constructor(
    params: Params,
    ...args: PyArgs<[lr: number | Tensor, betas: [number | Tensor, number | Tensor], eps: number, weight_decay: number, amsgrad: boolean], AdamOptions>
  ) {
    super('Adam', SIGNATURE, params, args);
  }
}
