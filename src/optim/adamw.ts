/** torch.optim.AdamW: Adam with decoupled weight decay. */
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type Params } from './optimizer.js';
import { parseSignature, type PyArgs } from './args.js';

export interface AdamWOptions {
  lr?: number | Tensor;
  /** (beta1, beta2), a Python tuple */
  betas?: [number | Tensor, number | Tensor];
  eps?: number;
  weight_decay?: number;
  amsgrad?: boolean;
  maximize?: boolean;
  foreach?: boolean | null;
  capturable?: boolean;
  differentiable?: boolean;
  fused?: boolean | null;
}

const SIGNATURE = parseSignature(
  'AdamW(float|Tensor lr=1e-3, any betas=(0.9 0.999), float eps=1e-8, float weight_decay=1e-2, bool amsgrad=False, ' +
    '*, bool maximize=False, bool? foreach=None, bool capturable=False, bool differentiable=False, bool? fused=None)',
);

export class AdamW extends Optimizer {
  /** `new AdamW(params, lr?, betas?, eps?, weight_decay?, amsgrad?, {keywords}?)`, as in Python. */
  constructor(
    params: Params,
    ...args: PyArgs<[lr: number | Tensor, betas: [number | Tensor, number | Tensor], eps: number, weight_decay: number, amsgrad: boolean], AdamWOptions>
  ) {
    super('AdamW', SIGNATURE, params, args);
  }
}
