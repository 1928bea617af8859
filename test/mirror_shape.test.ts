/**
 * Differential suite for the mirror's shape/view ops (src/ops/shape.ts) and the gather/scatter
 * family (src/ops/gather_scatter.ts): thousands of seeded random calls through the public API.
 * When the mirror accepts a call, strict mode checks its predicted metadata against torch's at
 * the next sync point; when it throws at the call site, the same call is sent unmirrored
 * (torch.call / Tensor.call) and torch's error type and message are compared with the mirror's.
 * Inputs are described, not held, so a failing batch can be replayed case by case with fresh
 * tensors (in-place ops change their inputs). Inputs are contiguous zeros: index tensors then
 * hold valid indices wherever the indexed dim is not empty.
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
// shape / view generators

const noGrad = (r: Rng) => chance(r, 0.2);
const numelOf = (s: readonly number[]) => s.reduce((p, v) => p * v, 1);
const dimArg = (r: Rng, ndim: number, extra = 0) => int(r, -Math.max(ndim, 1) - 1 - extra, Math.max(ndim, 1) + extra);

/** A shape with the same number of elements, with a -1 now and then. */
function reshapeOf(r: Rng, shape: readonly number[]): number[] {
  const n = numelOf(shape);
  if (chance(r, 0.15)) return randShape(r);
  let out: number[];
  if (n === 0) out = chance(r, 0.5) ? [0] : [...shape].reverse();
  else {
    out = [];
    let rest = n;
    while (rest > 1) {
      const divs = [2, 3, 4, rest].filter((d) => rest % d === 0);
      const d = pick(r, divs);
      out.push(d);
      rest /= d;
    }
    if (chance(r, 0.3)) out.splice(int(r, 0, out.length), 0, 1);
  }
  if (out.length > 0 && chance(r, 0.35)) out[int(r, 0, out.length - 1)] = -1;
  if (chance(r, 0.05)) out.push(-1);
  if (chance(r, 0.03)) out[0] = -2;
  return out;
}

/** A shape broadcastable with `shape` (or not, now and then). */
function partnerShape(r: Rng, shape: readonly number[]): number[] {
  if (chance(r, 0.1)) return randShape(r);
  const s = shape.slice(int(r, 0, shape.length)).map((d) => (chance(r, 0.3) ? 1 : d));
  if (chance(r, 0.2)) s.unshift(pick(r, [1, 2]));
  return s;
}

function viewCase(r: Rng): Case {
  const x = randTensor(r);
  const ng = noGrad(r);
  const s = x.t.shape;
  switch (int(r, 0, 7)) {
    case 0: {
      const sh = reshapeOf(r, s);
      return { family: 'view', op: 'view', form: 'method', args: chance(r, 0.5) ? [x, V(sh)] : [x, ...sh.map(V)], noGrad: ng };
    }
    case 1:
      return { family: 'view', op: 'view', form: 'method', args: [x, V(randDtype(r))], noGrad: ng };
    case 2: {
      const sh = reshapeOf(r, s);
      const form: Form = chance(r, 0.5) ? 'fn' : 'method';
      return { family: 'reshape', op: 'reshape', form, args: form === 'fn' || chance(r, 0.5) ? [x, V(sh)] : [x, ...sh.map(V)], noGrad: ng };
    }
    case 3: {
      const other = T(chance(r, 0.7) ? reshapeOf(r, s).map((d) => (d < 0 ? 1 : d)) : randShape(r), randDtype(r));
      return { family: 'view', op: pick(r, ['view_as', 'reshape_as']), form: 'method', args: [x, other], noGrad: ng };
    }
    case 4: {
      const args: ArgSpec[] = [x];
      if (chance(r, 0.7)) args.push(V(dimArg(r, s.length)));
      if (args.length === 2 && chance(r, 0.6)) args.push(V(dimArg(r, s.length)));
      return { family: 'flatten', op: 'flatten', form: chance(r, 0.5) ? 'fn' : 'method', args, noGrad: ng };
    }
    case 5: {
      const d = dimArg(r, s.length);
      const size = s.length ? s[((d % s.length) + s.length) % s.length]! : 1;
      let sizes = reshapeOf(r, [size]);
      if (chance(r, 0.05)) sizes = [];
      return { family: 'unflatten', op: 'unflatten', form: 'fn', args: [x, V(d), V(sizes)], noGrad: ng };
    }
    case 6: {
      const op = pick(r, ['squeeze', 'squeeze', 'unsqueeze', 'squeeze_', 'unsqueeze_']);
      const form: Form = op.endsWith('_') || chance(r, 0.5) ? 'method' : 'fn';
      if (op.startsWith('unsqueeze')) return { family: op, op, form, args: [x, V(dimArg(r, s.length + 1))], noGrad: ng };
      const u = r();
      if (u < 0.3) return { family: op, op, form, args: [x], noGrad: ng };
      if (u < 0.7) return { family: op, op, form, args: [x, V(dimArg(r, s.length))], noGrad: ng };
      const dims = Array.from({ length: int(r, 0, 3) }, () => dimArg(r, s.length));
      return { family: op, op, form, args: form === 'method' && chance(r, 0.5) && dims.length > 0 ? [x, ...dims.map(V)] : [x, V(dims)], noGrad: ng };
    }
    default: {
      const op = pick(r, ['clone', 'contiguous', 'detach']);
      return { family: 'clone/contiguous', op, form: op === 'contiguous' ? 'method' : pick(r, ['fn', 'method'] as const), args: [x], noGrad: ng };
    }
  }
}

