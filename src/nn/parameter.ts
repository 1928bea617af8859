/**
 * torch.nn.Parameter: a tensor that a Module treats as one of its parameters. In the runtime
 * it is a real torch.nn.Parameter (so Python code and optimizers see parameters); in TS it is
 * a Tensor leaf whose requires_grad is known locally.
 */
import { Tensor } from '../tensor/tensor.js';
import { sessionOf, strictCheck, mirror } from '../ops/dispatch.js';
import { keep } from '../memory/lifetime.js';
import { ArgumentError } from '../errors.js';
import { empty } from '../generated/torch.js';

export class Parameter extends Tensor {
  /**
   * `new nn.Parameter(data, requires_grad = true)`: shares data's storage, like Python.
   * Parameters outlive torch.tidy() scopes (a model usually does); dispose() frees one.
   */
  constructor(data?: Tensor | null, requires_grad = true) {
    if (data === undefined || data === null) data = empty(0);
    if (!(data instanceof Tensor)) throw new ArgumentError('nn.Parameter(): argument \'data\' must be a Tensor');
    if (typeof requires_grad !== 'boolean') throw new ArgumentError('nn.Parameter(): argument \'requires_grad\' must be bool');
    const s = sessionOf([data]);
    const m = mirror.enabled ? data._m : undefined;
    // metadata unknown (pending data, or mirror off): ready() asks the runtime
    super(s, s.newHandle(), m && { shape: m.shape, dtype: m.dtype, device: m.device, requires_grad, is_leaf: true, grad_fn: null }, 'nn.Parameter');
    s.call(this.id, 'nn.Parameter', [data, requires_grad], null, this._m ? strictCheck(s, [this]) : 0, false);
    keep(this);
  }
}

/** A new parameter of the given shape, uninitialised (torch.empty), as modules create them. */
export function emptyParameter(shape: readonly number[], factory: { device?: string | null; dtype?: unknown }): Parameter {
  const data = empty([...shape], factory as never);
  const p = new Parameter(data);
  data.dispose();
  return p;
}
