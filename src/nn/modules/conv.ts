/** torch.nn.Conv1d, Conv2d, ConvTranspose2d (torch/nn/modules/conv.py). */
import type { Tensor } from '../../tensor/tensor.js';
import { conv1d, conv2d, conv_transpose2d, pad } from '../../generated/nn_functional.js';
import { TorchError } from '../../errors.js';
import { Module } from '../module.js';
import { emptyParameter, type Parameter } from '../parameter.js';
import * as init from '../init.js';
import { binder, type PyRest } from '../args.js';
import type { FactoryOptions } from './linear.js';
import { tupleRepr, ntuple } from './repr.js';

export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

export interface ConvOptions extends FactoryOptions {
  stride: number | number[];
  padding: number | number[] | 'same' | 'valid';
  dilation: number | number[];
  groups: number;
  bias: boolean;
  padding_mode: PaddingMode;
}
type ConvRest = PyRest<ConvOptions, ['stride', 'padding', 'dilation', 'groups', 'bias', 'padding_mode', 'device', 'dtype']>;

export interface ConvTransposeOptions extends FactoryOptions {
  stride: number | number[];
  padding: number | number[];
  output_padding: number | number[];
  groups: number;
  bias: boolean;
  dilation: number | number[];
  padding_mode: PaddingMode;
}
type ConvTransposeRest = PyRest<
  ConvTransposeOptions,
  ['stride', 'padding', 'output_padding', 'groups', 'bias', 'dilation', 'padding_mode', 'device', 'dtype']
>;

const valueError = (message: string): TorchError => new TorchError({ type: 'ValueError', message });

/** What Conv and ConvTranspose share: checks, parameters, PyTorch's initialisation. */
abstract class _ConvNd extends Module {
  in_channels: number;
  out_channels: number;
  kernel_size: number[];
  stride: number[];
  padding: number[] | 'same' | 'valid';
  dilation: number[];
  transposed: boolean;
  output_padding: number[];
  groups: number;
  padding_mode: PaddingMode;
  _reversed_padding_repeated_twice: number[];
  weight: Parameter;
  bias: Parameter | null;

  protected constructor(
    n: number,
    a: { in_channels: number; out_channels: number; kernel_size: number | number[]; groups: number; bias: boolean; padding_mode: PaddingMode } & FactoryOptions & {
      stride: number | number[];
      padding: number | number[] | 'same' | 'valid';
      dilation: number | number[];
      output_padding?: number | number[];
    },
    transposed: boolean,
  ) {
    super();
    const kernel = ntuple(a.kernel_size, n);
    const stride = ntuple(a.stride, n);
    const dilation = ntuple(a.dilation, n);
    if (a.groups <= 0) throw valueError('groups must be a positive integer');
    if (a.in_channels % a.groups !== 0) throw valueError('in_channels must be divisible by groups');
    if (a.out_channels % a.groups !== 0) throw valueError('out_channels must be divisible by groups');
    if (typeof a.padding === 'string') {
      if (a.padding !== 'same' && a.padding !== 'valid') throw valueError(`Invalid padding string '${a.padding}', should be one of {'valid', 'same'}`);
      if (a.padding === 'same' && stride.some((s) => s !== 1)) throw valueError("padding='same' is not supported for strided convolutions");
    }
    if (!['zeros', 'reflect', 'replicate', 'circular'].includes(a.padding_mode)) {
      throw valueError(`padding_mode must be one of {'zeros', 'reflect', 'replicate', 'circular'}, but got padding_mode='${a.padding_mode}'`);
    }
    this.in_channels = a.in_channels;
    this.out_channels = a.out_channels;
    this.kernel_size = kernel;
    this.stride = stride;
    this.padding = typeof a.padding === 'string' ? a.padding : ntuple(a.padding, n);
    this.dilation = dilation;
    this.transposed = transposed;
    this.output_padding = ntuple(a.output_padding ?? 0, n);
    this.groups = a.groups;
    this.padding_mode = a.padding_mode;
    // F.pad's order: last dimension first, (left, right) each
    const twice = new Array<number>(2 * n).fill(0);
    for (let d = 0; d < n; d++) {
      const i = n - 1 - d;
      if (this.padding === 'same') {
        const total = dilation[d]! * (kernel[d]! - 1);
        twice[2 * i] = Math.floor(total / 2);
        twice[2 * i + 1] = total - Math.floor(total / 2);
      } else if (this.padding !== 'valid') {
        twice[2 * i] = twice[2 * i + 1] = this.padding[d]!;
      }
    }
    this._reversed_padding_repeated_twice = twice;
    const factory = { device: a.device, dtype: a.dtype };
    const shape = transposed
      ? [a.in_channels, a.out_channels / a.groups, ...kernel]
      : [a.out_channels, a.in_channels / a.groups, ...kernel];
    this.weight = emptyParameter(shape, factory);
    this.bias = a.bias ? emptyParameter([a.out_channels], factory) : null;
    this.reset_parameters();
  }

  reset_parameters(): void {
    init.kaiming_uniform_(this.weight, { a: Math.sqrt(5) });
    if (this.bias !== null) {
      const [fanIn] = init._calculate_fan_in_and_fan_out(this.weight);
      if (fanIn !== 0) {
        const bound = 1 / Math.sqrt(fanIn);
        init.uniform_(this.bias, -bound, bound);
      }
    }
  }