function permuteCase(r: Rng): Case {
  const x = randTensor(r);
  const ng = noGrad(r);
  const n = x.t.shape.length;
  switch (int(r, 0, 5)) {
    case 0: {
      const dims = Array.from({ length: n }, (_, i) => i).sort(() => r() - 0.5).map((d) => (chance(r, 0.3) ? d - n : d));
      if (chance(r, 0.15)) dims.push(int(r, 0, n));
      if (chance(r, 0.1) && dims.length > 1) dims[0] = dims[1]!;
      if (chance(r, 0.05) && dims.length) dims[0] = n + 1;
      const form: Form = chance(r, 0.5) ? 'fn' : 'method';
      return { family: 'permute', op: 'permute', form, args: form === 'method' && chance(r, 0.5) ? [x, ...dims.map(V)] : [x, V(dims)], noGrad: ng };
    }
    case 1:
    case 2: {
      const op = pick(r, ['transpose', 'swapaxes', 'swapdims', 'transpose_', 'swapaxes_', 'swapdims_']);
      return { family: op.replace(/_$/, '') + (op.endsWith('_') ? '_' : ''), op, form: op.endsWith('_') || chance(r, 0.5) ? 'method' : 'fn', args: [x, V(dimArg(r, n)), V(dimArg(r, n))], noGrad: ng };
    }
    case 3: {
      const op = pick(r, ['t', 't', 't_']);
      return { family: op, op, form: op === 't_' || chance(r, 0.5) ? 'method' : 'fn', args: [x], noGrad: ng };
    }
    default: {
      const op = pick(r, ['movedim', 'moveaxis']);
      if (chance(r, 0.4)) return { family: 'movedim', op, form: chance(r, 0.5) ? 'fn' : 'method', args: [x, V(dimArg(r, n)), V(dimArg(r, n))], noGrad: ng };
      const k = int(r, 0, Math.min(n + 1, 3));
      const src = Array.from({ length: k }, () => dimArg(r, n));
      const dst = Array.from({ length: chance(r, 0.9) ? k : int(r, 0, 3) }, () => dimArg(r, n));
      return { family: 'movedim', op, form: chance(r, 0.5) ? 'fn' : 'method', args: [x, V(src), V(dst)], noGrad: ng };
    }
  }
}

