/** torch.nn.LayerNorm and GroupNorm (torch/nn/modules/normalization.py). */
import type { Tensor } from '../../tensor/tensor.js';
import { layer_norm, group_norm } from '../../generated/nn_functional.js';
import { TorchError } from '../../errors.js';
import { Module } from '../module.js';
import { emptyParameter, type Parameter } from '../parameter.js';
import * as init from '../init.js';
import { binder, type PyRest } from '../args.js';
import type { FactoryOptions } from './linear.js';
import { boolRepr, floatRepr, tupleRepr } from './repr.js';

export interface LayerNormOptions extends FactoryOptions {
  eps: number;
  elementwise_affine: boolean;
  bias: boolean;
}
const layerNormArgs = binder<{ normalized_shape: number | number[] } & LayerNormOptions>(
  'LayerNorm(int[] normalized_shape, float eps=1e-05, bool elementwise_affine=True, bool bias=True, device? device=None, dtype? dtype=None)',
);

/** Normalisation over the last dimensions (normalized_shape), with an optional affine map. */
export class LayerNorm extends Module {
  normalized_shape: number[];
  eps: number;
  elementwise_affine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(normalized_shape: number | number[], ...rest: PyRest<LayerNormOptions, ['eps', 'elementwise_affine', 'bias', 'device', 'dtype']>) {
    super();
    const a = layerNormArgs([normalized_shape, ...rest]);
    const factory = { device: a.device, dtype: a.dtype };
    this.normalized_shape = typeof a.normalized_shape === 'number' ? [a.normalized_shape] : [...a.normalized_shape];
    this.eps = a.eps;
    this.elementwise_affine = a.elementwise_affine;
    this.weight = a.elementwise_affine ? emptyParameter(this.normalized_shape, factory) : null;
    this.bias = a.elementwise_affine && a.bias ? emptyParameter(this.normalized_shape, factory) : null;
    this.reset_parameters();
  }

  reset_parameters(): void {
    if (this.weight !== null) init.ones_(this.weight);
    if (this.bias !== null) init.zeros_(this.bias);
  }

  override forward(input: Tensor): Tensor {
    return layer_norm(input, this.normalized_shape, this.weight, this.bias, this.eps);
  }

  override extra_repr(): string {
    return `${tupleRepr(this.normalized_shape)}, eps=${floatRepr(this.eps)}, elementwise_affine=${boolRepr(this.elementwise_affine)}`;
  }
}

export interface GroupNormOptions extends FactoryOptions {
  eps: number;
  affine: boolean;
}
const groupNormArgs = binder<{ num_groups: number; num_channels: number } & GroupNormOptions>(
  'GroupNorm(int num_groups, int num_channels, float eps=1e-05, bool affine=True, device? device=None, dtype? dtype=None)',
);

/** Normalisation over groups of channels of (N, C, *) input. */
export class GroupNorm extends Module {
  num_groups: number;
  num_channels: number;
  eps: number;
  affine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(num_groups: number, num_channels: number, ...rest: PyRest<GroupNormOptions, ['eps', 'affine', 'device', 'dtype']>) {
    super();
    const a = groupNormArgs([num_groups, num_channels, ...rest]);
    if (a.num_channels % a.num_groups !== 0) throw new TorchError({ type: 'ValueError', message: 'num_channels must be divisible by num_groups' });
    const factory = { device: a.device, dtype: a.dtype };
    this.num_groups = a.num_groups;
    this.num_channels = a.num_channels;
    this.eps = a.eps;
    this.affine = a.affine;
    this.weight = a.affine ? emptyParameter([a.num_channels], factory) : null;
    this.bias = a.affine ? emptyParameter([a.num_channels], factory) : null;
    this.reset_parameters();
  }

  reset_parameters(): void {
    if (this.weight !== null) init.ones_(this.weight);
    if (this.bias !== null) init.zeros_(this.bias);
  }

  override forward(input: Tensor): Tensor {
    return group_norm(input, this.num_groups, this.weight, this.bias, this.eps);
  }

  override extra_repr(): string {
    return `${this.num_groups}, ${this.num_channels}, eps=${floatRepr(this.eps)}, affine=${boolRepr(this.affine)}`;
  }
}