  override extra_repr(): string {
    let s = `${this.in_channels}, ${this.out_channels}, kernel_size=${tupleRepr(this.kernel_size)}, stride=${tupleRepr(this.stride)}`;
    const padding = this.padding;
    if (typeof padding === 'string') s += `, padding=${padding}`;
    else if (padding.some((p) => p !== 0)) s += `, padding=${tupleRepr(padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${tupleRepr(this.dilation)}`;
    if (this.output_padding.some((p) => p !== 0)) s += `, output_padding=${tupleRepr(this.output_padding)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ', bias=False';
    if (this.padding_mode !== 'zeros') s += `, padding_mode=${this.padding_mode}`;
    return s;
  }
}

const conv1dArgs = binder(
  "Conv1d(int in_channels, int out_channels, int[] kernel_size, int[] stride=1, int[]|str padding=0, int[] dilation=1, int groups=1, bool bias=True, str padding_mode='zeros', device? device=None, dtype? dtype=None)",
);
const conv2dArgs = binder(
  "Conv2d(int in_channels, int out_channels, int[] kernel_size, int[] stride=1, int[]|str padding=0, int[] dilation=1, int groups=1, bool bias=True, str padding_mode='zeros', device? device=None, dtype? dtype=None)",
);
const convTranspose2dArgs = binder(
  "ConvTranspose2d(int in_channels, int out_channels, int[] kernel_size, int[] stride=1, int[] padding=0, int[] output_padding=0, int groups=1, bool bias=True, int[] dilation=1, str padding_mode='zeros', device? device=None, dtype? dtype=None)",
);

/** Convolution over (N, C, L) or (C, L) input. */
export class Conv1d extends _ConvNd {
  constructor(in_channels: number, out_channels: number, kernel_size: number | number[], ...rest: ConvRest) {
    super(1, conv1dArgs([in_channels, out_channels, kernel_size, ...rest]) as never, false);
  }

  override forward(input: Tensor): Tensor {
    if (this.padding_mode !== 'zeros') {
      const padded = pad(input, this._reversed_padding_repeated_twice, { mode: this.padding_mode });
      return conv1d(padded, this.weight, this.bias, this.stride, 0, this.dilation, this.groups);
    }
    return conv1d(input, this.weight, this.bias, this.stride, this.padding as number[], this.dilation, this.groups);
  }
}

/** Convolution over (N, C, H, W) or (C, H, W) input. */
export class Conv2d extends _ConvNd {
  constructor(in_channels: number, out_channels: number, kernel_size: number | number[], ...rest: ConvRest) {
    super(2, conv2dArgs([in_channels, out_channels, kernel_size, ...rest]) as never, false);
  }

  override forward(input: Tensor): Tensor {
    if (this.padding_mode !== 'zeros') {
      const padded = pad(input, this._reversed_padding_repeated_twice, { mode: this.padding_mode });
      return conv2d(padded, this.weight, this.bias, this.stride, 0, this.dilation, this.groups);
    }
    return conv2d(input, this.weight, this.bias, this.stride, this.padding as number[], this.dilation, this.groups);
  }
}

/** Transposed convolution ("deconvolution") over (N, C, H, W) or (C, H, W) input. */
export class ConvTranspose2d extends _ConvNd {
  constructor(in_channels: number, out_channels: number, kernel_size: number | number[], ...rest: ConvTransposeRest) {
    const a = convTranspose2dArgs([in_channels, out_channels, kernel_size, ...rest]);
    if (a.padding_mode !== 'zeros') throw valueError(`Only "zeros" padding mode is supported for ConvTranspose2d`);
    super(2, a as never, true);
  }

  /** `forward(input, output_size?)`: output_size picks among the sizes a strided transpose can give. */
  override forward(input: Tensor, output_size: number[] | null = null): Tensor {
    const outputPadding = this._output_padding(input, output_size, 2);
    return conv_transpose2d(input, this.weight, this.bias, this.stride, this.padding as number[], outputPadding, this.groups, this.dilation);
  }

  /** Python's _output_padding: the extra size that reaches output_size, checked against the valid range. */
  private _output_padding(input: Tensor, output_size: number[] | null, n: number): number[] {
    if (output_size === null) return this.output_padding;
    const nonSpatial = input.dim() === n + 2 ? 2 : 1;
    let size = output_size;
    if (size.length === nonSpatial + n) size = size.slice(nonSpatial);
    if (size.length !== n) {
      throw valueError(`ConvTranspose${n}D: for ${input.dim()}D input, output_size must have ${n} or ${nonSpatial + n} elements (got ${output_size.length})`);
    }
    const padding = this.padding as number[];
    const min: number[] = [];
    const max: number[] = [];
    for (let d = 0; d < n; d++) {
      min.push((input.size(d + nonSpatial) - 1) * this.stride[d]! - 2 * padding[d]! + this.dilation[d]! * (this.kernel_size[d]! - 1) + 1);
      max.push(min[d]! + this.stride[d]! - 1);
    }
    size.forEach((s, i) => {
      if (s < min[i]! || s > max[i]!) {
        throw valueError(
          `requested an output size of [${size.join(', ')}], but valid sizes range from [${min.join(', ')}] to [${max.join(', ')}] (for an input of torch.Size([${input.shape.slice(nonSpatial).join(', ')}]))`,
        );
      }
    });
    return size.map((s, d) => s - min[d]!);
  }
}
