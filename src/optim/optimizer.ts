/**
 * torch.optim.Optimizer: the runtime's real optimizer, held by handle. step() and zero_grad()
 * are queued like ops (no round trip per training step); the numbers are torch's own.
 *
 * Hyperparameters (lr, momentum...) live in the runtime, where schedulers change them: read them
 * with `await opt.param_groups_value()`, change them with `opt.set_param_group(i, {lr})` (queued).
 * The TS side only knows which tensors each group holds.
 */
import { Tensor } from '../tensor/tensor.js';
import { PyObject, pyCall } from '../py/object.js';
import { keep } from '../memory/lifetime.js';
import { ArgumentError } from '../errors.js';
import { Tuple } from '../transport/codec.js';
import { isKwargs, describe } from '../ops/signature.js';
import { enable_grad } from '../autograd/grad_mode.js';
import { forgetGrad } from '../autograd/grad.js';
import { keywords, type Signature } from './args.js';
import { toPython, tuplesAt } from './state_dict.js';

/** A parameter group as in Python: its tensors under `params`, plus options that override the defaults. */
export type ParamGroup = { params: Tensor | Iterable<Tensor> | Iterable<[string, Tensor]> } & Record<string, unknown>;

/** What an optimizer takes: tensors, named tensors (`model.named_parameters()`) or parameter groups. */
export type Params = Iterable<Tensor> | Iterable<[string, Tensor]> | Iterable<ParamGroup>;

/** Python's `optimizer.state_dict()`: per-parameter state by index, and the groups' options. */
export interface OptimizerStateDict {
  state: Record<number, Record<string, unknown>>;
  param_groups: (Record<string, unknown> & { params: number[] })[];
}

/** A snapshot of `optimizer.param_groups`, with each group's own TS tensors under `params`. */
export type ParamGroupValue = Record<string, unknown> & { params: Tensor[] };

// Python tuples among the options (they come back to JS as arrays)
const TUPLE_OPTIONS = ['betas', 'etas', 'step_sizes'];

export interface ZeroGradOptions {
  set_to_none?: boolean;
}

export class Optimizer {
  /** The runtime's torch.optim object, for anything not wrapped here (`opt.py.attr('state')`). */
  readonly py: PyObject;
  /** Python's class name: 'SGD', 'Adam'... */
  readonly name: string;
  /** @internal each group's tensors, in Python's order */
  readonly _groups: Tensor[][] = [];

  /**
   * `new Optimizer(name, signature, params, args)` is for subclasses: `name` is the class in
   * torch.optim, `signature` its arguments after `params` in Python's form.
   */
  protected constructor(name: string, signature: Signature, params: Params, args: readonly unknown[]) {
    this.name = name;
    const groups = this._paramGroups(params);
    const kwargs = optionsFor(keywords(signature, args));
    this.py = keep(pyCall(`optim.${name}`, [groups], kwargs, `optim.${name}`));
  }

  /** All tensors this optimizer updates, group after group (the indices its state_dict uses). */
  get params(): Tensor[] {
    return this._groups.flat();
  }

  /** Python's `optimizer.step()`, queued. With a closure (forward and backward, returning the loss), runs it first with grad enabled and returns its result. */
  step(): void;
  step<T>(closure: () => T): T;
  step<T>(closure?: () => T): T | void {
    if (closure === undefined) {
      this.py.run('step');
      return;
    }
    const loss = enable_grad(closure);
    if (loss instanceof Promise) {
      return loss.then((v: unknown) => {
        this.py.run('step');
        return v;
      }) as T;
    }
    this.py.run('step');
    return loss;
  }

  /** Python's `optimizer.zero_grad(set_to_none=True)`: one queued op for all parameters. */
  zero_grad(set_to_none: boolean | ZeroGradOptions = true): void {
    const flag = typeof set_to_none === 'object' && set_to_none !== null ? (set_to_none.set_to_none ?? true) : set_to_none;
    if (typeof flag !== 'boolean') throw new ArgumentError(`${this.name}.zero_grad(): argument 'set_to_none' must be bool, not ${describe(flag)}`);
    this.py.run('zero_grad', [], { set_to_none: flag }, false);
    // zeroed in place, a grad stays the same tensor; set to None, the local view must know
    if (flag) for (const group of this._groups) for (const p of group) forgetGrad(p);
  }

  /** Python's `optimizer.add_param_group({params, ...options})`, queued. */
  add_param_group(group: ParamGroup): void {
    if (!isKwargs(group)) throw new ArgumentError(`${this.name}.add_param_group(): param_group must be a dict, not ${describe(group)}`);
    const [wire] = this._paramGroups([group]) as Record<string, unknown>[];
    this.py.run('add_param_group', [wire]);
  }

  /** Python's `optimizer.param_groups`, read from the runtime (a sync point): options as numbers, params as the TS tensors. */
  async param_groups_value(): Promise<ParamGroupValue[]> {
    // state_dict()'s groups name parameters by index, so no tensor handle is made for the read
    const sd = this.py.method('state_dict');
    const groups = sd.item('param_groups');
    sd.dispose();
    try {
      const value = (await groups.value()) as (Record<string, unknown> & { params: number[] })[];
      const all = this.params;
      return value.map((g) => ({ ...g, params: g.params.map((i) => all[i]!) }));
    } finally {
      groups.dispose();
    }
  }

