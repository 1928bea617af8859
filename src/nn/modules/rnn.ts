/**
 * torch.nn.RNN, LSTM and GRU (torch/nn/modules/rnn.py). Parameters are created, named and
 * initialised in Python's order, and the forward pass runs torch's own fused kernels
 * (torch.rnn_tanh / rnn_relu / lstm / gru, what Python reaches through torch._VF) with the
 * flat weight list in Python's `_flat_weights` order, so numbers and gradients are torch's.
 * A mirror rule predicts the outputs' metadata, so shapes are known at once.
 * PackedSequence inputs are not supported yet.
 */
import { Tensor } from '../../tensor/tensor.js';
import type { DType } from '../../tensor/dtype.js';
import { zeros } from '../../generated/torch.js';
import { defineOp, invoke, sessionOf, type OpDef, type OutSpec } from '../../ops/dispatch.js';
import { GRAD_FN_FROM_RUNTIME } from '../../tensor/meta.js';
import { torchError } from '../../errors.js';
import { Module } from '../module.js';
import { emptyParameter, type Parameter } from '../parameter.js';
import * as init from '../init.js';
import { binder, type PyRest } from '../args.js';
import { HELPER } from '../../transport/protocol.js';

type Mode = 'RNN_TANH' | 'RNN_RELU' | 'LSTM' | 'GRU';

export interface RNNBaseOptions {
  num_layers: number;
  bias: boolean;
  batch_first: boolean;
  dropout: number;
  bidirectional: boolean;
  proj_size: number;
  device: string | null;
  dtype: DType | null;
}
export type RNNOptions = Omit<RNNBaseOptions, 'proj_size'> & { nonlinearity: 'tanh' | 'relu' };
export type LSTMOptions = RNNBaseOptions;
export type GRUOptions = Omit<RNNBaseOptions, 'proj_size'>;

const COMMON = 'int input_size, int hidden_size, int num_layers=1';
const FLAGS = 'bool bias=True, bool batch_first=False, float dropout=0.0, bool bidirectional=False';
const FACTORY = 'device? device=None, dtype? dtype=None';
type Bound = { input_size: number; hidden_size: number } & RNNBaseOptions & { nonlinearity?: string };
const rnnArgs = binder<Bound>(`RNN(${COMMON}, str nonlinearity='tanh', ${FLAGS}, ${FACTORY})`);
const lstmArgs = binder<Bound>(`LSTM(${COMMON}, ${FLAGS}, int proj_size=0, ${FACTORY})`);
const gruArgs = binder<Bound>(`GRU(${COMMON}, ${FLAGS}, ${FACTORY})`);

/** Python's tuple repr, for torch's messages: (2, 3, 20). */
const tupleRepr = (s: readonly number[]): string => `(${s.join(', ')}${s.length === 1 ? ',' : ''})`;

// -- the fused kernels, with a mirror rule -----------------------------------------------------

const KERNEL_ARGS = 'Tensor[] params, bool has_biases, int num_layers, float dropout, bool train, bool bidirectional, bool batch_first';

/**
 * Outputs of torch.lstm / gru / rnn_*: output (seq-major or batch-major), then the final states,
 * shaped like the initial ones (the module has checked them against the input). When autograd
 * records the call, the node's name depends on the backend torch picks (oneDNN, cuDNN, the
 * native loop: MkldnnRnnLayerBackward0, CatBackward0, StackBackward0...): the runtime's reply
 * names it, and everything else is known at once.
 */
function kernelRule(a: Record<string, unknown>): OutSpec[] {
  const input = a.input as Tensor;
  const states = (Array.isArray(a.hx) ? a.hx : [a.hx]) as Tensor[];
  const directions = a.bidirectional ? 2 : 1;
  const [d0, d1] = input.shape;
  const hiddenOut = states[0]!.shape[2]!;
  // batch_first outputs are transposed views of the kernel's: layout not known
  const like = (shape: readonly number[]): OutSpec => ({ shape, dtype: input.dtype, device: input.device, contiguous: false, grad_fn: GRAD_FN_FROM_RUNTIME });
  return [like([d0!, d1!, directions * hiddenOut]), ...states.map((h) => like(h.shape))];
}