function expandCase(r: Rng): Case {
  const x = randTensor(r);
  const ng = noGrad(r);
  const s = x.t.shape;
  switch (int(r, 0, 5)) {
    case 0:
    case 1: {
      const sizes = s.map((d) => (d === 1 && chance(r, 0.5) ? pick(r, [0, 2, 3]) : chance(r, 0.25) ? -1 : chance(r, 0.05) ? d + 1 : d));
      while (chance(r, 0.4)) sizes.unshift(pick(r, [1, 2, 3, -1, 0]));
      if (chance(r, 0.05)) sizes.shift();
      const op = pick(r, ['expand', 'broadcast_to']);
      if (op === 'broadcast_to' && chance(r, 0.5)) return { family: 'expand', op, form: 'fn', args: [x, V(sizes)], noGrad: ng };
      return { family: 'expand', op, form: 'method', args: chance(r, 0.5) ? [x, V(sizes)] : [x, ...sizes.map(V)], noGrad: ng };
    }
    case 2: {
      const other = T(chance(r, 0.8) ? [...(chance(r, 0.3) ? [2] : []), ...s.map((d) => (d === 1 ? pick(r, [1, 3]) : d))] : randShape(r), randDtype(r));
      return { family: 'expand', op: 'expand_as', form: 'method', args: [x, other], noGrad: ng };
    }
    case 3: {
      const ts = [x, ...Array.from({ length: int(r, 0, 3) }, () => randTensor(r, partnerShape(r, s), randDtype(r)))];
      return { family: 'broadcast_tensors', op: 'broadcast_tensors', form: 'fn', args: ts, noGrad: ng };
    }
    default: {
      const op = pick(r, ['repeat', 'tile']);
      const reps = Array.from({ length: Math.max(0, s.length + int(r, -1, 2)) }, () => pick(r, [1, 1, 2, 3, 0, -1]));
      if (op === 'tile' && chance(r, 0.5)) return { family: op, op, form: 'fn', args: [x, V(reps)], noGrad: ng };
      return { family: op, op, form: 'method', args: chance(r, 0.5) || reps.length === 0 ? [x, V(reps)] : [x, ...reps.map(V)], noGrad: ng };
    }
  }
}

function catCase(r: Rng): Case {
  const ng = noGrad(r);
  const base = randShape(r);
  const dtype0 = randDtype(r);
  const n = chance(r, 0.03) ? 0 : int(r, 1, 4);
  const op = pick(r, ['cat', 'cat', 'concat', 'concatenate', 'stack', 'stack', 'hstack', 'vstack', 'dstack', 'column_stack', 'row_stack']);
  const dim = dimArg(r, base.length);
  const ts = Array.from({ length: n }, () => {
    let shape = [...base];
    if (op === 'stack' ? chance(r, 0.1) : shape.length > 0 && chance(r, 0.6)) {
      const d = ((dim % Math.max(shape.length, 1)) + shape.length) % Math.max(shape.length, 1);
      if (op.endsWith('cat') || op.startsWith('concat')) shape[d] = pick(r, [0, 1, 2, 3]);
      else shape[int(r, 0, shape.length - 1)] = pick(r, [0, 1, 2, 3]);
    }
    if (chance(r, 0.08)) shape = chance(r, 0.5) ? [0] : randShape(r);
    return randTensor(r, shape, chance(r, 0.7) ? dtype0 : randDtype(r), 0.3);
  });
  const kw = (op.endsWith('cat') || op.startsWith('concat') || op === 'stack') && chance(r, 0.7) ? { dim: V(op === 'stack' ? dimArg(r, base.length + 1) : dim) } : undefined;
  return { family: op, op, form: 'fn', args: [L(ts)], kw, noGrad: ng };
}

