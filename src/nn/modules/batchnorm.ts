/** torch.nn.BatchNorm1d and BatchNorm2d (torch/nn/modules/batchnorm.py). */
import type { Tensor } from '../../tensor/tensor.js';
import { int64 } from '../../tensor/dtype.js';
import { zeros, ones } from '../../generated/torch.js';
import { batch_norm } from '../../generated/nn_functional.js';
import { defineOp, invoke, PENDING } from '../../ops/dispatch.js';
import { RULES } from '../../ops/rules.js';
import { tensor } from '../../ops/from_data.js';
import { keep } from '../../memory/lifetime.js';
import { no_grad } from '../../autograd/grad_mode.js';
import { TorchError } from '../../errors.js';
import { Module } from '../module.js';
import { emptyParameter, type Parameter } from '../parameter.js';
import * as init from '../init.js';
import { binder, type PyRest } from '../args.js';
import type { FactoryOptions } from './linear.js';
import { boolRepr, floatRepr } from './repr.js';
import { HELPER } from '../../transport/protocol.js';

export interface BatchNormOptions extends FactoryOptions {
  eps: number;
  momentum: number | null;
  affine: boolean;
  track_running_stats: boolean;
}
type BatchNormRest = PyRest<BatchNormOptions, ['eps', 'momentum', 'affine', 'track_running_stats', 'device', 'dtype']>;

/**
 * batch_norm with momentum=None in training: the runtime weights the batch by
 * 1 / num_batches_tracked (Python reads that buffer each step; here it never crosses the wire).
 * Metadata and errors as F.batch_norm's.
 */
const CUMULATIVE = defineOp(
  `${HELPER.batch_norm_cma}(Tensor input, Tensor? running_mean, Tensor? running_var, Tensor num_batches_tracked, Tensor? weight, Tensor? bias, bool training, float eps)`,
  (a) => RULES.get('nn.functional.batch_norm')?.(a, 'nn.functional.batch_norm') ?? PENDING,
  { mayFail: true },
);

const SIGNATURE = '(int num_features, float eps=1e-05, float? momentum=0.1, bool affine=True, bool track_running_stats=True, device? device=None, dtype? dtype=None)';

/**
 * Normalisation over the batch with running statistics kept as buffers (running_mean,
 * running_var, num_batches_tracked), updated in place in training mode, used in eval mode.
 */
abstract class _BatchNorm extends Module {
  num_features: number;
  eps: number;
  momentum: number | null;
  affine: boolean;
  track_running_stats: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  running_mean: Tensor | null;
  running_var: Tensor | null;
  num_batches_tracked: Tensor | null;

  protected constructor(name: string, args: readonly unknown[]) {
    super();
    const a = binder<{ num_features: number } & BatchNormOptions>(name + SIGNATURE)(args);
    const factory = { device: a.device, dtype: a.dtype };
    this.num_features = a.num_features;
    this.eps = a.eps;
    this.momentum = a.momentum;
    this.affine = a.affine;
    this.track_running_stats = a.track_running_stats;
    this.weight = a.affine ? emptyParameter([a.num_features], factory) : null;
    this.bias = a.affine ? emptyParameter([a.num_features], factory) : null;
    if (a.track_running_stats) {
      // buffers outlive torch.tidy() scopes, as the module does
      this.running_mean = keep(zeros(a.num_features, factory));
      this.running_var = keep(ones(a.num_features, factory));
      this.num_batches_tracked = keep(tensor(0, { dtype: int64, ...(a.device ? { device: a.device } : {}) }));
    } else {
      this.running_mean = this.running_var = this.num_batches_tracked = null;
    }
    this.reset_parameters();
  }

  reset_running_stats(): void {
    if (!this.track_running_stats) return;
    no_grad(() => {
      this.running_mean!.zero_();
      this.running_var!.fill_(1);
      this.num_batches_tracked!.zero_();
    });
  }

  reset_parameters(): void {
    this.reset_running_stats();
    if (this.affine) {
      init.ones_(this.weight!);
      init.zeros_(this.bias!);
    }
  }

  protected abstract _check_input_dim(input: Tensor): void;

  override forward(input: Tensor): Tensor {
    this._check_input_dim(input);
    if (this.training && this.track_running_stats && this.num_batches_tracked !== null) {
      no_grad(() => this.num_batches_tracked!.add_(1));
    }
    // batch statistics in training, or in eval when there are no running statistics
    const bnTraining = this.training || (this.running_mean === null && this.running_var === null);
    const useBuffers = !this.training || this.track_running_stats;
    if (this.momentum === null && this.training && this.track_running_stats && this.num_batches_tracked !== null) {
      // the cumulative moving average
      const args = [input, this.running_mean, this.running_var, this.num_batches_tracked, this.weight, this.bias, bnTraining, this.eps];
      return invoke(CUMULATIVE, args) as Tensor;
    }
    return batch_norm(
      input,
      useBuffers ? this.running_mean : null,
      useBuffers ? this.running_var : null,
      this.weight,
      this.bias,
      bnTraining,
      this.momentum ?? 0,
      this.eps,
    );
  }

  override extra_repr(): string {
    return `${this.num_features}, eps=${floatRepr(this.eps)}, momentum=${this.momentum === null ? 'None' : floatRepr(this.momentum)}, affine=${boolRepr(this.affine)}, track_running_stats=${boolRepr(this.track_running_stats)}`;
  }
}

/** Batch normalisation over (N, C) or (N, C, L) input. */
export class BatchNorm1d extends _BatchNorm {
  constructor(num_features: number, ...rest: BatchNormRest) {
    super('BatchNorm1d', [num_features, ...rest]);
  }
  protected _check_input_dim(input: Tensor): void {
    if (input.dim() !== 2 && input.dim() !== 3) throw new TorchError({ type: 'ValueError', message: `expected 2D or 3D input (got ${input.dim()}D input)` });
  }
}

/** Batch normalisation over (N, C, H, W) input. */
export class BatchNorm2d extends _BatchNorm {
  constructor(num_features: number, ...rest: BatchNormRest) {
    super('BatchNorm2d', [num_features, ...rest]);
  }
  protected _check_input_dim(input: Tensor): void {
    if (input.dim() !== 4) throw new TorchError({ type: 'ValueError', message: `expected 4D input (got ${input.dim()}D input)` });
  }
}
