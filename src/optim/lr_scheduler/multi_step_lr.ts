/** torch.optim.lr_scheduler.MultiStepLR: lr times gamma at each milestone epoch. */
import type { Optimizer } from '../optimizer.js';
import { pyCall } from '../../py/object.js';
import { keywords, parseSignature, type PyArgs } from '../args.js';
import { LRScheduler } from './lr_scheduler.js';
import { pythonAttr } from './runtime_objects.js';
import { HELPER } from '../../transport/protocol.js';

export interface MultiStepLROptions {
  milestones?: number[];
  gamma?: number;
  last_epoch?: number;
}

const SIGNATURE = parseSignature('MultiStepLR(int[] milestones, float gamma=0.1, int last_epoch=-1)');

export class MultiStepLR extends LRScheduler {
  /** `new MultiStepLR(optimizer, milestones, gamma?, last_epoch?, {keywords}?)`, as in Python. */
  constructor(optimizer: Optimizer, ...args: PyArgs<[milestones: number[], gamma: number, last_epoch: number], MultiStepLROptions>) {
    super('MultiStepLR', optimizer, keywords(SIGNATURE, args));
  }

  /** torch keeps milestones as a collections.Counter (a dict would lose Counter.elements()): rebuild it. */
  protected override _load(state_dict: Record<string, unknown>): void {
    if (!(state_dict.milestones instanceof Map)) return super._load(state_dict);
    const Counter = pythonAttr('collections', 'Counter');
    const milestones = pyCall(HELPER.call, [Counter, state_dict.milestones]);
    super._load({ ...state_dict, milestones });
    Counter.dispose();
    milestones.dispose();
  }
}
