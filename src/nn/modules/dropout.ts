/** torch.nn.Dropout (torch/nn/modules/dropout.py). */
import type { Tensor } from '../../tensor/tensor.js';
import { dropout } from '../../generated/nn_functional.js';
import { TorchError } from '../../errors.js';
import { Module } from '../module.js';
import { binder, type PyRest } from '../args.js';
import { boolRepr, floatRepr } from './repr.js';

const dropoutArgs = binder<{ p: number; inplace: boolean }>('Dropout(float p=0.5, bool inplace=False)');

/** Zeroes elements with probability p in training mode (scaling the rest by 1/(1-p)); identity in eval. */
export class Dropout extends Module {
  p: number;
  inplace: boolean;

  constructor(...args: PyRest<{ p: number; inplace: boolean }, ['p', 'inplace']>) {
    super();
    const a = dropoutArgs(args);
    if (a.p < 0 || a.p > 1) throw new TorchError({ type: 'ValueError', message: `dropout probability has to be between 0 and 1, but got ${a.p}` });
    this.p = a.p;
    this.inplace = a.inplace;
  }

  override forward(input: Tensor): Tensor {
    return dropout(input, this.p, this.training, this.inplace);
  }

  override extra_repr(): string {
    return `p=${floatRepr(this.p)}, inplace=${boolRepr(this.inplace)}`;
  }
}
