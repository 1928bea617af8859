/**
 * Differential suite for the mirror's matmul family (src/ops/linalg.ts): mm, bmm, mv, dot, vdot,
 * matmul, inner, outer, addmm, addmv, addbmm, baddbmm, addr (and their in-place forms), kron,
 * tensordot, einsum and nn.functional.linear, over thousands of seeded random calls. Accepted
 * calls are checked by strict mode at the next sync point; calls the mirror rejects are sent
 * unmirrored and torch's error type and message are compared with the mirror's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import torch, { ArgumentError, MirrorMismatchError, Tensor, TorchError } from '../src/index.js';
import type { DType } from '../src/tensor/dtype.js';

beforeAll(async () => {
  await torch.init();
});
afterAll(async () => {
  await torch.shutdown();
});

// ---------------------------------------------------------------------------------------------
// harness: test/fixtures/differential.ts
import { Rng, mulberry32, pick, chance, int, MAIN, isFloating, randDtype, randShape, TSpec, ArgSpec, T, V, L, randTensor, Form, Case, describeArg, describeCase, NONCONTIG, made, materialize, Live, live, Fn, resolveFn, keepOutputs, runMirrored, runPython, Stats, stats, failures, disagreements, argErrorSamples, statsOf, syncErr, disposeMade, Outcome, runOne, DATA_ERROR, runBatch, SEED_OFFSET, runFamily, report, checkAgreement } from './fixtures/differential.js';
import { syncError } from './fixtures/errors.js';

// ---------------------------------------------------------------------------------------------
// generators

const noGrad = (r: Rng) => chance(r, 0.2);
const MM_DTYPES: readonly DType[] = [
  torch.float32,
  torch.float32,
  torch.float32,
  torch.float64,
  torch.float16,
  torch.bfloat16,
  torch.complex64,
  torch.int64,
  torch.int32,
  torch.uint8,
  torch.bool,
];
/** Two dtypes, mostly equal. */
function dtypes(r: Rng, n: number): DType[] {
  const d = pick(r, MM_DTYPES);
  return Array.from({ length: n }, () => (chance(r, 0.8) ? d : pick(r, MM_DTYPES)));
}
const size = (r: Rng) => (chance(r, 0.08) ? 0 : pick(r, [1, 2, 3, 4]));
/** Usually `k`, sometimes another size. */
const near = (r: Rng, k: number, p = 0.85) => (chance(r, p) ? k : size(r));
const grad = (r: Rng, d: DType) => (isFloating(d) && chance(r, 0.3) ? (chance(r, 0.5) ? 'leaf' : 'nonleaf') : undefined);
const M = (r: Rng, shape: number[], d: DType) => T(shape, d, grad(r, d));
/** A shape that broadcasts to `shape` (or not, now and then). */
function bcastTo(r: Rng, shape: readonly number[]): number[] {
  if (chance(r, 0.07)) return Array.from({ length: int(r, 0, 3) }, () => size(r));
  const s = shape.slice(int(r, 0, shape.length)).map((d) => (chance(r, 0.3) ? 1 : d));
  if (chance(r, 0.05)) s.unshift(2);
  return s;
}
const scalarKw = (r: Rng): Record<string, ArgSpec> | undefined => {
  if (!chance(r, 0.3)) return undefined;
  const kw: Record<string, ArgSpec> = {};
  if (chance(r, 0.6)) kw.beta = V(pick(r, [0, 1, 2, 0.5, true]));
  if (chance(r, 0.6)) kw.alpha = V(pick(r, [1, 2, 0.5, false]));
  return kw;
};

/** A random operand shape for matmul-like calls: ndim 0..4. */
function mmShape(r: Rng, ndim: number, rows: number, cols: number, batch: number[]): number[] {
  if (ndim === 0) return [];
  if (ndim === 1) return [cols];
  return [...batch.slice(batch.length - (ndim - 2)), rows, cols];
}

