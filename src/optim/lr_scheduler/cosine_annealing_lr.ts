/** torch.optim.lr_scheduler.CosineAnnealingLR: lr follows a cosine from its initial value down to eta_min over T_max epochs. */
import type { Optimizer } from '../optimizer.js';
import { keywords, parseSignature, type PyArgs } from '../args.js';
import { LRScheduler } from './lr_scheduler.js';

export interface CosineAnnealingLROptions {
  T_max?: number;
  eta_min?: number;
  last_epoch?: number;
}

const SIGNATURE = parseSignature('CosineAnnealingLR(int T_max, float eta_min=0.0, int last_epoch=-1)');

export class CosineAnnealingLR extends LRScheduler {
  /** `new CosineAnnealingLR(optimizer, T_max, eta_min?, last_epoch?, {keywords}?)`, as in Python. */
  constructor(optimizer: Optimizer, ...args: PyArgs<[T_max: number, eta_min: number, last_epoch: number], CosineAnnealingLROptions>) {
    super('CosineAnnealingLR', optimizer, keywords(SIGNATURE, args));
  }
}
