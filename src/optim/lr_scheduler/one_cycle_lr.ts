/** torch.optim.lr_scheduler.OneCycleLR: the 1cycle policy (lr up then down, momentum the other way), stepped every batch. */
import type { Optimizer } from '../optimizer.js';
import { keywords, parseSignature, type PyArgs } from '../args.js';
import { LRScheduler } from './lr_scheduler.js';

export interface OneCycleLROptions {
  max_lr?: number | number[];
  total_steps?: number | null;
  epochs?: number | null;
  steps_per_epoch?: number | null;
  pct_start?: number;
  anneal_strategy?: 'cos' | 'linear';
  cycle_momentum?: boolean;
  base_momentum?: number | number[];
  max_momentum?: number | number[];
  div_factor?: number;
  final_div_factor?: number;
  three_phase?: boolean;
  last_epoch?: number;
}

const SIGNATURE = parseSignature(
  'OneCycleLR(float[] max_lr, int? total_steps=None, int? epochs=None, int? steps_per_epoch=None, float pct_start=0.3, ' +
    "str anneal_strategy='cos', bool cycle_momentum=True, float[] base_momentum=0.85, float[] max_momentum=0.95, " +
    'float div_factor=25.0, float final_div_factor=1e4, bool three_phase=False, int last_epoch=-1)',
);

type Positional = [
  max_lr: number | number[],
  total_steps: number | null,
  epochs: number | null,
  steps_per_epoch: number | null,
  pct_start: number,
  anneal_strategy: 'cos' | 'linear',
  cycle_momentum: boolean,
  base_momentum: number | number[],
  max_momentum: number | number[],
  div_factor: number,
  final_div_factor: number,
  three_phase: boolean,
  last_epoch: number,
];

export class OneCycleLR extends LRScheduler {
  /** `new OneCycleLR(optimizer, max_lr, total_steps?, epochs?, steps_per_epoch?, ..., {keywords}?)`, as in Python. */
  constructor(optimizer: Optimizer, ...args: PyArgs<Positional, OneCycleLROptions>) {
    super('OneCycleLR', optimizer, keywords(SIGNATURE, args));
  }
}
