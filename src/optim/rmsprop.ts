/** torch.optim.RMSprop: divides by a running root mean square of the gradients (centered and momentum options). */
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type Params } from './optimizer.js';
import { parseSignature, type PyArgs } from './args.js';

export interface RMSpropOptions {
  lr?: number | Tensor;
  alpha?: number;
  eps?: number;
  weight_decay?: number;
  momentum?: number;
  centered?: boolean;
  capturable?: boolean;
  foreach?: boolean | null;
  maximize?: boolean;
  differentiable?: boolean;
}

// every parameter of torch's RMSprop may be positional
const SIGNATURE = parseSignature(
  'RMSprop(float|Tensor lr=1e-2, float alpha=0.99, float eps=1e-8, float weight_decay=0, float momentum=0, bool centered=False, ' +
    'bool capturable=False, bool? foreach=None, bool maximize=False, bool differentiable=False)',
);

export class RMSprop extends Optimizer {
  /** `new RMSprop(params, lr?, alpha?, eps?, weight_decay?, momentum?, centered?, ..., {keywords}?)`, as in Python. */
  constructor(
    params: Params,
    ...args: PyArgs<
      [lr: number | Tensor, alpha: number, eps: number, weight_decay: number, momentum: number, centered: boolean, capturable: boolean, foreach: boolean | null, maximize: boolean, differentiable: boolean],
      RMSpropOptions
    >
  ) {
    super('RMSprop', SIGNATURE, params, args);
  }
}