function splitCase(r: Rng): Case {
  const x = randTensor(r);
  const ng = noGrad(r);
  const s = x.t.shape;
  const dim = dimArg(r, s.length);
  const size = s.length ? s[((dim % s.length) + s.length) % s.length] ?? 1 : 1;
  switch (int(r, 0, 5)) {
    case 0: {
      const sz = pick(r, [1, 2, 3, 5, 0, -1]);
      const form: Form = chance(r, 0.5) ? 'fn' : 'method';
      return { family: 'split', op: 'split', form, args: [x, V(sz)], kw: chance(r, 0.7) ? { dim: V(dim) } : undefined, noGrad: ng };
    }
    case 1: {
      const sizes: number[] = [];
      let rest = size;
      while (rest > 0 && sizes.length < 4) {
        const k = int(r, 0, rest);
        sizes.push(k);
        rest -= k;
      }
      if (rest > 0 || sizes.length === 0) sizes.push(rest);
      if (chance(r, 0.2)) sizes.push(pick(r, [1, -1, 0]));
      const op = pick(r, ['split', 'split_with_sizes']);
      return { family: op, op, form: chance(r, 0.5) ? 'fn' : 'method', args: [x, V(sizes), V(dim)], noGrad: ng };
    }
    case 2:
      return { family: 'chunk', op: 'chunk', form: chance(r, 0.5) ? 'fn' : 'method', args: [x, V(pick(r, [1, 2, 3, 4, 0]))], kw: chance(r, 0.7) ? { dim: V(dim) } : undefined, noGrad: ng };
    case 3: {
      // (an empty result list is left out: strict mode cannot check zero outputs yet)
      const args = chance(r, 0.7) ? [x, V(dim)] : [x];
      const d = args.length > 1 ? dim : 0;
      if (s.length > 0 && d >= -s.length && d < s.length && s[(d + s.length) % s.length] === 0) s[(d + s.length) % s.length] = 2;
      return { family: 'unbind', op: 'unbind', form: chance(r, 0.5) ? 'fn' : 'method', args, noGrad: ng };
    }
    default: {
      const form: Form = chance(r, 0.5) ? 'fn' : 'method';
      if (chance(r, 0.5)) return { family: 'tensor_split', op: 'tensor_split', form, args: [x, V(pick(r, [1, 2, 3, 5, 0]))], kw: chance(r, 0.6) ? { dim: V(dim) } : undefined, noGrad: ng };
      const idx = Array.from({ length: int(r, 0, 3) }, () => int(r, -size - 1, size + 1));
      return { family: 'tensor_split', op: 'tensor_split', form, args: [x, V(idx)], kw: chance(r, 0.6) ? { dim: V(dim) } : undefined, noGrad: ng };
    }
  }
}

function sliceCase(r: Rng): Case {
  const x = randTensor(r);
  const ng = noGrad(r);
  const s = x.t.shape;
  const dim = dimArg(r, s.length);
  const size = s.length ? s[((dim % s.length) + s.length) % s.length] ?? 1 : 1;
  if (chance(r, 0.6)) {
    const op = pick(r, ['narrow', 'narrow', 'narrow_copy']);
    const start: ArgSpec = op === 'narrow' && chance(r, 0.1) ? T([], pick(r, [torch.int64, torch.int32, torch.float32])) : V(int(r, -size - 1, size + 1));
    return { family: op, op, form: chance(r, 0.5) ? 'fn' : 'method', args: [x, V(dim), start, V(int(r, -1, size + 1))], noGrad: ng };
  }
  return { family: 'select', op: 'select', form: chance(r, 0.5) ? 'fn' : 'method', args: [x, V(dim), V(int(r, -size - 1, size))], noGrad: ng };
}

function flipCase(r: Rng): Case {
  const x = randTensor(r);
  const ng = noGrad(r);
  const n = x.t.shape.length;
  const form: Form = chance(r, 0.5) ? 'fn' : 'method';
  switch (int(r, 0, 4)) {
    case 0: {
      const dims = Array.from({ length: int(r, 0, 3) }, () => dimArg(r, n));
      return { family: 'flip', op: 'flip', form, args: form === 'method' && chance(r, 0.5) && dims.length ? [x, ...dims.map(V)] : [x, V(dims)], noGrad: ng };
    }
    case 1:
      return { family: 'flip', op: pick(r, ['fliplr', 'flipud']), form, args: [x], noGrad: ng };
    case 2: {
      const k = int(r, 0, 3);
      const shifts = chance(r, 0.3) ? V(int(r, -3, 3)) : V(Array.from({ length: k }, () => int(r, -3, 3)));
      const dims = chance(r, 0.3) ? [] : chance(r, 0.3) ? [V(dimArg(r, n))] : [V(Array.from({ length: chance(r, 0.8) ? k : int(r, 0, 3) }, () => dimArg(r, n)))];
      return { family: 'roll', op: 'roll', form, args: [x, shifts, ...dims], noGrad: ng };
    }
    case 3: {
      const args: ArgSpec[] = [x];
      if (chance(r, 0.7)) args.push(V(int(r, -5, 5)));
      if (args.length === 2 && chance(r, 0.6)) args.push(V(Array.from({ length: chance(r, 0.85) ? 2 : int(r, 0, 3) }, () => dimArg(r, n))));
      return { family: 'rot90', op: 'rot90', form, args, noGrad: ng };
    }
    default: {
      const op = pick(r, ['tril', 'triu']);
      return { family: 'tril/triu', op, form, args: chance(r, 0.5) ? [x, V(int(r, -3, 3))] : [x], noGrad: ng };
    }
  }
}

