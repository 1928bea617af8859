/**
 * torch.nn.MultiheadAttention (torch/nn/modules/activation.py). Parameters are created and
 * initialised in Python's order; the forward pass runs torch's own
 * torch.nn.functional.multi_head_attention_forward in the runtime (Python's standard path; the
 * inference-only fused fast path is not taken, so results equal those of a training-mode or
 * grad-enabled Python module). That function returns a tuple whose second item is None when
 * need_weights is false: the tuple stays in the runtime and its tensors are taken out one by
 * one (tb.select), with metadata the mirror predicts here.
 */
import { Tensor, newTensor } from '../../tensor/tensor.js';
import type { DType } from '../../tensor/dtype.js';
import type { TensorMeta } from '../../tensor/meta.js';
import { pendingCall, strictCheck } from '../../ops/dispatch.js';
import { is_grad_enabled } from '../../autograd/grad_mode.js';
import { link } from '../../autograd/graph.js';
import { pyCall, type PyObject } from '../../py/object.js';
import { torchError } from '../../errors.js';
import { Module } from '../module.js';
import { emptyParameter, type Parameter } from '../parameter.js';
import { Linear } from './linear.js';
import * as init from '../init.js';
import { binder, type PyRest } from '../args.js';
import { HELPER } from '../../transport/protocol.js';

export interface MultiheadAttentionOptions {
  dropout: number;
  bias: boolean;
  add_bias_kv: boolean;
  add_zero_attn: boolean;
  kdim: number | null;
  vdim: number | null;
  batch_first: boolean;
  device: string | null;
  dtype: DType | null;
}
const mhaArgs = binder<{ embed_dim: number; num_heads: number } & MultiheadAttentionOptions>(
  'MultiheadAttention(int embed_dim, int num_heads, float dropout=0.0, bool bias=True, bool add_bias_kv=False, ' +
    'bool add_zero_attn=False, int? kdim=None, int? vdim=None, bool batch_first=False, device? device=None, dtype? dtype=None)',
);

export interface MultiheadAttentionForwardOptions {
  key_padding_mask: Tensor | null;
  need_weights: boolean;
  attn_mask: Tensor | null;
  average_attn_weights: boolean;
  is_causal: boolean;
}
const forwardArgs = binder<{ query: Tensor; key: Tensor; value: Tensor } & MultiheadAttentionForwardOptions>(
  'forward(Tensor query, Tensor key, Tensor value, Tensor? key_padding_mask=None, bool need_weights=True, ' +
    'Tensor? attn_mask=None, bool average_attn_weights=True, bool is_causal=False)',
);

const OP = 'nn.functional.multi_head_attention_forward';

/** Attention over num_heads heads: `new nn.MultiheadAttention(embed_dim, num_heads, {batch_first: true})`. */
export class MultiheadAttention extends Module {
  embed_dim: number;
  kdim: number;
  vdim: number;
  _qkv_same_embed_dim: boolean;
  num_heads: number;
  dropout: number;
  batch_first: boolean;
  head_dim: number;
  // parameters in Python's registration order (null: Python's register_parameter(name, None))
  in_proj_weight: Parameter | null = null;
  q_proj_weight: Parameter | null = null;
  k_proj_weight: Parameter | null = null;
  v_proj_weight: Parameter | null = null;
  in_proj_bias: Parameter | null = null;
  out_proj: Linear;
  bias_k: Parameter | null = null;
  bias_v: Parameter | null = null;
  add_zero_attn: boolean;

