/** torch.optim.lr_scheduler.StepLR: lr times gamma every step_size epochs. */
import type { Optimizer } from '../optimizer.js';
import { keywords, parseSignature, type PyArgs } from '../args.js';
import { LRScheduler } from './lr_scheduler.js';

export interface StepLROptions {
  step_size?: number;
  gamma?: number;
  last_epoch?: number;
}

const SIGNATURE = parseSignature('StepLR(int step_size, float gamma=0.1, int last_epoch=-1)');

export class StepLR extends LRScheduler {
  /** `new StepLR(optimizer, step_size, gamma?, last_epoch?, {keywords}?)`, as in Python. */
  constructor(optimizer: Optimizer, ...args: PyArgs<[step_size: number, gamma: number, last_epoch: number], StepLROptions>) {
    super('StepLR', optimizer, keywords(SIGNATURE, args));
  }
}
