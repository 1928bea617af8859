/**
 * torch.nn.TransformerEncoderLayer and torch.nn.TransformerEncoder (torch/nn/modules/transformer.py),
 * composed in TS from MultiheadAttention, Linear, Dropout, LayerNorm and the activation exactly
 * as Python's standard path does. Python switches to fused kernels (the "fast path", and nested
 * tensors in the encoder) only for inference without grad; TS always takes the standard path,
 * which computes the same function (to float rounding).
 */
import { Tensor } from '../../tensor/tensor.js';
import type { DType } from '../../tensor/dtype.js';
import { relu, gelu } from '../../generated/nn_functional.js';
import { torchError } from '../../errors.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { Linear } from './linear.js';
import { Dropout } from './dropout.js';
import { LayerNorm } from './normalization.js';
import { ModuleList } from './container.js';
import { MultiheadAttention } from './multihead_attention.js';
import { binder, type PyRest } from '../args.js';

/** 'relu', 'gelu', a function of a tensor, or a module such as nn.GELU(). */
export type Activation = 'relu' | 'gelu' | ((x: Tensor) => Tensor) | Module;

export interface TransformerEncoderLayerOptions {
  dim_feedforward: number;
  dropout: number;
  activation: Activation;
  layer_norm_eps: number;
  batch_first: boolean;
  norm_first: boolean;
  bias: boolean;
  device: string | null;
  dtype: DType | null;
}
const layerArgs = binder<{ d_model: number; nhead: number } & TransformerEncoderLayerOptions>(
  "TransformerEncoderLayer(int d_model, int nhead, int dim_feedforward=2048, float dropout=0.1, any activation='relu', " +
    'float layer_norm_eps=1e-5, bool batch_first=False, bool norm_first=False, bool bias=True, device? device=None, dtype? dtype=None)',
);

export interface EncoderLayerForwardOptions {
  src_mask: Tensor | null;
  src_key_padding_mask: Tensor | null;
  is_causal: boolean;
}
const layerForwardArgs = binder<{ src: Tensor } & EncoderLayerForwardOptions>(
  'forward(Tensor src, Tensor? src_mask=None, Tensor? src_key_padding_mask=None, bool is_causal=False)',
);

/** Python's _get_activation_fn accepts these names; functions and modules are called as given. */
function checkActivation(activation: unknown): Activation {
  if (activation === 'relu' || activation === 'gelu' || activation instanceof Module || typeof activation === 'function') return activation as Activation;
  throw torchError('RuntimeError', `activation should be relu/gelu, not ${String(activation)}`, 'nn.TransformerEncoderLayer');
}

function activate(activation: Activation, x: Tensor): Tensor {
  if (activation === 'relu') return relu(x);
  if (activation === 'gelu') return gelu(x);
  if (activation instanceof Module) return activation.forward(x) as Tensor;
  return activation(x);
}

/** Self-attention and a feed-forward block, each with a residual connection and LayerNorm. */
export class TransformerEncoderLayer extends Module {
  self_attn: MultiheadAttention;
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  norm_first: boolean;
  norm1: LayerNorm;
  norm2: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;
  /** 1 relu, 2 gelu, 0 anything else (Python uses it to pick its fused kernel) */
  activation_relu_or_gelu: number;
  /** the activation as given: a Module given here is a child, as in Python */
  activation: Activation;

  constructor(d_model: number, nhead: number, ...rest: PyRest<TransformerEncoderLayerOptions, ['dim_feedforward', 'dropout', 'activation', 'layer_norm_eps', 'batch_first', 'norm_first', 'bias', 'device', 'dtype']>) {
    super();
    const a = layerArgs([d_model, nhead, ...rest]);
    const factory = { device: a.device, dtype: a.dtype };
    // construction order is Python's: it fixes the random stream and the state_dict order
    this.self_attn = new MultiheadAttention(a.d_model, a.nhead, { dropout: a.dropout, bias: a.bias, batch_first: a.batch_first, ...factory });
    this.linear1 = new Linear(a.d_model, a.dim_feedforward, { bias: a.bias, ...factory });
    this.dropout = new Dropout(a.dropout);
    this.linear2 = new Linear(a.dim_feedforward, a.d_model, { bias: a.bias, ...factory });
    this.norm_first = a.norm_first;
    this.norm1 = new LayerNorm(a.d_model, { eps: a.layer_norm_eps, bias: a.bias, ...factory });
    this.norm2 = new LayerNorm(a.d_model, { eps: a.layer_norm_eps, bias: a.bias, ...factory });
    this.dropout1 = new Dropout(a.dropout);
    this.dropout2 = new Dropout(a.dropout);
    checkActivation(a.activation);
    const name = a.activation instanceof Module ? a.activation.constructor.name : a.activation;
    this.activation_relu_or_gelu = name === 'relu' || name === 'ReLU' ? 1 : name === 'gelu' || name === 'GELU' ? 2 : 0;
    this.activation = a.activation;
  }