function basicCase(r: Rng): Case {
  const ng = noGrad(r);
  const [d1, d2] = dtypes(r, 2) as [DType, DType];
  const [n, k, m, B] = [size(r), size(r), size(r), size(r)];
  const form: Form = chance(r, 0.5) ? 'fn' : 'method';
  switch (int(r, 0, 5)) {
    case 0: {
      const a = chance(r, 0.9) ? [n, k] : pick(r, [[k], [B, n, k], []]);
      const b = chance(r, 0.9) ? [near(r, k), m] : pick(r, [[k], [B, k, m]]);
      return { family: 'mm', op: 'mm', form, args: [M(r, a, d1), M(r, b, d2)], noGrad: ng };
    }
    case 1: {
      const a = chance(r, 0.9) ? [B, n, k] : pick(r, [[n, k], [B, B, n, k]]);
      const b = chance(r, 0.9) ? [near(r, B), near(r, k), m] : [k, m];
      return { family: 'bmm', op: 'bmm', form, args: [M(r, a, d1), M(r, b, d2)], noGrad: ng };
    }
    case 2: {
      const a = chance(r, 0.9) ? [n, k] : pick(r, [[k], [B, n, k], []]);
      const b = chance(r, 0.9) ? [near(r, k)] : pick(r, [[k, 1], []]);
      return { family: 'mv', op: 'mv', form, args: [M(r, a, d1), M(r, b, d2)], noGrad: ng };
    }
    case 3: {
      const op = pick(r, ['dot', 'vdot']);
      const a = chance(r, 0.9) ? [k] : pick(r, [[], [k, 1]]);
      const b = chance(r, 0.9) ? [near(r, k)] : pick(r, [[], [1, k]]);
      return { family: op, op, form, args: [M(r, a, d1), M(r, b, d2)], noGrad: ng };
    }
    case 4: {
      const op = pick(r, ['outer', 'ger']);
      const a = chance(r, 0.9) ? [n] : pick(r, [[], [n, 1]]);
      const b = chance(r, 0.9) ? [m] : pick(r, [[], [m, 1]]);
      return { family: 'outer', op, form, args: [M(r, a, d1), M(r, b, d2)], noGrad: ng };
    }
    default: {
      const a = Array.from({ length: int(r, 0, 3) }, () => size(r));
      const b = chance(r, 0.2) ? [] : [...Array.from({ length: int(r, 0, 2) }, () => size(r)), a.length ? near(r, a[a.length - 1]!) : size(r)];
      return { family: 'inner', op: 'inner', form, args: [M(r, a, d1), M(r, b, d2)], noGrad: ng };
    }
  }
}

function matmulCase(r: Rng): Case {
  const ng = noGrad(r);
  const [d1, d2] = dtypes(r, 2) as [DType, DType];
  const [n, k, m] = [size(r), size(r), size(r)];
  const batch = Array.from({ length: 2 }, () => size(r));
  const na = pick(r, [1, 1, 2, 2, 3, 3, 4, 0]);
  const nb = pick(r, [1, 1, 2, 2, 3, 3, 4, 0]);
  const bb = batch.map((d) => (chance(r, 0.2) ? 1 : chance(r, 0.9) ? d : size(r)));
  const a = mmShape(r, na, n, k, batch.map((d) => (chance(r, 0.2) ? 1 : d)));
  const b = nb === 1 ? [near(r, k)] : mmShape(r, nb, near(r, k), m, bb);
  const op = chance(r, 0.15) ? 'linalg.matmul' : 'matmul';
  const form: Form = op === 'matmul' && chance(r, 0.5) ? 'method' : 'fn';
  return { family: 'matmul', op, form, args: [M(r, a, d1), M(r, b, d2)], noGrad: ng };
}

