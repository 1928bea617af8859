/** torch.nn.MaxPool2d, AvgPool2d, AdaptiveAvgPool2d (torch/nn/modules/pooling.py). */
import type { Tensor } from '../../tensor/tensor.js';
import { max_pool2d, max_pool2d_with_indices, avg_pool2d, adaptive_avg_pool2d } from '../../generated/nn_functional.js';
import { Module } from '../module.js';
import { binder, type PyRest } from '../args.js';
import { boolRepr, tupleRepr } from './repr.js';

type Size = number | number[];
const sizeRepr = (v: Size | null): string => (v === null ? 'None' : tupleRepr(v));

export interface MaxPoolOptions {
  stride: Size | null;
  padding: Size;
  dilation: Size;
  return_indices: boolean;
  ceil_mode: boolean;
}
const maxPoolArgs = binder<{ kernel_size: Size } & MaxPoolOptions>(
  'MaxPool2d(int[] kernel_size, int[]? stride=None, int[] padding=0, int[] dilation=1, bool return_indices=False, bool ceil_mode=False)',
);

/** 2D max pooling; with return_indices, forward gives [output, indices]. stride defaults to kernel_size. */
export class MaxPool2d<R extends boolean = false> extends Module {
  kernel_size: Size;
  stride: Size;
  padding: Size;
  dilation: Size;
  return_indices: boolean;
  ceil_mode: boolean;

  constructor(kernel_size: Size, ...rest: PyRest<MaxPoolOptions, ['stride', 'padding', 'dilation', 'return_indices', 'ceil_mode']>) {
    super();
    const a = maxPoolArgs([kernel_size, ...rest]);
    this.kernel_size = a.kernel_size;
    this.stride = a.stride ?? a.kernel_size;
    this.padding = a.padding;
    this.dilation = a.dilation;
    this.return_indices = a.return_indices;
    this.ceil_mode = a.ceil_mode;
  }

  override forward(input: Tensor): R extends true ? [Tensor, Tensor] : Tensor {
    const args = [input, this.kernel_size, this.stride, this.padding, this.dilation, { ceil_mode: this.ceil_mode }] as const;
    return (this.return_indices ? max_pool2d_with_indices(...args) : max_pool2d(...args)) as never;
  }

  override extra_repr(): string {
    return `kernel_size=${sizeRepr(this.kernel_size)}, stride=${sizeRepr(this.stride)}, padding=${sizeRepr(this.padding)}, dilation=${sizeRepr(this.dilation)}, ceil_mode=${boolRepr(this.ceil_mode)}`;
  }
}

export interface AvgPoolOptions {
  stride: Size | null;
  padding: Size;
  ceil_mode: boolean;
  count_include_pad: boolean;
  divisor_override: number | null;
}
const avgPoolArgs = binder<{ kernel_size: Size } & AvgPoolOptions>(
  'AvgPool2d(int[] kernel_size, int[]? stride=None, int[] padding=0, bool ceil_mode=False, bool count_include_pad=True, int? divisor_override=None)',
);

/** 2D average pooling; stride defaults to kernel_size. */
export class AvgPool2d extends Module {
  kernel_size: Size;
  stride: Size;
  padding: Size;
  ceil_mode: boolean;
  count_include_pad: boolean;
  divisor_override: number | null;

  constructor(kernel_size: Size, ...rest: PyRest<AvgPoolOptions, ['stride', 'padding', 'ceil_mode', 'count_include_pad', 'divisor_override']>) {
    super();
    const a = avgPoolArgs([kernel_size, ...rest]);
    this.kernel_size = a.kernel_size;
    this.stride = a.stride ?? a.kernel_size;
    this.padding = a.padding;
    this.ceil_mode = a.ceil_mode;
    this.count_include_pad = a.count_include_pad;
    this.divisor_override = a.divisor_override;
  }

  override forward(input: Tensor): Tensor {
    return avg_pool2d(input, this.kernel_size, this.stride, this.padding, this.ceil_mode, this.count_include_pad, this.divisor_override);
  }

  override extra_repr(): string {
    return `kernel_size=${sizeRepr(this.kernel_size)}, stride=${sizeRepr(this.stride)}, padding=${sizeRepr(this.padding)}`;
  }
}

const adaptiveArgs = binder<{ output_size: number | (number | null)[] }>('AdaptiveAvgPool2d(any output_size)');

/** 2D average pooling to a fixed output size (null in output_size keeps that input size). */
export class AdaptiveAvgPool2d extends Module {
  output_size: number | (number | null)[];

  constructor(output_size: number | (number | null)[]) {
    super();
    this.output_size = adaptiveArgs([output_size]).output_size;
  }

  override forward(input: Tensor): Tensor {
    return adaptive_avg_pool2d(input, this.output_size as never);
  }

  override extra_repr(): string {
    const o = this.output_size;
    return `output_size=${typeof o === 'number' ? o : `(${o.map((v) => (v === null ? 'None' : v)).join(', ')})`}`;
  }
}