function diagCase(r: Rng): Case {
  const x = randTensor(r, randShape(r, 4));
  const ng = noGrad(r);
  const n = x.t.shape.length;
  const form: Form = chance(r, 0.5) ? 'fn' : 'method';
  switch (int(r, 0, 3)) {
    case 0: {
      const args: ArgSpec[] = [x];
      if (chance(r, 0.7)) args.push(V(int(r, -4, 4)));
      if (args.length > 1 && chance(r, 0.6)) args.push(V(dimArg(r, n)), V(dimArg(r, n)));
      return { family: 'diagonal', op: 'diagonal', form, args, noGrad: ng };
    }
    case 1: {
      const kw = chance(r, 0.5) ? { offset: V(int(r, -3, 3)), dim1: V(dimArg(r, n)), dim2: V(dimArg(r, n)) } : undefined;
      return { family: 'diagonal', op: 'linalg.diagonal', form: 'fn', args: [x], kw, noGrad: ng };
    }
    case 2: {
      const y = randTensor(r, randShape(r, 2));
      return { family: 'diag', op: 'diag', form, args: chance(r, 0.5) ? [y, V(int(r, -4, 4))] : [y], noGrad: ng };
    }
    default: {
      const args: ArgSpec[] = [x];
      if (chance(r, 0.7)) args.push(V(int(r, -3, 3)));
      if (args.length > 1 && chance(r, 0.6)) args.push(V(dimArg(r, n + 1)), V(dimArg(r, n + 1)));
      return { family: 'diag_embed', op: 'diag_embed', form, args, noGrad: ng };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// gather / scatter generators

const INDEX_DTYPES = [torch.int64, torch.int64, torch.int64, torch.int32, torch.float32, torch.int16];
const indexDtype = (r: Rng) => pick(r, INDEX_DTYPES);

/** A shape no larger than `shape` (mostly), for index tensors. */
function smallerShape(r: Rng, shape: readonly number[], dim: number): number[] {
  if (chance(r, 0.08)) return randShape(r);
  return shape.map((d, i) => (i === dim ? pick(r, [1, 2, 3]) : chance(r, 0.15) ? d + 1 : chance(r, 0.4) ? Math.max(d - 1, 0) : d));
}

function gatherCase(r: Rng): Case {
  const x = randTensor(r);
  const ng = noGrad(r);
  const s = x.t.shape;
  const n = s.length;
  const dim = dimArg(r, n);
  const wd = n ? ((dim % n) + n) % n : 0;
  const form: Form = chance(r, 0.5) ? 'fn' : 'method';
  // index values are 0: valid unless the indexed dim is empty
  const okDim = (shape: readonly number[]) => n === 0 || (shape[wd] ?? 1) > 0;
  switch (int(r, 0, 9)) {
    case 0:
    case 1: {
      const idx = T(okDim(s) ? smallerShape(r, s, wd) : [0, ...s.slice(1)].slice(0, n), indexDtype(r));
      return { family: 'gather', op: 'gather', form, args: [x, V(dim), idx], noGrad: ng };
    }
    case 2: {
      const ishape = s.map((d, i) => (i === wd ? pick(r, [1, 2]) : chance(r, 0.7) ? d : 1));
      if (chance(r, 0.1)) ishape.pop();
      const idx = T(okDim(s) ? ishape : [], pick(r, [torch.int64, torch.int64, torch.int32]));
      return { family: 'take_along_dim', op: 'take_along_dim', form, args: chance(r, 0.3) ? [x, idx] : [x, idx, V(dim)], noGrad: ng };
    }
    case 3: {
      const idx = T(numelOf(s) > 0 ? randShape(r) : chance(r, 0.5) ? [0] : [2], pick(r, [torch.int64, torch.int64, torch.int32]));
      return { family: 'take', op: 'take', form, args: [x, idx], noGrad: ng };
    }
    case 4:
    case 5:
    case 6: {
      const op = pick(r, ['scatter', 'scatter', 'scatter_add', 'scatter_reduce', 'scatter_', 'scatter_add_', 'scatter_reduce_']);
      const base = op.replace(/_$/, '');
      const f: Form = op.endsWith('_') ? 'method' : form;
      const ishape = okDim(s) ? smallerShape(r, s, wd).map((d, i) => (i === wd ? Math.min(d, s[i] ?? 1) : d)) : [0];
      const idx = T(ishape, indexDtype(r));
      const srcShape = chance(r, 0.8) ? ishape.map((d) => d + (chance(r, 0.3) ? 1 : 0)) : randShape(r);
      const src = randTensor(r, srcShape, chance(r, 0.8) ? x.t.dtype : randDtype(r), 0.3);
      if (base === 'scatter_reduce') {
        const kw = chance(r, 0.4) ? { include_self: V(chance(r, 0.5)) } : undefined;
        return { family: base, op, form: f, args: [x, V(dim), idx, src, V(pick(r, ['sum', 'prod', 'mean', 'amax', 'amin', 'add']))], kw, noGrad: ng };
      }
      if (base === 'scatter_add') return { family: base, op, form: f, args: [x, V(dim), idx, src], noGrad: ng };
      const value = chance(r, 0.35) ? V(pick(r, [1, 2.5, true, -3])) : src;
      const kw = chance(r, 0.2) ? { reduce: V(pick(r, ['add', 'multiply', 'sum'])) } : undefined;
      return { family: 'scatter', op, form: f, args: [x, V(dim), idx, value], kw, noGrad: ng };
    }
    default: {
      const op = pick(r, ['index_select', 'index_select', 'index_add', 'index_copy', 'index_fill', 'index_add_', 'index_copy_', 'index_fill_']);
      const base = op.replace(/_$/, '');
      const f: Form = op.endsWith('_') ? 'method' : form;
      const size = n ? s[wd]! : 1;
      const k = size > 0 ? pick(r, [0, 1, 2, 3]) : 0;
      const ishape = chance(r, 0.1) ? (size > 0 ? [] : [0]) : chance(r, 0.05) ? [k, 1] : [k];
      const idx = T(ishape, chance(r, 0.8) ? torch.int64 : indexDtype(r));
      const kk = numelOf(ishape);
      if (base === 'index_select') return { family: base, op, form: f, args: [x, V(dim), idx], noGrad: ng };
      if (base === 'index_fill') {
        const value = chance(r, 0.6) ? V(pick(r, [1, 2.5, true])) : randTensor(r, chance(r, 0.8) ? [] : [1], randDtype(r), 0.3);
        return { family: base, op, form: f, args: [x, V(dim), idx, value], noGrad: ng };
      }
      const srcShape = chance(r, 0.85) ? (n ? s.map((d, i) => (i === wd ? (chance(r, 0.85) ? kk : kk + 1) : chance(r, 0.1) ? d + 1 : d)) : chance(r, 0.7) ? [] : [kk]) : randShape(r);
      const src = randTensor(r, srcShape, chance(r, 0.8) ? x.t.dtype : randDtype(r), 0.3);
      const kw = base === 'index_add' && chance(r, 0.3) ? { alpha: V(pick(r, [2, 0.5, true])) } : undefined;
      return { family: base, op, form: f, args: [x, V(dim), idx, src], kw, noGrad: ng };
    }
  }
}

function maskedCase(r: Rng): Case {
  const x = randTensor(r);
  const ng = noGrad(r);
  const s = x.t.shape;
  const maskDtype = chance(r, 0.85) ? torch.bool : pick(r, [torch.uint8, torch.float32, torch.int64]);
  const mask = T(chance(r, 0.85) ? partnerShape(r, s) : randShape(r), maskDtype);
  const u = r();
  if (u < 0.5) {
    const op = chance(r, 0.3) ? 'masked_fill_' : 'masked_fill';
    const value = chance(r, 0.6) ? V(pick(r, [0, 1.5, -2, true])) : randTensor(r, chance(r, 0.85) ? [] : [1], randDtype(r), 0.3);
    return { family: 'masked_fill', op, form: op.endsWith('_') || chance(r, 0.5) ? 'method' : 'fn', args: [x, mask, value], noGrad: ng };
  }
  if (u < 0.75) {
    const op = chance(r, 0.3) ? 'masked_scatter_' : 'masked_scatter';
    const src = randTensor(r, chance(r, 0.7) ? s : randShape(r), chance(r, 0.8) ? x.t.dtype : randDtype(r), 0.3);
    return { family: 'masked_scatter', op, form: op.endsWith('_') || chance(r, 0.5) ? 'method' : 'fn', args: [x, mask, src], noGrad: ng };
  }
  const op = chance(r, 0.3) ? 'put_' : 'put';
  const k = numelOf(s) > 0 ? int(r, 0, 3) : pick(r, [0, 0, 1]);
  const idx = T(chance(r, 0.5) ? [k] : [1, k], chance(r, 0.85) ? torch.int64 : indexDtype(r));
  const src = randTensor(r, chance(r, 0.85) ? [k] : [k + 1], chance(r, 0.85) ? x.t.dtype : randDtype(r), 0.3);
  const args: ArgSpec[] = [x, idx, src];
  if (chance(r, 0.3)) args.push(V(chance(r, 0.5)));
  return { family: 'put', op, form: op.endsWith('_') || chance(r, 0.5) ? 'method' : 'fn', args, noGrad: ng };
}

// ---------------------------------------------------------------------------------------------

describe('shape mirror: differential against torch', () => {
  it('view / reshape / flatten / unflatten / squeeze / clone', async () => {
    await runFamily(viewCase, 101, 1800);
  });
  it('permute / transpose / t / movedim', async () => {
    await runFamily(permuteCase, 202, 1000);
  });
  it('expand / broadcast / repeat / tile', async () => {
    await runFamily(expandCase, 303, 900);
  });
  it('cat / stack / hstack / vstack / dstack', async () => {
    await runFamily(catCase, 404, 1200);
  });
  it('split / chunk / unbind / tensor_split / narrow / select', async () => {
    await runFamily(splitCase, 505, 900);
    await runFamily(sliceCase, 506, 700);
  });
  it('flip / roll / rot90 / tril / diagonal / diag / diag_embed', async () => {
    await runFamily(flipCase, 606, 900);
    await runFamily(diagCase, 607, 700);
  });
  it('gather / scatter / index_* / take / masked_* / put', async () => {
    await runFamily(gatherCase, 707, 2200);
    await runFamily(maskedCase, 708, 1000);
  });
  it('agrees with torch (metadata always; error messages >= 95%)', () => {
    report('shape / gather-scatter mirror vs torch');
    checkAgreement(95);
  });
});

// ---------------------------------------------------------------------------------------------
// targeted cases

describe('shape mirror: targeted cases', () => {
  it('views made under no_grad still require grad; copies do not', async () => {
    const x = torch.randn([3, 4], { requires_grad: true });
    torch.no_grad(() => {
      const v = x.view(12);
      expect([v.requires_grad, v.is_leaf]).toEqual([true, true]);
      const t = x.t();
      expect([t.requires_grad, t.is_leaf]).toEqual([true, true]);
      const parts = x.split(2, 1) as unknown as Tensor[];
      expect(parts.map((p) => p.requires_grad)).toEqual([true, true]);
      const f = x.flip(0);
      expect([f.requires_grad, f.is_leaf]).toEqual([false, true]);
    });
    const v = x.view(torch.int32);
    expect([v.dtype, v.requires_grad, v.is_leaf]).toEqual([torch.int32, false, true]);
    await torch.sync();
  });

  it('flatten of a single dim returns the input itself', async () => {
    const x = torch.randn([3], { requires_grad: true });
    const y = x.flatten();
    expect([y.requires_grad, y.is_leaf]).toEqual([true, true]);
    const [a, b] = torch.broadcast_tensors(x, torch.zeros([2, 3])) as unknown as Tensor[];
    expect(a!.shape).toEqual([2, 3]);
    expect(b!.is_leaf).toBe(true);
    await torch.sync();
  });

  it('in-place shape changers update the tensor they modify', async () => {
    const x = torch.zeros([3, 1, 2]);
    x.squeeze_();
    expect(x.shape).toEqual([3, 2]);
    x.unsqueeze_(0);
    expect(x.shape).toEqual([1, 3, 2]);
    x.transpose_(0, 2);
    expect(x.shape).toEqual([2, 3, 1]);
    const leaf = torch.zeros([2, 1], { requires_grad: true });
    expect(syncError(() => leaf.squeeze_()).pyMessage).toBe('a leaf Variable that requires grad is being used in an in-place operation.');
    await torch.sync();
  });

  it('cat promotes across its inputs and skips legacy empty 1-D tensors', async () => {
    const y = torch.cat([torch.zeros([2, 3], { dtype: torch.int32 }), torch.zeros([0], { dtype: torch.int8 }), torch.zeros([1, 3], { dtype: torch.float16 })]);
    expect([y.shape, y.dtype]).toEqual([[3, 3], torch.float16]);
    const e = syncError(() => torch.cat([torch.zeros([2, 3]), torch.zeros([2, 4])]));
    expect(e.pyMessage).toBe('Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor number 1 in the list.');
    await torch.sync();
  });

  it('split / chunk / tensor_split give lists the mirror knows', async () => {
    const x = torch.zeros([7, 2]);
    expect((x.split(3) as unknown as Tensor[]).map((t) => t.shape[0])).toEqual([3, 3, 1]);
    expect((x.chunk(3) as unknown as Tensor[]).map((t) => t.shape[0])).toEqual([3, 3, 1]);
    expect((x.tensor_split(3) as unknown as Tensor[]).map((t) => t.shape[0])).toEqual([3, 2, 2]);
    expect((x.tensor_split([1, 5]) as unknown as Tensor[]).map((t) => t.shape[0])).toEqual([1, 4, 2]);
    expect((torch.unbind(x, 1) as unknown as Tensor[]).map((t) => t.shape)).toEqual([[7], [7]]);
    await torch.sync();
  });

  it('throws torch\'s errors at the call site', async () => {
    const x = torch.zeros([2, 3]);
    expect(syncError(() => x.expand(3)).pyMessage).toBe(
      'expand(torch.FloatTensor{[2, 3]}, size=[3]): the number of sizes provided (1) must be greater or equal to the number of dimensions in the tensor (2)',
    );
    expect(syncError(() => x.permute(0, 0)).pyMessage).toBe('permute(): duplicate dims are not allowed.');
    expect(syncError(() => torch.zeros([2, 3, 4]).t()).pyMessage).toBe('t() expects a tensor with <= 2 dimensions, but self is 3D');
    expect(syncError(() => x.view(torch.float64)).pyMessage).toBe('self.size(-1) must be divisible by 2 to view Float as Double (different element sizes), but got 3');
    const g = syncError(() => x.gather(1, torch.zeros([2, 2])));
    expect(g.pyMessage).toBe('gather(): Expected dtype int32/int64 for index');
    const m = syncError(() => x.masked_fill(torch.zeros([3], { dtype: torch.uint8 }), 1));
    expect(m.pyMessage).toBe('masked_fill_ only supports boolean masks, but got mask with dtype unsigned char');
    await torch.sync();
  });

  it('gather / take / masked_fill shapes', async () => {
    const x = torch.zeros([3, 4]);
    expect(x.gather(1, torch.zeros([2, 5], { dtype: torch.int64 })).shape).toEqual([2, 5]);
    expect(x.take(torch.zeros([5, 2], { dtype: torch.int64 })).shape).toEqual([5, 2]);
    expect(x.masked_fill(torch.zeros([2, 1, 4], { dtype: torch.bool }), 1.5).shape).toEqual([2, 3, 4]);
    expect(torch.take_along_dim(x, torch.zeros([1, 2], { dtype: torch.int64 }), 1).shape).toEqual([3, 2]);
    expect(torch.take_along_dim(x, torch.zeros([5, 2], { dtype: torch.int64 })).shape).toEqual([10]);
    await torch.sync();
  });
});
