/** torch.optim.lr_scheduler.ExponentialLR: lr times gamma every epoch. */
import type { Optimizer } from '../optimizer.js';
import { keywords, parseSignature, type PyArgs } from '../args.js';
import { LRScheduler } from './lr_scheduler.js';

export interface ExponentialLROptions {
  gamma?: number;
  last_epoch?: number;
}

const SIGNATURE = parseSignature('ExponentialLR(float gamma, int last_epoch=-1)');

export class ExponentialLR extends LRScheduler {
  /** `new ExponentialLR(optimizer, gamma, last_epoch?, {keywords}?)`, as in Python. */
  constructor(optimizer: Optimizer, ...args: PyArgs<[gamma: number, last_epoch: number], ExponentialLROptions>) {
    super('ExponentialLR', optimizer, keywords(SIGNATURE, args));
  }
}