const KERNELS: Record<Mode, OpDef> = {
  RNN_TANH: defineOp(`rnn_tanh(Tensor input, Tensor hx, ${KERNEL_ARGS})`, kernelRule, { mayFail: true, outputs: 2 }),
  RNN_RELU: defineOp(`rnn_relu(Tensor input, Tensor hx, ${KERNEL_ARGS})`, kernelRule, { mayFail: true, outputs: 2 }),
  LSTM: defineOp(`lstm(Tensor input, Tensor[] hx, ${KERNEL_ARGS})`, kernelRule, { mayFail: true, outputs: 3 }),
  GRU: defineOp(`gru(Tensor input, Tensor hx, ${KERNEL_ARGS})`, kernelRule, { mayFail: true, outputs: 2 }),
};

// -- the modules ---------------------------------------------------------------------------------

/** What RNN, LSTM and GRU share: parameters, their initialisation, the argument checks. */
export class RNNBase extends Module {
  mode: Mode;
  input_size: number;
  hidden_size: number;
  num_layers: number;
  bias: boolean;
  batch_first: boolean;
  dropout: number;
  bidirectional: boolean;
  proj_size: number;
  /** Python's _flat_weights_names: the kernels' weight order (w_ih, w_hh, b_ih, b_hh, w_hr per layer and direction). */
  _flat_weights_names: string[] = [];
  /** Python's _all_weights: the names per layer and direction. */
  _all_weights: string[][] = [];

  constructor(mode: Mode, a: Bound) {
    super();
    this.mode = mode;
    this.input_size = a.input_size;
    this.hidden_size = a.hidden_size;
    this.num_layers = a.num_layers;
    this.bias = a.bias;
    this.batch_first = a.batch_first;
    this.dropout = a.dropout;
    this.bidirectional = a.bidirectional;
    this.proj_size = a.proj_size;
    const op = `nn.${mode === 'LSTM' ? 'LSTM' : mode === 'GRU' ? 'GRU' : 'RNN'}`;
    if (!(a.dropout >= 0 && a.dropout <= 1)) {
      throw torchError('ValueError', 'dropout should be a number in range [0, 1] representing the probability of an element being zeroed', op);
    }
    if (a.dropout > 0 && a.num_layers === 1) {
      process.emitWarning(
        'dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects ' +
          `num_layers greater than 1, but got dropout=${a.dropout} and num_layers=${a.num_layers}`,
        'UserWarning',
      );
    }
    if (!Number.isInteger(a.hidden_size)) throw torchError('TypeError', `hidden_size should be of type int, got: ${typeof a.hidden_size}`, op);
    if (a.hidden_size <= 0) throw torchError('ValueError', 'hidden_size must be greater than zero', op);
    if (a.num_layers <= 0) throw torchError('ValueError', 'num_layers must be greater than zero', op);
    if (a.proj_size < 0) throw torchError('ValueError', 'proj_size should be a positive integer or zero to disable projections', op);
    if (a.proj_size >= a.hidden_size) throw torchError('ValueError', 'proj_size has to be smaller than hidden_size', op);

    const gateSize = { LSTM: 4, GRU: 3, RNN_TANH: 1, RNN_RELU: 1 }[mode] * a.hidden_size;
    const directions = a.bidirectional ? 2 : 1;
    const realHidden = a.proj_size > 0 ? a.proj_size : a.hidden_size;
    const factory = { device: a.device, dtype: a.dtype };
    const self = this as unknown as Record<string, Parameter>;
    for (let layer = 0; layer < a.num_layers; layer++) {
      for (let direction = 0; direction < directions; direction++) {
        const layerInput = layer === 0 ? a.input_size : realHidden * directions;
        const suffix = direction === 1 ? '_reverse' : '';
        // name -> shape, in Python's registration order (torch.empty consumes no random numbers)
        const params: [string, number[]][] = [
          [`weight_ih_l${layer}${suffix}`, [gateSize, layerInput]],
          [`weight_hh_l${layer}${suffix}`, [gateSize, realHidden]],
        ];
        if (a.bias) params.push([`bias_ih_l${layer}${suffix}`, [gateSize]], [`bias_hh_l${layer}${suffix}`, [gateSize]]);
        if (a.proj_size > 0) params.push([`weight_hr_l${layer}${suffix}`, [a.proj_size, a.hidden_size]]);
        for (const [name, shape] of params) self[name] = emptyParameter(shape, factory);
        const names = params.map(([n]) => n);
        this._flat_weights_names.push(...names);
        this._all_weights.push(names);
      }
    }
    this.reset_parameters();
  }