function addCase(r: Rng): Case {
  const ng = noGrad(r);
  const [d0, d1, d2] = dtypes(r, 3) as [DType, DType, DType];
  const [n, k, m, B] = [size(r), size(r), size(r), size(r)];
  const inplace = chance(r, 0.25);
  const form: Form = inplace || chance(r, 0.5) ? 'method' : 'fn';
  const kw = scalarKw(r);
  const sfx = inplace ? '_' : '';
  switch (int(r, 0, 4)) {
    case 0: {
      const out = [n, m];
      const self = inplace ? (chance(r, 0.8) ? out : bcastTo(r, out)) : bcastTo(r, out);
      const a = chance(r, 0.9) ? [n, k] : [k];
      const b = chance(r, 0.9) ? [near(r, k), m] : [k];
      return { family: 'addmm' + sfx, op: 'addmm' + sfx, form, args: [M(r, self, d0), M(r, a, d1), M(r, b, d2)], kw, noGrad: ng };
    }
    case 1: {
      const self = inplace ? (chance(r, 0.8) ? [n] : pick(r, [[1], [], [n, 1]])) : pick(r, [[n], [n], [1], [], [near(r, n)], [1, n]]);
      const a = chance(r, 0.9) ? [n, k] : [k];
      const b = chance(r, 0.9) ? [near(r, k)] : [k, 1];
      return { family: 'addmv' + sfx, op: 'addmv' + sfx, form, args: [M(r, self, d0), M(r, a, d1), M(r, b, d2)], kw, noGrad: ng };
    }
    case 2: {
      const out = [n, m];
      const self = inplace ? (chance(r, 0.85) ? out : bcastTo(r, out)) : bcastTo(r, out);
      const a = chance(r, 0.9) ? [B, n, k] : [n, k];
      const b = chance(r, 0.9) ? [near(r, B), near(r, k), m] : [k, m];
      return { family: 'addbmm' + sfx, op: 'addbmm' + sfx, form, args: [M(r, self, d0), M(r, a, d1), M(r, b, d2)], kw, noGrad: ng };
    }
    case 3: {
      const out = [B, n, m];
      const self = inplace ? (chance(r, 0.8) ? out : bcastTo(r, out)) : bcastTo(r, out);
      const a = chance(r, 0.9) ? [B, n, k] : [n, k];
      const b = chance(r, 0.9) ? [near(r, B), near(r, k), m] : [k, m];
      return { family: 'baddbmm' + sfx, op: 'baddbmm' + sfx, form, args: [M(r, self, d0), M(r, a, d1), M(r, b, d2)], kw, noGrad: ng };
    }
    default: {
      const out = [n, m];
      const self = inplace ? (chance(r, 0.8) ? out : bcastTo(r, out)) : bcastTo(r, out);
      const a = chance(r, 0.9) ? [n] : [n, 1];
      const b = chance(r, 0.9) ? [m] : [];
      return { family: 'addr' + sfx, op: 'addr' + sfx, form, args: [M(r, self, d0), M(r, a, d1), M(r, b, d2)], kw, noGrad: ng };
    }
  }
}

const LABELS = 'ijkl';
function einsumCase(r: Rng): Case {
  const ng = noGrad(r);
  const nops = pick(r, [1, 1, 2, 2, 2, 3]);
  const d = pick(r, MM_DTYPES);
  const sizes = new Map([...LABELS].map((l) => [l, size(r)]));
  const ellSize = [size(r), size(r)];
  const subs: string[] = [];
  const ops: ArgSpec[] = [];
  for (let i = 0; i < nops; i++) {
    const labels = Array.from({ length: int(r, 0, 3) }, () => pick(r, [...LABELS]));
    const ell = chance(r, 0.15);
    let shape = labels.map((l) => (chance(r, 0.1) ? 1 : chance(r, 0.95) ? sizes.get(l)! : size(r)));
    let sub = labels.join('');
    if (ell) {
      const at = int(r, 0, labels.length);
      const e = ellSize.slice(int(r, 0, 2)).map((s) => (chance(r, 0.2) ? 1 : s));
      shape = [...shape.slice(0, at), ...e, ...shape.slice(at)];
      sub = sub.slice(0, at) + '...' + sub.slice(at);
    }
    if (chance(r, 0.05)) shape.push(2);
    subs.push(sub);
    ops.push(M(r, shape, chance(r, 0.9) ? d : pick(r, MM_DTYPES)));
  }
  let eq = subs.join(',');
  if (chance(r, 0.7)) {
    const used = [...new Set(subs.join('').replace(/\./g, ''))];
    const out = used.filter(() => chance(r, 0.6)).sort(() => r() - 0.5);
    if (chance(r, 0.05)) out.push(pick(r, [...LABELS]));
    let rhs = out.join('');
    if (subs.some((s) => s.includes('...')) && chance(r, 0.7)) rhs = chance(r, 0.5) ? '...' + rhs : rhs + '...';
    eq += '->' + rhs;
  }
  if (chance(r, 0.03)) eq = eq.replace('i', '1');
  if (chance(r, 0.03)) ops.push(M(r, [2], d));
  if (chance(r, 0.03) && ops.length > 1) ops.pop();
  if (chance(r, 0.1)) eq = eq.replace(',', ' , ');
  return { family: 'einsum', op: 'einsum', form: 'fn', args: chance(r, 0.1) ? [V(eq), L(ops)] : [V(eq), ...ops], noGrad: ng };
}

