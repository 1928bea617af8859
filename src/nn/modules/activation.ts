/** Activation modules (torch/nn/modules/activation.py): thin wrappers over torch.nn.functional. */
import type { Tensor } from '../../tensor/tensor.js';
import { relu, gelu, silu, leaky_relu, softmax, log_softmax } from '../../generated/nn_functional.js';
import { tanh, sigmoid } from '../../generated/torch.js';
import { TorchError } from '../../errors.js';
import { Module } from '../module.js';
import { binder, type PyRest } from '../args.js';
import { floatRepr } from './repr.js';

const inplaceArgs = (name: string) => binder<{ inplace: boolean }>(`${name}(bool inplace=False)`);
const reluArgs = inplaceArgs('ReLU');
const siluArgs = inplaceArgs('SiLU');

export class ReLU extends Module {
  inplace: boolean;
  constructor(...args: PyRest<{ inplace: boolean }, ['inplace']>) {
    super();
    this.inplace = reluArgs(args).inplace;
  }
  override forward(input: Tensor): Tensor {
    return relu(input, this.inplace);
  }
  override extra_repr(): string {
    return this.inplace ? 'inplace=True' : '';
  }
}

const geluArgs = binder<{ approximate: string }>("GELU(str approximate='none')");

export class GELU extends Module {
  approximate: string;
  constructor(...args: PyRest<{ approximate: 'none' | 'tanh' }, ['approximate']>) {
    super();
    this.approximate = geluArgs(args).approximate;
    if (this.approximate !== 'none' && this.approximate !== 'tanh') {
      throw new TorchError({ type: 'RuntimeError', message: `approximate argument must be either none or tanh.` });
    }
  }
  override forward(input: Tensor): Tensor {
    return gelu(input, { approximate: this.approximate });
  }
  override extra_repr(): string {
    return `approximate='${this.approximate}'`;
  }
}

export class SiLU extends Module {
  inplace: boolean;
  constructor(...args: PyRest<{ inplace: boolean }, ['inplace']>) {
    super();
    this.inplace = siluArgs(args).inplace;
  }
  override forward(input: Tensor): Tensor {
    return silu(input, this.inplace);
  }
  override extra_repr(): string {
    return this.inplace ? 'inplace=True' : '';
  }
}

export class Tanh extends Module {
  override forward(input: Tensor): Tensor {
    return tanh(input);
  }
}

export class Sigmoid extends Module {
  override forward(input: Tensor): Tensor {
    return sigmoid(input);
  }
}

const leakyArgs = binder<{ negative_slope: number; inplace: boolean }>('LeakyReLU(float negative_slope=0.01, bool inplace=False)');

export class LeakyReLU extends Module {
  negative_slope: number;
  inplace: boolean;
  constructor(...args: PyRest<{ negative_slope: number; inplace: boolean }, ['negative_slope', 'inplace']>) {
    super();
    const a = leakyArgs(args);
    this.negative_slope = a.negative_slope;
    this.inplace = a.inplace;
  }
  override forward(input: Tensor): Tensor {
    return leaky_relu(input, this.negative_slope, this.inplace);
  }
  override extra_repr(): string {
    return `negative_slope=${floatRepr(this.negative_slope)}${this.inplace ? ', inplace=True' : ''}`;
  }
}

const softmaxArgs = (name: string) => binder<{ dim: number | null }>(`${name}(int? dim=None)`);
const softmaxBind = softmaxArgs('Softmax');
const logSoftmaxBind = softmaxArgs('LogSoftmax');

/** Softmax over dim (dim=None picks torch's legacy implicit dimension, with its warning). */
export class Softmax extends Module {
  dim: number | null;
  constructor(...args: PyRest<{ dim: number | null }, ['dim']>) {
    super();
    this.dim = softmaxBind(args).dim;
  }
  override forward(input: Tensor): Tensor {
    return softmax(input, this.dim, { _stacklevel: 5 });
  }
  override extra_repr(): string {
    return `dim=${this.dim === null ? 'None' : this.dim}`;
  }
}

export class LogSoftmax extends Module {
  dim: number | null;
  constructor(...args: PyRest<{ dim: number | null }, ['dim']>) {
    super();
    this.dim = logSoftmaxBind(args).dim;
  }
  override forward(input: Tensor): Tensor {
    return log_softmax(input, this.dim, { _stacklevel: 5 });
  }
  override extra_repr(): string {
    return `dim=${this.dim === null ? 'None' : this.dim}`;
  }
}