  constructor(embed_dim: number, num_heads: number, ...rest: PyRest<MultiheadAttentionOptions, ['dropout', 'bias', 'add_bias_kv', 'add_zero_attn', 'kdim', 'vdim', 'batch_first', 'device', 'dtype']>) {
    super();
    const a = mhaArgs([embed_dim, num_heads, ...rest]);
    if (a.embed_dim <= 0 || a.num_heads <= 0) {
      throw torchError('ValueError', `embed_dim and num_heads must be greater than 0, got embed_dim=${a.embed_dim} and num_heads=${a.num_heads} instead`, 'nn.MultiheadAttention');
    }
    const factory = { device: a.device, dtype: a.dtype };
    this.embed_dim = a.embed_dim;
    this.kdim = a.kdim ?? a.embed_dim;
    this.vdim = a.vdim ?? a.embed_dim;
    this._qkv_same_embed_dim = this.kdim === a.embed_dim && this.vdim === a.embed_dim;
    this.num_heads = a.num_heads;
    this.dropout = a.dropout;
    this.batch_first = a.batch_first;
    this.head_dim = Math.floor(a.embed_dim / a.num_heads);
    if (this.head_dim * a.num_heads !== a.embed_dim) throw torchError('AssertionError', 'embed_dim must be divisible by num_heads', 'nn.MultiheadAttention');
    // torch.empty consumes no random numbers: only out_proj's construction and the resets below do
    if (!this._qkv_same_embed_dim) {
      this.q_proj_weight = emptyParameter([a.embed_dim, a.embed_dim], factory);
      this.k_proj_weight = emptyParameter([a.embed_dim, this.kdim], factory);
      this.v_proj_weight = emptyParameter([a.embed_dim, this.vdim], factory);
    } else {
      this.in_proj_weight = emptyParameter([3 * a.embed_dim, a.embed_dim], factory);
    }
    if (a.bias) this.in_proj_bias = emptyParameter([3 * a.embed_dim], factory);
    this.out_proj = new Linear(a.embed_dim, a.embed_dim, { bias: a.bias, ...factory });
    if (a.add_bias_kv) {
      this.bias_k = emptyParameter([1, 1, a.embed_dim], factory);
      this.bias_v = emptyParameter([1, 1, a.embed_dim], factory);
    }
    this.add_zero_attn = a.add_zero_attn;
    this._reset_parameters();
  }

  _reset_parameters(): void {
    if (this._qkv_same_embed_dim) init.xavier_uniform_(this.in_proj_weight!);
    else {
      init.xavier_uniform_(this.q_proj_weight!);
      init.xavier_uniform_(this.k_proj_weight!);
      init.xavier_uniform_(this.v_proj_weight!);
    }
    if (this.in_proj_bias !== null) {
      init.constant_(this.in_proj_bias, 0.0);
      init.constant_(this.out_proj.bias!, 0.0);
    }
    if (this.bias_k !== null) init.xavier_normal_(this.bias_k);
    if (this.bias_v !== null) init.xavier_normal_(this.bias_v);
  }

