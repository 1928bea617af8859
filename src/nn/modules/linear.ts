/** torch.nn.Linear and torch.nn.Identity (torch/nn/modules/linear.py). */
import type { Tensor } from '../../tensor/tensor.js';
import type { DType } from '../../tensor/dtype.js';
import { linear } from '../../generated/nn_functional.js';
import { Module } from '../module.js';
import { emptyParameter, type Parameter } from '../parameter.js';
import * as init from '../init.js';
import { binder, type PyRest } from '../args.js';

/** device= and dtype= of layers that create parameters. */
export interface FactoryOptions {
  device: string | null;
  dtype: DType | null;
}

/** A placeholder that returns its input (its constructor ignores any arguments, like Python). */
export class Identity extends Module {
  constructor(..._args: unknown[]) {
    super();
  }
  override forward(input: Tensor): Tensor {
    return input;
  }
}

export interface LinearOptions extends FactoryOptions {
  bias: boolean;
}
const linearArgs = binder<{ in_features: number; out_features: number } & LinearOptions>(
  'Linear(int in_features, int out_features, bool bias=True, device? device=None, dtype? dtype=None)',
);

/** y = x Wᵀ + b, initialised exactly as PyTorch does (kaiming_uniform_ with a=√5, then the bias). */
export class Linear extends Module {
  in_features: number;
  out_features: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(in_features: number, out_features: number, ...rest: PyRest<LinearOptions, ['bias', 'device', 'dtype']>) {
    super();
    const a = linearArgs([in_features, out_features, ...rest]);
    const factory = { device: a.device, dtype: a.dtype };
    this.in_features = a.in_features;
    this.out_features = a.out_features;
    this.weight = emptyParameter([a.out_features, a.in_features], factory);
    this.bias = a.bias ? emptyParameter([a.out_features], factory) : null;
    this.reset_parameters();
  }

  reset_parameters(): void {
    init.kaiming_uniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias !== null) {
      const [fanIn] = init._calculate_fan_in_and_fan_out(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      init.uniform_(this.bias, -bound, bound);
    }
  }

  override forward(input: Tensor): Tensor {
    return linear(input, this.weight, this.bias);
  }

  override extra_repr(): string {
    return `in_features=${this.in_features}, out_features=${this.out_features}, bias=${this.bias !== null ? 'True' : 'False'}`;
  }
}