  /** The kernels' weights in Python's order, read from the fields (so reassigning one is seen). */
  get _flat_weights(): (Parameter | null)[] {
    const self = this as unknown as Record<string, Parameter | null | undefined>;
    return this._flat_weights_names.map((n) => self[n] ?? null);
  }

  /** Python's all_weights: the parameters per layer and direction. */
  get all_weights(): Parameter[][] {
    const self = this as unknown as Record<string, Parameter>;
    return this._all_weights.map((names) => names.map((n) => self[n]!));
  }

  /** Every parameter from U(-1/√hidden_size, 1/√hidden_size), in parameters() order, as Python. */
  reset_parameters(): void {
    const stdv = this.hidden_size > 0 ? 1.0 / Math.sqrt(this.hidden_size) : 0;
    for (const weight of this.parameters()) init.uniform_(weight, -stdv, stdv);
  }

  /**
   * On CUDA, pack the weights into one buffer as cuDNN wants them (in the runtime, in place:
   * the handles stay valid), or cuDNN rebuilds it at every call. Elsewhere there is nothing to
   * do. Module.to() / cuda() call it, as in Python.
   */
  flatten_parameters(): void {
    const weights = this._flat_weights.filter((w): w is Parameter => w !== null);
    if (weights.length !== this._flat_weights.length || weights.length === 0) return;
    const first = weights[0]!._meta;
    if (!weights.every((w) => w._meta.device.startsWith('cuda') && w._meta.dtype === first.dtype)) return;
    const args = [weights, this.mode, this.input_size, this.hidden_size, this.proj_size, this.num_layers, this.bias, this.batch_first, this.bidirectional];
    sessionOf(weights).call(null, HELPER.rnn_flatten_weights, args, null, 0, true);
  }

  /** @internal after to()/cuda()/half()... moved the weights, as Python's RNNBase._apply */
  override _afterApply(): void {
    this.flatten_parameters();
  }

  check_input(input: Tensor): void {
    const w = this._flat_weights[0]!;
    if (input.dtype !== w.dtype) throw torchError('ValueError', `input must have the type ${w.dtype}, got type ${input.dtype}`, this.opName);
    if (input.dim() !== 3) throw torchError('RuntimeError', `input must have 3 dimensions, got ${input.dim()}`, this.opName);
    if (this.input_size !== input.size(-1)) {
      throw torchError('RuntimeError', `input.size(-1) must be equal to input_size. Expected ${this.input_size}, got ${input.size(-1)}`, this.opName);
    }
  }

  get_expected_hidden_size(input: Tensor): [number, number, number] {
    const miniBatch = this.batch_first ? input.size(0) : input.size(1);
    const directions = this.bidirectional ? 2 : 1;
    return [this.num_layers * directions, miniBatch, this.proj_size > 0 ? this.proj_size : this.hidden_size];
  }

  check_hidden_size(hx: Tensor, expected: readonly number[], msg = 'Expected hidden size {}, got {}'): void {
    const got = hx.shape;
    if (got.length !== expected.length || got.some((v, i) => v !== expected[i])) {
      throw torchError('RuntimeError', msg.replace('{}', tupleRepr(expected)).replace('{}', `[${got.join(', ')}]`), this.opName);
    }
  }