function miscCase(r: Rng): Case {
  const ng = noGrad(r);
  const [d1, d2, d3] = dtypes(r, 3) as [DType, DType, DType];
  switch (int(r, 0, 3)) {
    case 0: {
      const a = Array.from({ length: int(r, 0, 3) }, () => size(r));
      const b = Array.from({ length: int(r, 0, 3) }, () => size(r));
      return { family: 'kron', op: 'kron', form: chance(r, 0.5) ? 'fn' : 'method', args: [M(r, a, d1), M(r, b, d2)], noGrad: ng };
    }
    case 1: {
      const a = Array.from({ length: int(r, 0, 4) }, () => size(r));
      const kdims = int(r, 0, Math.min(a.length, 2));
      const b = [...a.slice(a.length - kdims).map((s) => near(r, s)), ...Array.from({ length: int(r, 0, 2) }, () => size(r))];
      if (chance(r, 0.5)) return { family: 'tensordot', op: 'tensordot', form: 'fn', args: [M(r, a, d1), M(r, b, d2), V(chance(r, 0.9) ? kdims : pick(r, [-1, 5]))], noGrad: ng };
      const da = Array.from({ length: kdims }, (_, i) => a.length - kdims + i - (chance(r, 0.3) ? a.length : 0));
      const db = Array.from({ length: chance(r, 0.9) ? kdims : kdims + 1 }, (_, i) => i);
      if (chance(r, 0.1) && da.length) da[0] = a.length + 1;
      return { family: 'tensordot', op: 'tensordot', form: 'fn', args: [M(r, a, d1), M(r, b, d2)], kw: { dims: V([da, db]) }, noGrad: ng };
    }
    default: {
      const [i, o] = [size(r), size(r)];
      const x = chance(r, 0.9) ? [...Array.from({ length: int(r, 0, 3) }, () => size(r)), i] : [];
      const w = chance(r, 0.85) ? [o, near(r, i)] : pick(r, [[i], [2, o, i], []]);
      const args: ArgSpec[] = [M(r, x, d1), M(r, w, d2)];
      if (chance(r, 0.6)) args.push(chance(r, 0.1) ? V(null) : M(r, chance(r, 0.8) ? [o] : bcastTo(r, [o]), d3));
      return { family: 'linear', op: 'nn.functional.linear', form: 'fn', args, noGrad: ng };
    }
  }
}

// ---------------------------------------------------------------------------------------------

describe('matmul mirror: differential against torch', () => {
  it('mm / bmm / mv / dot / vdot / outer / inner', async () => {
    await runFamily(basicCase, 11, 2200);
  });
  it('matmul (every fold path)', async () => {
    await runFamily(matmulCase, 22, 2200);
  });
  it('addmm / addmv / addbmm / baddbmm / addr and in-place forms', async () => {
    await runFamily(addCase, 33, 2200);
  });
  it('einsum', async () => {
    await runFamily(einsumCase, 44, 1500);
  });
  it('kron / tensordot / nn.functional.linear', async () => {
    await runFamily(miscCase, 55, 1500);
  });
  it('agrees with torch (metadata always; error messages >= 95%)', () => {
    report('matmul mirror vs torch');
    checkAgreement(95);
  });
});