  /** `forward(src, src_mask?, src_key_padding_mask?, is_causal?)` (or keywords), as Python's standard path. */
  override forward(src: Tensor, ...rest: PyRest<EncoderLayerForwardOptions, ['src_mask', 'src_key_padding_mask', 'is_causal']>): Tensor {
    const a = layerForwardArgs([src, ...rest]);
    let x = a.src;
    if (this.norm_first) {
      x = x.add(this._sa_block(this.norm1.forward(x), a.src_mask, a.src_key_padding_mask, a.is_causal));
      x = x.add(this._ff_block(this.norm2.forward(x)));
    } else {
      x = this.norm1.forward(x.add(this._sa_block(x, a.src_mask, a.src_key_padding_mask, a.is_causal)));
      x = this.norm2.forward(x.add(this._ff_block(x)));
    }
    return x;
  }

  _sa_block(x: Tensor, attn_mask: Tensor | null, key_padding_mask: Tensor | null, is_causal: boolean): Tensor {
    const [out] = this.self_attn.forward(x, x, x, { attn_mask, key_padding_mask, need_weights: false, is_causal });
    return this.dropout1.forward(out);
  }

  _ff_block(x: Tensor): Tensor {
    return this.dropout2.forward(this.linear2.forward(this.dropout.forward(activate(this.activation, this.linear1.forward(x)))));
  }
}

export interface TransformerEncoderOptions {
  norm: Module | null;
  enable_nested_tensor: boolean;
  mask_check: boolean;
}
const encoderArgs = binder<{ encoder_layer: TransformerEncoderLayer; num_layers: number } & TransformerEncoderOptions>(
  'TransformerEncoder(any encoder_layer, int num_layers, any norm=None, bool enable_nested_tensor=True, bool mask_check=True)',
);

export interface EncoderForwardOptions {
  mask: Tensor | null;
  src_key_padding_mask: Tensor | null;
  is_causal: boolean | null;
}
const encoderForwardArgs = binder<{ src: Tensor } & EncoderForwardOptions>(
  'forward(Tensor src, Tensor? mask=None, Tensor? src_key_padding_mask=None, bool? is_causal=None)',
);

/**
 * A stack of num_layers copies of encoder_layer, then an optional norm. Python deep-copies the
 * layer, so every copy starts from the same weights; so does TS. enable_nested_tensor is kept
 * for parity but has no effect (TS never takes the nested-tensor fast path).
 */
export class TransformerEncoder extends Module {
  layers: ModuleList;
  num_layers: number;
  norm: Module | null;
  enable_nested_tensor: boolean;
  use_nested_tensor = false;
  mask_check: boolean;

  constructor(encoder_layer: TransformerEncoderLayer, num_layers: number, ...rest: PyRest<TransformerEncoderOptions, ['norm', 'enable_nested_tensor', 'mask_check']>) {
    super();
    const a = encoderArgs([encoder_layer, num_layers, ...rest]);
    if (!(a.encoder_layer instanceof Module)) throw torchError('TypeError', 'encoder_layer must be an nn.Module', 'nn.TransformerEncoder');
    this.layers = new ModuleList(Array.from({ length: a.num_layers }, () => deepcopy(a.encoder_layer)));
    this.num_layers = a.num_layers;
    this.norm = a.norm;
    this.enable_nested_tensor = a.enable_nested_tensor;
    this.mask_check = a.mask_check;
  }

  /**
   * `forward(src, mask?, src_key_padding_mask?, is_causal?)`. Python's is_causal=None looks at the
   * mask's values to detect a causal one (a sync point); TS passes the mask as given instead,
   * which computes the same attention.
   */
  override forward(src: Tensor, ...rest: PyRest<EncoderForwardOptions, ['mask', 'src_key_padding_mask', 'is_causal']>): Tensor {
    const a = encoderForwardArgs([src, ...rest]);
    let output = a.src;
    for (const layer of this.layers.children() as TransformerEncoderLayer[]) {
      output = layer.forward(output, { src_mask: a.mask, is_causal: a.is_causal ?? false, src_key_padding_mask: a.src_key_padding_mask });
    }
    if (this.norm !== null) output = this.norm.forward(output) as Tensor;
    return output;
  }
}

/**
 * Python's copy.deepcopy of a module: the same classes and settings, fresh copies of every
 * parameter (same values, same requires_grad) and buffer; shared members stay shared.
 */
function deepcopy<T>(value: T, memo = new Map<unknown, unknown>()): T {
  if (value === null || typeof value !== 'object') return value; // primitives, functions
  if (memo.has(value)) return memo.get(value) as T;
  if (value instanceof Parameter) {
    const copy = new Parameter(value.detach().clone(), value.requires_grad);
    memo.set(value, copy);
    return copy as T;
  }
  if (value instanceof Tensor) {
    const copy = value.detach().clone();
    memo.set(value, copy);
    return copy as T;
  }
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    memo.set(value, copy);
    for (const v of value) copy.push(deepcopy(v, memo));
    return copy as T;
  }
  if (value instanceof Map) {
    const copy = new Map();
    memo.set(value, copy);
    for (const [k, v] of value) copy.set(k, deepcopy(v, memo));
    return copy as T;
  }
  if (value instanceof Set) {
    const copy = new Set();
    memo.set(value, copy);
    for (const v of value) copy.add(deepcopy(v, memo));
    return copy as T;
  }
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto !== Object.prototype && proto !== null && !(value instanceof Module)) return value; // dtypes and other immutable helpers
  const copy = Object.create(proto) as Record<string, unknown>;
  memo.set(value, copy);
  for (const [k, v] of Object.entries(value as object)) copy[k] = deepcopy(v, memo);
  return copy as T;
}
