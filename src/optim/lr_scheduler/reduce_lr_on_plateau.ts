/**
 * torch.optim.lr_scheduler.ReduceLROnPlateau: lr times factor when a metric stops improving.
 * step(metric) takes a number or a one-element Tensor; a Tensor goes by handle, so a loss
 * computed in the runtime drives the schedule without a round trip.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { Optimizer } from '../optimizer.js';
import { ArgumentError } from '../../errors.js';
import { describe } from '../../ops/signature.js';
import { keywords, parseSignature, type PyArgs } from '../args.js';
import { LRScheduler } from './lr_scheduler.js';

export interface ReduceLROnPlateauOptions {
  mode?: 'min' | 'max';
  factor?: number;
  patience?: number;
  threshold?: number;
  threshold_mode?: 'rel' | 'abs';
  cooldown?: number;
  min_lr?: number | number[];
  eps?: number;
}

const SIGNATURE = parseSignature(
  "ReduceLROnPlateau(str mode='min', float factor=0.1, int patience=10, float threshold=1e-4, str threshold_mode='rel', " +
    'int cooldown=0, float[] min_lr=0, float eps=1e-8)',
);

type Positional = [
  mode: 'min' | 'max',
  factor: number,
  patience: number,
  threshold: number,
  threshold_mode: 'rel' | 'abs',
  cooldown: number,
  min_lr: number | number[],
  eps: number,
];

export class ReduceLROnPlateau extends LRScheduler {
  /** `new ReduceLROnPlateau(optimizer, mode?, factor?, patience?, ..., {keywords}?)`, as in Python. */
  constructor(optimizer: Optimizer, ...args: PyArgs<Positional, ReduceLROnPlateauOptions>) {
    super('ReduceLROnPlateau', optimizer, keywords(SIGNATURE, args));
  }

  /** Python's `scheduler.step(metrics)`, queued: metrics is a number or a one-element Tensor. */
  override step(metrics?: number | Tensor, epoch?: number): void {
    if (typeof metrics !== 'number' && !(metrics instanceof Tensor)) {
      throw new ArgumentError(`ReduceLROnPlateau.step(): argument 'metrics' must be a number or a one-element Tensor, not ${describe(metrics)}`);
    }
    if (metrics instanceof Tensor && metrics._m !== undefined && metrics._m.shape.reduce((a, b) => a * b, 1) !== 1) {
      throw new ArgumentError(`ReduceLROnPlateau.step(): 'metrics' must have one element (Python's float() of it), not shape [${metrics._m.shape.join(', ')}]`);
    }
    this.py.run('step', epoch === undefined ? [metrics] : [metrics, epoch]);
  }
}