  check_forward_args(input: Tensor, hidden: Tensor): void {
    this.check_input(input);
    this.check_hidden_size(hidden, this.get_expected_hidden_size(input));
  }

  /** @internal the op name in messages */
  get opName(): string {
    return `nn.${this.constructor.name}`;
  }

  /** @internal input made batched (a batch of 1 when unbatched), and where the batch dimension is. */
  _batched(input: Tensor, kind: string): { input: Tensor; batched: boolean; batchDim: number } {
    const n = input.dim();
    if (n !== 2 && n !== 3) throw torchError('ValueError', `${kind}: Expected input to be 2D or 3D, got ${n}D${kind === 'RNN' ? ' tensor' : ''} instead`, this.opName);
    const batched = n === 3;
    const batchDim = this.batch_first ? 0 : 1;
    return { input: batched ? input : input.unsqueeze(batchDim), batched, batchDim };
  }

  /** @internal zeros for the initial state when none is given. */
  _zeros(input: Tensor, size: number): Tensor {
    const directions = this.bidirectional ? 2 : 1;
    const batch = this.batch_first ? input.size(0) : input.size(1);
    return zeros([this.num_layers * directions, batch, size], { dtype: input.dtype, device: input.device });
  }

  /** @internal run the fused kernel: [output, ...final states]. */
  _kernel(input: Tensor, hx: Tensor | Tensor[]): Tensor[] {
    const args = [input, hx, this._flat_weights, this.bias, this.num_layers, this.dropout, this.training, this.bidirectional, this.batch_first];
    return invoke(KERNELS[this.mode], args) as Tensor[];
  }

  override extra_repr(): string {
    let s = `${this.input_size}, ${this.hidden_size}`;
    if (this.proj_size !== 0) s += `, proj_size=${this.proj_size}`;
    if (this.num_layers !== 1) s += `, num_layers=${this.num_layers}`;
    if (this.bias !== true) s += ', bias=False';
    if (this.batch_first !== false) s += ', batch_first=True';
    if (this.dropout !== 0) s += `, dropout=${this.dropout}`;
    if (this.bidirectional !== false) s += ', bidirectional=True';
    return s;
  }
}

/** The shared forward of RNN and GRU: one hidden state. */
function forwardSingleState(m: RNNBase, kind: string, x: Tensor, hx: Tensor | null | undefined): [Tensor, Tensor] {
  const { input, batched, batchDim } = m._batched(x, kind);
  let h = hx ?? null;
  if (h !== null) {
    if (batched && h.dim() !== 3) throw torchError('RuntimeError', `For batched 3-D input, hx should also be 3-D but got ${h.dim()}-D tensor`, m.opName);
    if (!batched) {
      if (h.dim() !== 2) throw torchError('RuntimeError', `For unbatched 2-D input, hx should also be 2-D but got ${h.dim()}-D tensor`, m.opName);
      h = h.unsqueeze(1);
    }
  } else h = m._zeros(input, m.hidden_size);
  m.check_forward_args(input, h);
  const [output, hidden] = m._kernel(input, h) as [Tensor, Tensor];
  if (!batched) return [output.squeeze(batchDim), hidden.squeeze(1)];
  return [output, hidden];
}

/** Elman RNN with tanh or ReLU: `new nn.RNN(input_size, hidden_size, num_layers?, nonlinearity?, ...)`. */
export class RNN extends RNNBase {
  nonlinearity: 'tanh' | 'relu';

  constructor(input_size: number, hidden_size: number, ...rest: PyRest<RNNOptions, ['num_layers', 'nonlinearity', 'bias', 'batch_first', 'dropout', 'bidirectional', 'device', 'dtype']>) {
    const last = rest[rest.length - 1];
    if (last && typeof last === 'object' && 'proj_size' in last) {
      throw torchError('ValueError', 'proj_size argument is only supported for LSTM, not RNN or GRU', 'nn.RNN');
    }
    const a = rnnArgs([input_size, hidden_size, ...rest]);
    const nl = a.nonlinearity;
    if (nl !== 'tanh' && nl !== 'relu') throw torchError('ValueError', `Unknown nonlinearity '${nl}'. Select from 'tanh' or 'relu'.`, 'nn.RNN');
    super(nl === 'tanh' ? 'RNN_TANH' : 'RNN_RELU', { ...a, proj_size: 0 });
    this.nonlinearity = nl;
  }

