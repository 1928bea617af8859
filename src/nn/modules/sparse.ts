/** torch.nn.Embedding (torch/nn/modules/sparse.py). */
import { Tensor } from '../../tensor/tensor.js';
import { embedding } from '../../generated/nn_functional.js';
import { no_grad } from '../../autograd/grad_mode.js';
import { ArgumentError } from '../../errors.js';
import { Module } from '../module.js';
import { Parameter, emptyParameter } from '../parameter.js';
import * as init from '../init.js';
import { binder, type PyRest } from '../args.js';
import type { FactoryOptions } from './linear.js';
import { boolRepr, floatRepr } from './repr.js';

export interface EmbeddingOptions extends FactoryOptions {
  padding_idx: number | null;
  max_norm: number | null;
  norm_type: number;
  scale_grad_by_freq: boolean;
  sparse: boolean;
  _weight: Tensor | null;
  _freeze: boolean;
}
const embeddingArgs = binder<{ num_embeddings: number; embedding_dim: number } & EmbeddingOptions>(
  'Embedding(int num_embeddings, int embedding_dim, int? padding_idx=None, float? max_norm=None, float norm_type=2.0, bool scale_grad_by_freq=False, bool sparse=False, Tensor? _weight=None, bool _freeze=False, device? device=None, dtype? dtype=None)',
);

/** A lookup table of num_embeddings vectors of size embedding_dim, initialised N(0, 1). */
export class Embedding extends Module {
  num_embeddings: number;
  embedding_dim: number;
  padding_idx: number | null;
  max_norm: number | null;
  norm_type: number;
  scale_grad_by_freq: boolean;
  weight: Parameter;
  sparse: boolean;

  constructor(
    num_embeddings: number,
    embedding_dim: number,
    ...rest: PyRest<EmbeddingOptions, ['padding_idx', 'max_norm', 'norm_type', 'scale_grad_by_freq', 'sparse', '_weight', '_freeze', 'device', 'dtype']>
  ) {
    super();
    const a = embeddingArgs([num_embeddings, embedding_dim, ...rest]);
    this.num_embeddings = a.num_embeddings;
    this.embedding_dim = a.embedding_dim;
    let padding = a.padding_idx;
    if (padding !== null) {
      if (padding >= a.num_embeddings || padding < -a.num_embeddings) throw new ArgumentError('Padding_idx must be within num_embeddings');
      if (padding < 0) padding += a.num_embeddings;
    }
    this.padding_idx = padding;
    this.max_norm = a.max_norm;
    this.norm_type = a.norm_type;
    this.scale_grad_by_freq = a.scale_grad_by_freq;
    if (a._weight === null) {
      this.weight = emptyParameter([a.num_embeddings, a.embedding_dim], { device: a.device, dtype: a.dtype });
      if (a._freeze) this.weight.requires_grad_(false);
      this.reset_parameters();
    } else {
      const shape = a._weight.shape;
      if (shape.length !== 2 || shape[0] !== a.num_embeddings || shape[1] !== a.embedding_dim) {
        throw new ArgumentError('Shape of weight does not match num_embeddings and embedding_dim');
      }
      this.weight = new Parameter(a._weight, !a._freeze);
    }
    this.sparse = a.sparse;
  }

  /** Python's Embedding.from_pretrained(embeddings, freeze=True, padding_idx=None, ...). */
  static from_pretrained(
    embeddings: Tensor,
    ...rest: PyRest<{ freeze: boolean; padding_idx: number | null; max_norm: number | null; norm_type: number; scale_grad_by_freq: boolean; sparse: boolean }, ['freeze', 'padding_idx', 'max_norm', 'norm_type', 'scale_grad_by_freq', 'sparse']>
  ): Embedding {
    const a = pretrainedArgs([embeddings, ...rest]);
    if (a.embeddings.dim() !== 2) throw new ArgumentError('Embeddings parameter is expected to be 2-dimensional');
    const [rows, cols] = a.embeddings.shape as [number, number];
    return new Embedding(rows, cols, {
      _weight: a.embeddings,
      _freeze: a.freeze,
      padding_idx: a.padding_idx,
      max_norm: a.max_norm,
      norm_type: a.norm_type,
      scale_grad_by_freq: a.scale_grad_by_freq,
      sparse: a.sparse,
    });
  }

  reset_parameters(): void {
    init.normal_(this.weight);
    this._fill_padding_idx_with_zero();
  }

  _fill_padding_idx_with_zero(): void {
    if (this.padding_idx === null) return;
    // Python: weight[padding_idx].fill_(0) under no_grad; zeros_ runs in the runtime the same way
    const row = no_grad(() => this.weight.select(0, this.padding_idx!));
    init.zeros_(row);
    row.dispose();
  }

  override forward(input: Tensor): Tensor {
    return embedding(input, this.weight, this.padding_idx, this.max_norm, this.norm_type, this.scale_grad_by_freq, this.sparse);
  }

  override extra_repr(): string {
    let s = `${this.num_embeddings}, ${this.embedding_dim}`;
    if (this.padding_idx !== null) s += `, padding_idx=${this.padding_idx}`;
    if (this.max_norm !== null) s += `, max_norm=${floatRepr(this.max_norm)}`;
    if (this.norm_type !== 2) s += `, norm_type=${floatRepr(this.norm_type)}`;
    if (this.scale_grad_by_freq) s += `, scale_grad_by_freq=${boolRepr(true)}`;
    if (this.sparse) s += ', sparse=True';
    return s;
  }
}

const pretrainedArgs = binder<{
  embeddings: Tensor;
  freeze: boolean;
  padding_idx: number | null;
  max_norm: number | null;
  norm_type: number;
  scale_grad_by_freq: boolean;
  sparse: boolean;
}>('Embedding.from_pretrained(Tensor embeddings, bool freeze=True, int? padding_idx=None, float? max_norm=None, float norm_type=2.0, bool scale_grad_by_freq=False, bool sparse=False)');