  /**
   * `forward(query, key, value, key_padding_mask?, need_weights?, attn_mask?, average_attn_weights?, is_causal?)`
   * (or keywords) → [attn_output, attn_output_weights or null], as Python's tuple.
   */
  override forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    ...rest: PyRest<MultiheadAttentionForwardOptions, ['key_padding_mask', 'need_weights', 'attn_mask', 'average_attn_weights', 'is_causal']>
  ): [Tensor, Tensor | null] {
    const a = forwardArgs([query, key, value, ...rest]);
    let [q, k, v] = [a.query, a.key, a.value];
    const batched = q.dim() === 3;
    this.checkShapes(q, k, v);
    if (this.batch_first && batched) {
      // Python keeps q, k, v the same tensor when they were (self-attention)
      const qt = q.transpose(1, 0);
      const kt = k === q ? qt : k.transpose(1, 0);
      const vt = v === k ? kt : v === q ? qt : v.transpose(1, 0);
      [q, k, v] = [qt, kt, vt];
    }
    const separate = !this._qkv_same_embed_dim;
    const kwargs: Record<string, unknown> = {
      training: this.training,
      key_padding_mask: a.key_padding_mask,
      need_weights: a.need_weights,
      attn_mask: a.attn_mask,
      average_attn_weights: a.average_attn_weights,
      is_causal: a.is_causal,
    };
    if (separate) Object.assign(kwargs, { use_separate_proj_weight: true, q_proj_weight: this.q_proj_weight, k_proj_weight: this.k_proj_weight, v_proj_weight: this.v_proj_weight });
    const args = [q, k, v, this.embed_dim, this.num_heads, this.in_proj_weight, this.in_proj_bias, this.bias_k, this.bias_v, this.add_zero_attn, this.dropout, this.out_proj.weight, this.out_proj.bias];
    const tuple = pyCall(OP, args, kwargs);

    const inputs = [q, k, v, this.in_proj_weight, this.in_proj_bias, this.bias_k, this.bias_v, this.out_proj.weight, this.out_proj.bias, this.q_proj_weight, this.k_proj_weight, this.v_proj_weight, a.attn_mask, a.key_padding_mask].filter((t): t is Tensor => t instanceof Tensor);
    // the weights come from the scores: query, key, their projections and the masks
    const scoreInputs = [q, k, this.in_proj_weight, this.in_proj_bias, this.bias_k, this.q_proj_weight, this.k_proj_weight, a.attn_mask, a.key_padding_mask].filter((t): t is Tensor => t instanceof Tensor);
    const known = inputs.every((t) => t._m !== undefined);

    let output = select(tuple, 0, inputs, known ? this.outputMeta(q, inputs, batched) : undefined);
    let weights: Tensor | null = null;
    if (a.need_weights) weights = select(tuple, 1, scoreInputs, known ? this.weightsMeta(q, k, scoreInputs, batched, a.average_attn_weights) : undefined);
    tuple.dispose();
    if (this.batch_first && batched) output = output.transpose(1, 0);
    return [output, weights];
  }

  /** The checks Python's _mha_shape_check and the embedding assertion make, at the call site. */
  private checkShapes(q: Tensor, k: Tensor, v: Tensor): void {
    if (q._m === undefined || k._m === undefined || v._m === undefined) return; // pending: the runtime checks
    const n = q.dim();
    const op = 'nn.MultiheadAttention';
    if (n === 3) {
      if (k.dim() !== 3 || v.dim() !== 3) {
        throw torchError('AssertionError', `For batched (3-D) \`query\`, expected \`key\` and \`value\` to be 3-D but found ${k.dim()}-D and ${v.dim()}-D tensors respectively`, op);
      }
    } else if (n === 2) {
      if (k.dim() !== 2 || v.dim() !== 2) {
        throw torchError('AssertionError', `For unbatched (2-D) \`query\`, expected \`key\` and \`value\` to be 2-D but found ${k.dim()}-D and ${v.dim()}-D tensors respectively`, op);
      }
    } else {
      throw torchError('AssertionError', `query should be unbatched 2D or batched 3D tensor but received ${n}-D query tensor`, op);
    }
    if (q.size(-1) !== this.embed_dim) throw torchError('AssertionError', `was expecting embedding dimension of ${this.embed_dim}, but got ${q.size(-1)}`, op);
  }

  /** attn_output: the (sequence-first) query's shape; unbatched results are squeezed. */
  private outputMeta(q: Tensor, inputs: Tensor[], batched: boolean): TensorMeta {
    return resultMeta(q, q.shape, inputs, batched ? 'ViewBackward0' : 'SqueezeBackward1');
  }

  /** attn_output_weights: (N, [heads,] L, S), S counting bias_k and the zero attention column. */
  private weightsMeta(q: Tensor, k: Tensor, inputs: Tensor[], batched: boolean, average: boolean): TensorMeta {
    const tgt = q.size(0);
    const src = k.size(0) + (this.bias_k !== null ? 1 : 0) + (this.add_zero_attn ? 1 : 0);
    const heads = average ? [] : [this.num_heads];
    const shape = batched ? [q.size(1), ...heads, tgt, src] : [...heads, tgt, src];
    return resultMeta(q, shape, inputs, !batched ? 'SqueezeBackward1' : average ? 'MeanBackward1' : 'ViewBackward0');
  }

  override extra_repr(): string {
    return '';
  }
}

/** Metadata of a float result computed from `inputs`, with the autograd node torch records. */
function resultMeta(like: Tensor, shape: readonly number[], inputs: readonly Tensor[], gradFn: string): TensorMeta {
  const requires_grad = is_grad_enabled() && inputs.some((t) => t.requires_grad);
  return { shape, dtype: like.dtype, device: like.device, requires_grad, is_leaf: !requires_grad, grad_fn: requires_grad ? gradFn : null };
}

/**
 * Item `index` of the runtime's tuple as a Tensor: with predicted metadata (checked by the
 * runtime in strict mode), or pending when an input's metadata is not known yet.
 */
function select(tuple: PyObject, index: number, inputs: readonly Tensor[], meta: TensorMeta | undefined): Tensor {
  const s = tuple._s;
  let out: Tensor;
  if (meta === undefined) out = pendingCall(s, HELPER.select, [tuple, index], undefined, 1)[0]!;
  else {
    out = newTensor(s, meta, OP);
    s.call(out.id, HELPER.select, [tuple, index], null, strictCheck(s, [out]), true);
  }
  // the autograd graph: which leaves a backward() from this output reaches
  if (is_grad_enabled()) {
    const recorded = inputs.filter((t) => t._m === undefined || t.requires_grad);
    if (out._m === undefined || out.requires_grad) link(out, recorded);
  }
  return out;
}
