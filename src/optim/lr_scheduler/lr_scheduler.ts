/**
 * torch.optim.lr_scheduler.LRScheduler: the runtime's real scheduler, held by handle. step() is
 * queued (it changes the optimizer's lr in the runtime, in order with the training ops), so lr
 * values are torch's own, bit for bit; reading them back (get_last_lr) is a sync point.
 */
import { PyObject, pyCall } from '../../py/object.js';
import { keep } from '../../memory/lifetime.js';
import { ArgumentError } from '../../errors.js';
import { describe, isKwargs } from '../../ops/signature.js';
import type { Optimizer } from '../optimizer.js';
import { asOptimizer } from '../python_optimizer.js';
import { pythonObject } from '../../py/counterpart.js';
import { hold } from '../../py/touched.js';
import { toPython } from '../state_dict.js';

/** Python's `scheduler.state_dict()`: the scheduler's attributes (last_epoch, base_lrs, _last_lr...). */
export type SchedulerStateDict = Record<string, unknown>;

export class LRScheduler {
  /** The runtime's scheduler object, for anything not wrapped here. */
  readonly py: PyObject;
  /** Python's class name: 'StepLR'... */
  readonly name: string;
  readonly optimizer: Optimizer;

  /** For subclasses: `name` in torch.optim.lr_scheduler, with its arguments after `optimizer` bound by name. */
  protected constructor(name: string, optimizer: Optimizer, kwargs: Record<string, unknown>) {
    const opt = asOptimizer(optimizer); // a Python optimizer (torch.py) too
    if (opt === undefined) throw new ArgumentError(`${name}: ${describe(optimizer)} is not an Optimizer`);
    this.name = name;
    this.optimizer = opt;
    this.py = keep(pyCall(`optim.lr_scheduler.${name}`, [opt.py], kwargs, `optim.lr_scheduler.${name}`));
  }

  /** Python's `scheduler.step()`, queued. (`step(epoch)` is deprecated in torch, and passed on as is.) */
  step(epoch?: number): void {
    this.py.run('step', epoch === undefined ? [] : [epoch]);
  }

  /** Python's `scheduler.get_last_lr()`: the lr of each group after the last step. A sync point. */
  async get_last_lr(): Promise<number[]> {
    return (await this._read('get_last_lr')) as number[];
  }

  /** Python's `scheduler.state_dict()` as JS values. A sync point. */
  async state_dict(): Promise<SchedulerStateDict> {
    return (await this._read('state_dict')) as SchedulerStateDict;
  }

  /** Python's `scheduler.load_state_dict(state_dict)`, queued. Takes what state_dict() gave (or a runtime dict by handle). */
  load_state_dict(state_dict: SchedulerStateDict | PyObject): void {
    if (state_dict instanceof PyObject) {
      this.py.run('load_state_dict', [state_dict]);
      return;
    }
    if (!isKwargs(state_dict)) throw new ArgumentError(`${this.name}.load_state_dict(): expected a state dict, not ${describe(state_dict)}`);
    this._load(toPython(state_dict) as Record<string, unknown>);
  }

  /** @internal queue load_state_dict with the dict as torch wrote it (subclasses restore what JSON-like values lose). */
  protected _load(state_dict: Record<string, unknown>): void {
    this.py.run('load_state_dict', [state_dict]);
  }

  /** @internal the converted result of a method call. */
  protected async _read(method: string): Promise<unknown> {
    const result = this.py.method(method);
    try {
      return await result.value();
    } finally {
      result.dispose();
    }
  }

  /** In a torch.py call it is the torch scheduler (counterpart.ts); Python code given it may change its optimizer's tensors. */
  [pythonObject](): PyObject {
    hold(this.py, this.optimizer.params);
    return this.py;
  }

  dispose(): void {
    this.py.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    return `${this.name}(${this.optimizer.name})`;
  }
}
