/** Factories' mirror rules: zeros/ones/full/empty, arange/linspace/eye, random, *_like; manual_seed. */
import { PENDING, type OutSpec } from './dispatch.js';
import { rule } from './rules.js';
import type { Bound } from './signature.js';
import type { Tensor } from '../tensor/tensor.js';
import { DType, bool, get_default_dtype, int64 } from '../tensor/dtype.js';
import { normalizeDevice } from '../tensor/device.js';
import { ArgumentError, torchError } from '../errors.js';
import { currentSession } from '../session/current.js';
import { isPyInt } from '../mirror/promotion.js';

function checkSizes(size: number[], op: string): number[] {
  for (const s of size) {
    if (s >= 0) continue;
    // torch.zeros checks sizes in its own kernel, with its own words
    if (op === 'zeros') throw torchError('RuntimeError', 'zeros: Dimension size must be non-negative.', op);
    throw torchError('RuntimeError', `Trying to create tensor with negative dimension ${s}: [${size.join(', ')}]`, op);
  }
  return size;
}

function checkRequiresGrad(a: Bound, dtype: DType, op: string): boolean {
  const rg = a.requires_grad === true;
  if (rg && dtype.category !== 'float' && dtype.category !== 'complex') {
    throw torchError('RuntimeError', 'Only Tensors of floating point and complex dtype can require gradients', op);
  }
  return rg;
}

function deviceOf(a: Bound, fallback = 'cpu'): string {
  return a.device ? normalizeDevice(a.device as string) : fallback;
}

function factory(a: Bound, op: string, shape: number[], dtype: DType, device = deviceOf(a)): OutSpec {
  return { shape: checkSizes(shape, op), dtype, device, requires_grad: checkRequiresGrad(a, dtype, op) };
}

function sizes(v: unknown): number[] {
  return typeof v === 'number' ? [v] : (v as number[]);
}

function sized(name: string): void {
  // no size at all (torch.zeros()): torch's own TypeError, from the runtime
  rule(name, (a, op) => (a.size === undefined ? PENDING : factory(a, op, sizes(a.size), (a.dtype as DType | undefined) ?? get_default_dtype())));
}

sized('zeros');
sized('ones');
sized('empty');
sized('rand');
sized('randn');

rule('full', (a, op) => {
  const fill = a.fill_value as number | boolean | bigint;
  const inferred = typeof fill === 'boolean' ? bool : typeof fill === 'bigint' || isPyInt(fill) ? int64 : get_default_dtype();
  return factory(a, op, sizes(a.size), (a.dtype as DType | undefined) ?? inferred);
});

// arange(end) | arange(start, end) | arange(start, end, step)
rule('arange', (a, op) => {
  const start = Number(a.start ?? 0);
  const end = Number(a.end);
  const step = Number(a.step ?? 1);
  if (step === 0) throw torchError('RuntimeError', 'step must be nonzero', op);
  if ((step > 0 && end < start) || (step < 0 && end > start)) {
    throw torchError('RuntimeError', 'upper bound and lower bound inconsistent with step sign', op);
  }
  // Python's bool is an int: arange(True) is int64
  const allInts = [a.start, a.end, a.step].every((v) => v === undefined || typeof v === 'bigint' || typeof v === 'boolean' || isPyInt(v as number));
  const dtype = (a.dtype as DType | undefined) ?? (allInts ? int64 : get_default_dtype());
  return factory(a, op, [Math.ceil((end - start) / step)], dtype);
});

rule('linspace', (a, op) => {
  if ((a.steps as number) < 0) throw torchError('RuntimeError', 'number of steps must be non-negative', op);
  return factory(a, op, [a.steps as number], (a.dtype as DType | undefined) ?? get_default_dtype());
});

rule('eye', (a, op) => {
  const n = a.n as number;
  const m = (a.m as number | undefined) ?? n;
  if (n < 0) throw torchError('RuntimeError', `n must be greater or equal to 0, got ${n}`, op);
  if (m < 0) throw torchError('RuntimeError', `m must be greater or equal to 0, got ${m}`, op);
  return factory(a, op, [n, m], (a.dtype as DType | undefined) ?? get_default_dtype());
});

// randint(low, high, size) | randint(high, size)
rule('randint', (a, op) => {
  const low = (a.low as number | undefined) ?? 0;
  if (low >= (a.high as number)) {
    throw torchError('RuntimeError', `random_ expects 'from' to be less than 'to', but got from=${low} >= to=${a.high}`, op);
  }
  return factory(a, op, sizes(a.size), (a.dtype as DType | undefined) ?? int64);
});

rule('randperm', (a, op) => factory(a, op, [a.n as number], (a.dtype as DType | undefined) ?? int64));

for (const name of ['zeros_like', 'ones_like', 'empty_like', 'rand_like', 'randn_like', 'full_like', 'randint_like']) {
  rule(name, (a, op) => {
    const x = a.input as Tensor;
    const dtype = (a.dtype as DType | undefined) ?? x.dtype;
    return factory(a, op, [...x.shape], dtype, deviceOf(a, x.device));
  });
}

/** torch.manual_seed: seeds the runtime's generators (CPU and CUDA). */
export function manual_seed(seed: number | bigint): void {
  if (typeof seed !== 'bigint' && !Number.isInteger(seed)) throw new ArgumentError(`manual_seed(): seed must be an int, not ${seed}`);
  currentSession().call(null, 'manual_seed', [seed], null);
}