// ---------------------------------------------------------------------------------------------
// targeted cases

describe('matmul mirror: targeted cases', () => {
  it('each kernel has its own messages', async () => {
    const f = torch.zeros([2, 3]);
    const d = torch.zeros([3, 4], { dtype: torch.float64 });
    expect(syncError(() => f.mm(d)).pyMessage).toBe('expected m1 and m2 to have the same dtype, but got: float != double');
    expect(syncError(() => torch.zeros([3]).dot(torch.zeros([3], { dtype: torch.float64 }))).pyMessage).toBe(
      'dot : expected both vectors to have same dtype, but found Float and Double',
    );
    expect(syncError(() => f.mv(torch.zeros([4]))).pyMessage).toBe('size mismatch, got input (2), mat (2x3), vec (4)');
    expect(syncError(() => torch.zeros([2, 2, 3]).bmm(torch.zeros([3, 3, 4]))).pyMessage).toBe(
      'Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [3, 3].',
    );
    expect(syncError(() => torch.zeros([2, 3], { dtype: torch.bool }).mm(torch.zeros([3, 4], { dtype: torch.bool }))).pyType).toBe('NotImplementedError');
    await torch.sync();
  });

  it('matmul folds like ATen: the message follows the kernel it reaches', async () => {
    // (3) @ (2, 4, 2): bmm, unless the vector requires grad (then it folds into an mv)
    expect(syncError(() => torch.zeros([3]).matmul(torch.zeros([2, 4, 2]))).pyMessage).toBe(
      'Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 4].',
    );
    expect(syncError(() => torch.zeros([3], { requires_grad: true }).matmul(torch.zeros([2, 4, 2]))).pyMessage).toBe(
      'size mismatch, got input (4), mat (4x4), vec (3)',
    );
    expect(torch.zeros([5, 2, 3]).matmul(torch.zeros([3, 4])).shape).toEqual([5, 2, 4]);
    await torch.sync();
  });

  it('einsum: output shape from the subscripts, implicit output, ellipsis', async () => {
    const a = torch.zeros([5, 2, 3]);
    const b = torch.zeros([3, 4]);
    expect(torch.einsum('...ij,jk->...ik', a, b).shape).toEqual([5, 2, 4]);
    expect(torch.einsum('bij,jk', a, b).shape).toEqual([5, 2, 4]);
    expect(torch.einsum('ii->i', torch.zeros([3, 3])).shape).toEqual([3]);
    const s = torch.einsum('ij->', torch.zeros([2, 3], { dtype: torch.int32 }));
    expect([s.shape, s.dtype]).toEqual([[], torch.int64]);
    expect(syncError(() => torch.einsum('ij,jk->ik', torch.zeros([2, 3]), torch.zeros([4, 5]))).pyMessage).toBe(
      'einsum(): subscript j has size 4 for operand 1 which does not broadcast with previously seen size 3',
    );
    await torch.sync();
  });

  it('linear: input @ weight.T + bias', async () => {
    const y = torch.nn.functional.linear(torch.zeros([7, 5, 3]), torch.zeros([4, 3]), torch.zeros([4]));
    expect(y.shape).toEqual([7, 5, 4]);
    expect(syncError(() => torch.nn.functional.linear(torch.zeros([5, 3]), torch.zeros([4, 2]))).pyMessage).toBe(
      'mat1 and mat2 shapes cannot be multiplied (5x3 and 2x4)',
    );
    await torch.sync();
  });

  it('addmm_ keeps its in-place message', async () => {
    const e = syncError(() => torch.zeros([1, 4]).addmm_(torch.zeros([2, 3]), torch.zeros([3, 4])));
    expect(e.pyMessage).toBe('Bad in-place call: input tensor size [1, 4] and output tensor size [2, 4] should match');
    await torch.sync();
  });
});
