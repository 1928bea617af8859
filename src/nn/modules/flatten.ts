/** torch.nn.Flatten and Unflatten (torch/nn/modules/flatten.py). */
import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { binder, type PyRest } from '../args.js';
import { tupleRepr } from './repr.js';

const flattenArgs = binder<{ start_dim: number; end_dim: number }>('Flatten(int start_dim=1, int end_dim=-1)');

/** Flattens dimensions start_dim..end_dim into one (by default all but the batch dimension). */
export class Flatten extends Module {
  start_dim: number;
  end_dim: number;

  constructor(...args: PyRest<{ start_dim: number; end_dim: number }, ['start_dim', 'end_dim']>) {
    super();
    const a = flattenArgs(args);
    this.start_dim = a.start_dim;
    this.end_dim = a.end_dim;
  }

  override forward(input: Tensor): Tensor {
    return input.flatten(this.start_dim, this.end_dim);
  }

  override extra_repr(): string {
    return `start_dim=${this.start_dim}, end_dim=${this.end_dim}`;
  }
}

const unflattenArgs = binder<{ dim: number; unflattened_size: number[] }>('Unflatten(int dim, int[] unflattened_size)');

/** Expands dimension dim into unflattened_size. */
export class Unflatten extends Module {
  dim: number;
  unflattened_size: number[];

  constructor(dim: number, unflattened_size: number[]) {
    super();
    const a = unflattenArgs([dim, unflattened_size]);
    this.dim = a.dim;
    this.unflattened_size = [...a.unflattened_size];
  }

  override forward(input: Tensor): Tensor {
    return input.unflatten(this.dim, this.unflattened_size);
  }

  override extra_repr(): string {
    return `dim=${this.dim}, unflattened_size=${tupleRepr(this.unflattened_size)}`;
  }
}
