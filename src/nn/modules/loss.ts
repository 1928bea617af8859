/**
 * Loss modules (torch/nn/modules/loss.py): Python's constructor arguments, forward(input,
 * target) calling torch.nn.functional. Class weights (weight, pos_weight) are buffers, so they
 * appear in state_dict and follow to(), as in Python.
 */
import type { Tensor } from '../../tensor/tensor.js';
import {
  mse_loss,
  l1_loss,
  smooth_l1_loss,
  huber_loss,
  cross_entropy,
  nll_loss,
  binary_cross_entropy,
  binary_cross_entropy_with_logits,
  kl_div,
} from '../../generated/nn_functional.js';
import { Module } from '../module.js';
import { binder, type PyRest } from '../args.js';

export type Reduction = 'none' | 'mean' | 'sum';

/** Python's _Reduction.legacy_get_string: the old size_average/reduce flags as a reduction. */
function legacyReduction(size_average: boolean | null, reduce: boolean | null, reduction: string): string {
  if (size_average === null && reduce === null) return reduction;
  const avg = size_average ?? true;
  const red = reduce ?? true;
  return avg && red ? 'mean' : red ? 'sum' : 'none';
}

interface Legacy {
  size_average: boolean | null;
  reduce: boolean | null;
  reduction: Reduction;
}

abstract class _Loss extends Module {
  reduction: string;
  protected constructor(a: Legacy) {
    super();
    this.reduction = legacyReduction(a.size_average, a.reduce, a.reduction);
  }
  abstract override forward(input: Tensor, target: Tensor): Tensor;
}

abstract class _WeightedLoss extends _Loss {
  weight: Tensor | null;
  protected constructor(a: Legacy & { weight: Tensor | null }) {
    super(a);
    this.weight = a.weight;
  }
}

const LEGACY = 'bool? size_average=None, bool? reduce=None, str reduction=\'mean\'';

type LegacyRest = PyRest<Legacy, ['size_average', 'reduce', 'reduction']>;
const mseArgs = binder<Legacy>(`MSELoss(${LEGACY})`);
const l1Args = binder<Legacy>(`L1Loss(${LEGACY})`);

/** Mean squared error. */
export class MSELoss extends _Loss {
  constructor(...args: LegacyRest) {
    super(mseArgs(args));
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return mse_loss(input, target, { reduction: this.reduction });
  }
}

/** Mean absolute error. */
export class L1Loss extends _Loss {
  constructor(...args: LegacyRest) {
    super(l1Args(args));
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return l1_loss(input, target, { reduction: this.reduction });
  }
}

const smoothL1Args = binder<Legacy & { beta: number }>(`SmoothL1Loss(${LEGACY}, float beta=1.0)`);

/** L1 beyond beta, squared below it. */
export class SmoothL1Loss extends _Loss {
  beta: number;
  constructor(...args: PyRest<Legacy & { beta: number }, ['size_average', 'reduce', 'reduction', 'beta']>) {
    const a = smoothL1Args(args);
    super(a);
    this.beta = a.beta;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return smooth_l1_loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}

const huberArgs = binder<{ reduction: Reduction; delta: number }>("HuberLoss(str reduction='mean', float delta=1.0)");

/** Squared below delta, delta-scaled L1 beyond it. */
export class HuberLoss extends _Loss {
  delta: number;
  constructor(...args: PyRest<{ reduction: Reduction; delta: number }, ['reduction', 'delta']>) {
    const a = huberArgs(args);
    super({ size_average: null, reduce: null, reduction: a.reduction });
    this.delta = a.delta;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return huber_loss(input, target, { reduction: this.reduction, delta: this.delta });
  }
}

interface CrossEntropyOptions extends Legacy {
  weight: Tensor | null;
  ignore_index: number;
  label_smoothing: number;
}
const crossEntropyArgs = binder<CrossEntropyOptions>(
  "CrossEntropyLoss(Tensor? weight=None, bool? size_average=None, int ignore_index=-100, bool? reduce=None, str reduction='mean', float label_smoothing=0.0)",
);

/** Cross entropy of logits against class indices or class probabilities. */
export class CrossEntropyLoss extends _WeightedLoss {
  ignore_index: number;
  label_smoothing: number;
  constructor(...args: PyRest<CrossEntropyOptions, ['weight', 'size_average', 'ignore_index', 'reduce', 'reduction', 'label_smoothing']>) {
    const a = crossEntropyArgs(args);
    super(a);
    this.ignore_index = a.ignore_index;
    this.label_smoothing = a.label_smoothing;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return cross_entropy(input, target, {
      weight: this.weight,
      ignore_index: this.ignore_index,
      reduction: this.reduction,
      label_smoothing: this.label_smoothing,
    });
  }
}

interface NLLOptions extends Legacy {
  weight: Tensor | null;
  ignore_index: number;
}
const nllArgs = binder<NLLOptions>("NLLLoss(Tensor? weight=None, bool? size_average=None, int ignore_index=-100, bool? reduce=None, str reduction='mean')");

/** Negative log likelihood of log-probabilities against class indices. */
export class NLLLoss extends _WeightedLoss {
  ignore_index: number;
  constructor(...args: PyRest<NLLOptions, ['weight', 'size_average', 'ignore_index', 'reduce', 'reduction']>) {
    const a = nllArgs(args);
    super(a);
    this.ignore_index = a.ignore_index;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return nll_loss(input, target, { weight: this.weight, ignore_index: this.ignore_index, reduction: this.reduction });
  }
}

interface BCEOptions extends Legacy {
  weight: Tensor | null;
}
const bceArgs = binder<BCEOptions>("BCELoss(Tensor? weight=None, bool? size_average=None, bool? reduce=None, str reduction='mean')");

/** Binary cross entropy of probabilities. */
export class BCELoss extends _WeightedLoss {
  constructor(...args: PyRest<BCEOptions, ['weight', 'size_average', 'reduce', 'reduction']>) {
    super(bceArgs(args));
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return binary_cross_entropy(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

interface BCEWithLogitsOptions extends BCEOptions {
  pos_weight: Tensor | null;
}
const bceLogitsArgs = binder<BCEWithLogitsOptions>(
  "BCEWithLogitsLoss(Tensor? weight=None, bool? size_average=None, bool? reduce=None, str reduction='mean', Tensor? pos_weight=None)",
);

/** Sigmoid plus binary cross entropy in one numerically stable step. */
export class BCEWithLogitsLoss extends _Loss {
  weight: Tensor | null;
  pos_weight: Tensor | null;
  constructor(...args: PyRest<BCEWithLogitsOptions, ['weight', 'size_average', 'reduce', 'reduction', 'pos_weight']>) {
    const a = bceLogitsArgs(args);
    super(a);
    this.weight = a.weight;
    this.pos_weight = a.pos_weight;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return binary_cross_entropy_with_logits(input, target, this.weight, { pos_weight: this.pos_weight, reduction: this.reduction });
  }
}

interface KLDivOptions extends Legacy {
  log_target: boolean;
}
const klArgs = binder<KLDivOptions>(`KLDivLoss(${LEGACY}, bool log_target=False)`);

/** Kullback-Leibler divergence of log-probabilities (input) from target. */
export class KLDivLoss extends _Loss {
  log_target: boolean;
  constructor(...args: PyRest<KLDivOptions, ['size_average', 'reduce', 'reduction', 'log_target']>) {
    const a = klArgs(args);
    super(a);
    this.log_target = a.log_target;
  }
  forward(input: Tensor, target: Tensor): Tensor {
    return kl_div(input, target, { reduction: this.reduction, log_target: this.log_target });
  }
}