  /** `optimizer.param_groups[index].update(options)`, queued: e.g. `opt.set_param_group(0, {lr: 0.01})`. */
  set_param_group(index: number, options: Record<string, unknown>): void {
    if (!Number.isInteger(index) || index < -this._groups.length || index >= this._groups.length) {
      throw new ArgumentError(`${this.name}.set_param_group(): index ${index} is out of range for ${this._groups.length} parameter group(s)`);
    }
    if (!isKwargs(options) || 'params' in options) {
      throw new ArgumentError(`${this.name}.set_param_group(): options must be an object of hyperparameters (params cannot change)`);
    }
    const groups = this.py.attr('param_groups');
    groups.item(index).run('update', [optionsFor(options)]);
    // the temporaries are freed after the queued update has used them
    groups.dispose();
  }

  /** Python's `optimizer.state_dict()` as JS values (state tensors as Tensors, shared with the optimizer's, as in Python). A sync point. */
  async state_dict(): Promise<OptimizerStateDict> {
    const sd = this.py.method('state_dict');
    try {
      return (await sd.value()) as OptimizerStateDict;
    } finally {
      sd.dispose();
    }
  }

  /** Python's `optimizer.load_state_dict(state_dict)`, queued. Takes what state_dict() gave (or a runtime dict by handle). */
  load_state_dict(state_dict: OptimizerStateDict | PyObject): void {
    if (state_dict instanceof PyObject) {
      this.py.run('load_state_dict', [state_dict]);
      return;
    }
    const groups = isKwargs(state_dict) ? state_dict.param_groups : undefined;
    if (!Array.isArray(groups) || !isKwargs(state_dict.state)) {
      throw new ArgumentError(`${this.name}.load_state_dict(): expected a state dict with 'state' and 'param_groups', not ${describe(state_dict)}`);
    }
    // torch's own checks, at the call site rather than at the next sync
    if (groups.length !== this._groups.length) {
      throw new ArgumentError('loaded state dict has a different number of parameter groups');
    }
    groups.forEach((g, i) => {
      if (!Array.isArray(g.params) || g.params.length !== this._groups[i]!.length) {
        throw new ArgumentError("loaded state dict contains a parameter group that doesn't match the size of optimizer's group");
      }
    });
    const wire = {
      state: toPython(state_dict.state),
      param_groups: groups.map((g) => tuplesAt(toPython(g) as Record<string, unknown>, TUPLE_OPTIONS)),
    };
    this.py.run('load_state_dict', [wire]);
  }

  /** Free the runtime's optimizer (its state too, unless a scheduler or state dict still holds it). */
  dispose(): void {
    this.py.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return `${this.name}(${this._groups.length} parameter group(s), ${this.params.length} tensor(s))`;
  }

  /** Check params as torch does, remember each group's tensors, and give the list torch gets. */
  private _paramGroups(params: Params): unknown[] {
    const where = this.name;
    if (params instanceof Tensor || !isIterable(params)) {
      throw new ArgumentError(`${where}: params argument given to the optimizer should be an iterable of Tensors or dicts, but got ${describe(params)}`);
    }
    const items = [...(params as Iterable<unknown>)];
    if (items.length === 0) throw new ArgumentError(`${where}: optimizer got an empty parameter list`);
    if (!items.every(isKwargs)) {
      // a flat list of tensors goes as one list, as the user wrote it
      const { tensors, wire } = tensorsOf(where, items);
      this._groups.push(tensors);
      return wire;
    }
    return (items as ParamGroup[]).map((group) => {
      if (!('params' in group)) throw new ArgumentError(`${where}: each parameter group needs a 'params' entry`);
      const { tensors, wire } = tensorsOf(where, group.params);
      if (tensors.length === 0) throw new ArgumentError(`${where}: optimizer got an empty parameter list`);
      this._groups.push(tensors);
      return { ...optionsFor(group), params: wire };
    });
  }
}

/** A group's tensors (plain or named), checked as torch checks them. */
function tensorsOf(where: string, params: unknown): { tensors: Tensor[]; wire: unknown[] } {
  const list = params instanceof Tensor ? [params] : isIterable(params) ? [...params] : [params];
  const tensors: Tensor[] = [];
  const wire = list.map((item) => {
    const named = Array.isArray(item) && item.length === 2 && typeof item[0] === 'string';
    const t = named ? item[1] : item;
    if (!(t instanceof Tensor)) throw new ArgumentError(`${where}: optimizer can only optimize Tensors, but one of the params is ${describe(t)}`);
    t._check();
    if (t._m !== undefined && !t._m.is_leaf) throw new ArgumentError(`${where}: can't optimize a non-leaf Tensor`);
    tensors.push(t);
    return named ? new Tuple([item[0], t]) : t;
  });
  return { tensors, wire };
}

/** Options as torch expects them: arrays that are Python tuples (betas) made tuples. */
function optionsFor(options: Record<string, unknown>): Record<string, unknown> {
  return tuplesAt(options, TUPLE_OPTIONS);
}

function isIterable(v: unknown): v is Iterable<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as Iterable<unknown>)[Symbol.iterator] === 'function';
}