  /** [output, h_n], as Python's (output, h_n). */
  override forward(input: Tensor, hx?: Tensor | null): [Tensor, Tensor] {
    return forwardSingleState(this, 'RNN', input, hx);
  }
}

/** Gated recurrent unit: `new nn.GRU(input_size, hidden_size, num_layers?, ...)`. */
export class GRU extends RNNBase {
  constructor(input_size: number, hidden_size: number, ...rest: PyRest<GRUOptions, ['num_layers', 'bias', 'batch_first', 'dropout', 'bidirectional', 'device', 'dtype']>) {
    const last = rest[rest.length - 1];
    if (last && typeof last === 'object' && 'proj_size' in last) {
      throw torchError('ValueError', 'proj_size argument is only supported for LSTM, not RNN or GRU', 'nn.GRU');
    }
    super('GRU', { ...gruArgs([input_size, hidden_size, ...rest]), proj_size: 0 });
  }

  /** [output, h_n], as Python's (output, h_n). */
  override forward(input: Tensor, hx?: Tensor | null): [Tensor, Tensor] {
    return forwardSingleState(this, 'GRU', input, hx);
  }
}

/** Long short-term memory, optionally with projections (proj_size). */
export class LSTM extends RNNBase {
  constructor(input_size: number, hidden_size: number, ...rest: PyRest<LSTMOptions, ['num_layers', 'bias', 'batch_first', 'dropout', 'bidirectional', 'proj_size', 'device', 'dtype']>) {
    super('LSTM', lstmArgs([input_size, hidden_size, ...rest]));
  }

  get_expected_cell_size(input: Tensor): [number, number, number] {
    const miniBatch = this.batch_first ? input.size(0) : input.size(1);
    return [this.num_layers * (this.bidirectional ? 2 : 1), miniBatch, this.hidden_size];
  }

  override check_forward_args(input: Tensor, hidden: Tensor | readonly Tensor[]): void {
    const [h, c] = hidden as readonly Tensor[];
    this.check_input(input);
    this.check_hidden_size(h!, this.get_expected_hidden_size(input), 'Expected hidden[0] size {}, got {}');
    this.check_hidden_size(c!, this.get_expected_cell_size(input), 'Expected hidden[1] size {}, got {}');
  }

  /** [output, [h_n, c_n]], as Python's (output, (h_n, c_n)). */
  override forward(x: Tensor, hx?: readonly [Tensor, Tensor] | null): [Tensor, [Tensor, Tensor]] {
    const { input, batched, batchDim } = this._batched(x, 'LSTM');
    let state: [Tensor, Tensor];
    if (hx === undefined || hx === null) {
      state = [this._zeros(input, this.proj_size > 0 ? this.proj_size : this.hidden_size), this._zeros(input, this.hidden_size)];
    } else {
      const [h, c] = hx;
      if (batched && (h.dim() !== 3 || c.dim() !== 3)) {
        throw torchError('RuntimeError', `For batched 3-D input, hx and cx should also be 3-D but got (${h.dim()}-D, ${c.dim()}-D) tensors`, this.opName);
      }
      if (!batched && (h.dim() !== 2 || c.dim() !== 2)) {
        throw torchError('RuntimeError', `For unbatched 2-D input, hx and cx should also be 2-D but got (${h.dim()}-D, ${c.dim()}-D) tensors`, this.opName);
      }
      state = batched ? [h, c] : [h.unsqueeze(1), c.unsqueeze(1)];
    }
    this.check_forward_args(input, state);
    const [output, hn, cn] = this._kernel(input, state) as [Tensor, Tensor, Tensor];
    if (!batched) return [output.squeeze(batchDim), [hn.squeeze(1), cn.squeeze(1)]];
    return [output, [hn, cn]];
  }
}
