/**
 * torch.optim.lr_scheduler.LambdaLR with TypeScript functions: lr = initial lr × lr_lambda(epoch).
 *
 * Python calls lr_lambda(epoch) inside step(), where a TS function cannot run. So TS calls it
 * first, for the epoch the step is about to reach, and hands the factor to the runtime's real
 * LambdaLR, whose lr_lambda is `functools.partial(dict.pop, table)`: it takes that factor out of
 * a per-group table. torch then computes `base_lr * factor` itself, as it would with a Python
 * lambda, so the lrs are Python's bit for bit, and step() stays one queued op per group.
 * The TS side tracks last_epoch for that (the constructor's own first step included).
 * The factors are exactly what the TS function returns; note that JS's `**` and Math.cos may
 * differ from Python's by an ulp (0.95 ** 10), so a port of a lambda can differ there.
 */
import { PyObject, pyCall, pyRun } from '../../py/object.js';
import { ArgumentError } from '../../errors.js';
import { describe } from '../../ops/signature.js';
import { Optimizer } from '../optimizer.js';
import { keywords, parseSignature, type PyArgs } from '../args.js';
import { LRScheduler, type SchedulerStateDict } from './lr_scheduler.js';
import { pythonAttr } from './runtime_objects.js';
import { HELPER } from '../../transport/protocol.js';

/** The multiplicative factor for an epoch (0 for the constructor's step, then 1, 2...). */
export type LrLambda = (epoch: number) => number;

export interface LambdaLROptions {
  lr_lambda?: LrLambda | LrLambda[];
  last_epoch?: number;
}

const SIGNATURE = parseSignature('LambdaLR(any lr_lambda, int last_epoch=-1)');

export class LambdaLR extends LRScheduler {
  /** one function per group (a single function serves every group, as in Python) */
  private readonly lambdas: LrLambda[];
  /** per group, the runtime dict the next factor waits in */
  private readonly tables: PyObject[];
  /** Python's last_epoch, as the runtime has it after the steps queued so far */
  private lastEpoch: number;

  /** `new LambdaLR(optimizer, lr_lambda, last_epoch?, {keywords}?)`, as in Python; lr_lambda is a TS function or one per group. */
  constructor(optimizer: Optimizer, ...args: PyArgs<[lr_lambda: LrLambda | LrLambda[], last_epoch: number], LambdaLROptions>) {
    if (!(optimizer instanceof Optimizer)) throw new ArgumentError(`LambdaLR: ${describe(optimizer)} is not an Optimizer`);
    const kw = keywords(SIGNATURE, args);
    const lambdas = lambdasFor(kw.lr_lambda, optimizer._groups.length);
    const lastEpoch = (kw.last_epoch as number | undefined) ?? -1;
    const tables = runtimeLambdas(lambdas.length);
    // the constructor's first step evaluates lr_lambda(last_epoch + 1)
    fill(tables.tables, lambdas, lastEpoch + 1);
    super('LambdaLR', optimizer, { ...kw, lr_lambda: tables.lambdas });
    for (const fn of tables.lambdas) fn.dispose(); // the scheduler holds them now
    this.lambdas = lambdas;
    this.tables = tables.tables;
    this.lastEpoch = lastEpoch + 1;
  }

  /** Python's `scheduler.step()` (or the deprecated `step(epoch)`), queued with the factors TS computes for that epoch. */
  override step(epoch?: number): void {
    if (epoch !== undefined && !Number.isInteger(epoch)) throw new ArgumentError(`LambdaLR.step(): argument 'epoch' must be int, not ${describe(epoch)}`);
    const next = epoch ?? this.lastEpoch + 1;
    fill(this.tables, this.lambdas, next);
    super.step(epoch);
    this.lastEpoch = next;
  }

  /** As in Python for lambdas: TS functions are not saved (lr_lambdas holds null for each). */
  override async state_dict(): Promise<SchedulerStateDict> {
    const sd = await super.state_dict();
    return { ...sd, lr_lambdas: this.lambdas.map(() => null) };
  }

  /** Takes what state_dict() gave; the TS functions given to the constructor stay. */
  override load_state_dict(state_dict: SchedulerStateDict | PyObject): void {
    if (state_dict instanceof PyObject || typeof state_dict?.last_epoch !== 'number') {
      throw new ArgumentError('LambdaLR.load_state_dict(): expected the state dict state_dict() gave (with its last_epoch as a number)');
    }
    super.load_state_dict({ ...state_dict, lr_lambdas: this.lambdas.map(() => null) });
    this.lastEpoch = state_dict.last_epoch;
  }

  override dispose(): void {
    for (const t of this.tables) t.dispose();
    super.dispose();
  }
}

/** One function per group, as torch checks it. */
function lambdasFor(lr_lambda: unknown, groups: number): LrLambda[] {
  if (typeof lr_lambda === 'function') return Array.from({ length: groups }, () => lr_lambda as LrLambda);
  if (!Array.isArray(lr_lambda) || !lr_lambda.every((f) => typeof f === 'function')) {
    throw new ArgumentError(`LambdaLR(): argument 'lr_lambda' must be a function or a list of functions, not ${describe(lr_lambda)}`);
  }
  if (lr_lambda.length !== groups) throw new ArgumentError(`Expected ${groups} lr_lambdas, but got ${lr_lambda.length}`);
  return lr_lambda as LrLambda[];
}

/** Per group, a runtime dict and `functools.partial(dict.pop, it)` to give torch as the lambda. */
function runtimeLambdas(n: number): { tables: PyObject[]; lambdas: PyObject[] } {
  const dict = pythonAttr('builtins', 'dict');
  const pop = dict.attr('pop');
  const partial = pythonAttr('functools', 'partial');
  const tables = Array.from({ length: n }, () => pyCall(HELPER.call, [dict], undefined, 'LambdaLR factors'));
  const lambdas = tables.map((t) => pyCall(HELPER.call, [partial, pop, t], undefined, 'LambdaLR lr_lambda'));
  for (const o of [dict, pop, partial]) o.dispose();
  return { tables, lambdas };
}

/** Queue each group's factor for `epoch` (all computed first, so a throwing function queues nothing). */
function fill(tables: PyObject[], lambdas: LrLambda[], epoch: number): void {
  const factors = lambdas.map((f) => {
    const v = f(epoch);
    if (typeof v !== 'number') throw new ArgumentError(`LambdaLR: lr_lambda(${epoch}) returned ${describe(v)}, expected a number`);
    return v;
  });
  tables.forEach((t, i) => pyRun(HELPER.setitem, [t, epoch, factors[i]]));
}
