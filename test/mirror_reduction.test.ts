/**
 * Differential suite for the mirror's reductions and scans (src/ops/reduction.ts): thousands
 * of seeded random calls through the public API. When the mirror accepts a call, strict mode
 * checks its predicted metadata against torch's at the next sync point; when it throws at the
 * call site, the same call is sent unmirrored (torch.call) and torch's error type and message
 * are compared with the mirror's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import torch, { ArgumentError, MirrorMismatchError, Tensor, TorchError } from '../src/index.js';
import { defineOp, invoke, type OpDef } from '../src/ops/dispatch.js';
import { RULES } from '../src/ops/rules.js';
import type { DType } from '../src/tensor/dtype.js';

beforeAll(async () => {
  await torch.init();
});
afterAll(async () => {
  await torch.shutdown();
});

// ---------------------------------------------------------------------------------------------
// random inputs

// the seeded PRNG and the dtype list: test/fixtures/differential.ts
import { MAIN as DTYPES, chance, int, mulberry32, pick, type Rng } from './fixtures/differential.js';
import { syncError, pythonError } from './fixtures/errors.js';
const KW_DTYPES: readonly DType[] = DTYPES;
const isFloating = (t: DType) => t.is_floating_point || t.is_complex;

function randShape(r: Rng): number[] {
  const ndim = pick(r, [0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4]);
  return Array.from({ length: ndim }, () => (chance(r, 0.08) ? 0 : pick(r, [1, 1, 2, 3, 4, 5])));
}

/** Tensors made for a batch; disposed when it ends. */
class Pool {
  readonly made: Tensor[] = [];
  constructor(readonly r: Rng) {}
  make(shape: number[], dtype: DType, grad = false): Tensor {
    let t: Tensor;
    if (isFloating(dtype)) t = torch.randn(shape, { dtype, requires_grad: grad });
    else if (dtype === torch.bool) t = torch.randint(0, 2, shape, { dtype });
    else if (dtype === torch.uint8) t = torch.randint(0, 5, shape, { dtype });
    else t = torch.randint(-3, 4, shape, { dtype });
    this.made.push(t);
    if (grad && chance(this.r, 0.3)) {
      t = t.mul(2); // a non-leaf
      this.made.push(t);
    }
    return t;
  }
  input(): Tensor {
    const dtype = pick(this.r, DTYPES);
    return this.make(randShape(this.r), dtype, isFloating(dtype) && chance(this.r, 0.4));
  }
  /** A tensor broadcastable with x most of the time. */
  partner(x: Tensor): Tensor {
    const r = this.r;
    let shape: number[];
    if (chance(r, 0.15)) shape = [];
    else if (chance(r, 0.1)) shape = randShape(r);
    else {
      shape = x.shape.slice(int(r, 0, x.ndim)).map((s) => (chance(r, 0.3) ? 1 : s));
      if (chance(r, 0.2)) shape.unshift(pick(r, [1, 2]));
    }
    const dtype = pick(r, DTYPES);
    return this.make(shape, dtype, isFloating(dtype) && chance(r, 0.3));
  }
  dispose(): void {
    for (const t of this.made) t.dispose();
    this.made.length = 0;
  }
}

/** A dim for x: usually valid, sometimes out of range. */
function randDim(r: Rng, x: Tensor): number {
  const n = Math.max(x.ndim, 1);
  if (chance(r, 0.07)) return pick(r, [n, -n - 1, n + 1]);
  return int(r, -n, n - 1);
}
/** A list of dims: usually distinct, sometimes repeated (also as d and d - ndim). */
function randDimList(r: Rng, x: Tensor, min = 0): number[] {
  const n = Math.max(x.ndim, 1);
  const len = int(r, min, Math.min(n, 3));
  const dims = Array.from({ length: n }, (_, i) => i)
    .sort(() => r() - 0.5)
    .slice(0, len)
    .map((d) => (chance(r, 0.3) ? d - n : d));
  if (chance(r, 0.06) && dims.length > 0) dims.push(chance(r, 0.5) ? dims[0]! : dims[0]! < 0 ? dims[0]! + n : dims[0]! - n);
  if (chance(r, 0.05)) dims.push(pick(r, [n, -n - 1]));
  // a repeat and an out-of-range dim together: which error torch reports depends on the op
  if (chance(r, 0.03)) return [0, chance(r, 0.5) ? 0 : -n, n];
  return dims;
}
const randDims = (r: Rng, x: Tensor, nullable = true): number | number[] | null =>
  chance(r, 0.4) ? randDim(r, x) : nullable && chance(r, 0.1) ? null : randDimList(r, x);
const randKeep = (r: Rng) => chance(r, 0.5);
const randDtype = (r: Rng) => pick(r, KW_DTYPES);

// ---------------------------------------------------------------------------------------------
// cases

type Args = unknown[];
type Form = 'fn' | 'method' | 'nnf';

interface OpCase {
  /** how the op is called */
  form: Form;
  /** an OpDef for overloads the generated API lacks (max(dim) & co.) */
  def?: OpDef;
  /** positional arguments after the input, then kwargs (or undefined) */
  pos: Args;
  kw?: Record<string, unknown>;
}

interface OpFamily {
  name: string;
  outputs: number;
  forms: readonly Form[];
  def?: OpDef;
  args(r: Rng, x: Tensor, pool: Pool): { pos: Args; kw?: Record<string, unknown> };
  input?: (pool: Pool) => Tensor;
}

/** Overloads the generated API does not expose yet (its generator keeps one return kind per name). */
const withDim = (name: string): OpDef =>
  Object.assign(defineOp(`${name}(Tensor input, int dim, bool keepdim=False)`, RULES.get(name)), { outputs: 2 });
const DIM_DEFS = { max: withDim('max'), min: withDim('min'), median: withDim('median'), nanmedian: withDim('nanmedian') };

const sumLike = (r: Rng, x: Tensor) => {
  switch (int(r, 0, 5)) {
    case 0:
      return { pos: [] };
    case 1:
      return { pos: [], kw: { dtype: randDtype(r) } };
    case 2:
      return { pos: [randDims(r, x)] };
    case 3:
      return { pos: [randDims(r, x), randKeep(r)] };
    case 4:
      return { pos: [randDims(r, x)], kw: { keepdim: randKeep(r), dtype: randDtype(r) } };
    default:
      return { pos: [], kw: { dim: randDims(r, x), keepdim: randKeep(r) } };
  }
};
const oneDimKeep = (r: Rng, x: Tensor) => {
  switch (int(r, 0, 2)) {
    case 0:
      return { pos: [randDim(r, x)] };
    case 1:
      return { pos: [randDim(r, x), randKeep(r)] };
    default:
      return { pos: [randDim(r, x)], kw: { keepdim: randKeep(r) } };
  }
};
const optDimKeep = (r: Rng, x: Tensor) => (chance(r, 0.25) ? { pos: [] } : oneDimKeep(r, x));
const FN_METHOD: readonly Form[] = ['fn', 'method'];

const momentArgs = (r: Rng, x: Tensor) => {
  const correction = () => pick(r, [0, 1, 2, 0.5, true, null]);
  switch (int(r, 0, 6)) {
    case 0:
      return { pos: [] };
    case 1:
      return { pos: [randDims(r, x)] };
    case 2:
      return { pos: [randDims(r, x), randKeep(r)] };
    case 3:
      return { pos: [randDims(r, x), randKeep(r), randKeep(r)] };
    case 4:
      return { pos: [randDims(r, x)], kw: { correction: correction(), keepdim: randKeep(r) } };
    case 5:
      return { pos: [], kw: { correction: correction() } };
    default:
      return { pos: [randKeep(r)] };
  }
};

const kFor = (r: Rng, x: Tensor, dim: number | undefined, lo: number) => {
  const n = Math.max(x.ndim, 1);
  const d = dim === undefined ? -1 : dim;
  const size = x.ndim === 0 ? 1 : d >= -n && d < n ? x.shape[d < 0 ? d + n : d]! : 1;
  return chance(r, 0.1) ? pick(r, [size + 1, lo - 1]) : int(r, lo, size);
};

const FAMILIES: OpFamily[] = [
  { name: 'sum', outputs: 1, forms: FN_METHOD, args: sumLike },
  { name: 'mean', outputs: 1, forms: FN_METHOD, args: sumLike },
  { name: 'nansum', outputs: 1, forms: FN_METHOD, args: sumLike },
  { name: 'nanmean', outputs: 1, forms: FN_METHOD, args: sumLike },
  {
    name: 'prod',
    outputs: 1,
    forms: FN_METHOD,
    args: (r, x) => {
      switch (int(r, 0, 3)) {
        case 0:
          return { pos: [] };
        case 1:
          return { pos: [], kw: { dtype: randDtype(r) } };
        case 2:
          return { pos: [randDim(r, x), randKeep(r)] };
        default:
          return { pos: [randDim(r, x)], kw: { keepdim: randKeep(r), dtype: randDtype(r) } };
      }
    },
  },
  ...(['max', 'min'] as const).flatMap((name): OpFamily[] => [
    { name, outputs: 1, forms: FN_METHOD, args: (r, x, pool) => (chance(r, 0.5) ? { pos: [] } : { pos: [pool.partner(x)] }) },
    { name, outputs: 2, forms: FN_METHOD, def: DIM_DEFS[name], args: oneDimKeep },
  ]),
  ...(['argmax', 'argmin'] as const).map(
    (name): OpFamily => ({
      name,
      outputs: 1,
      forms: FN_METHOD,
      args: (r, x) => (chance(r, 0.2) ? { pos: [null, randKeep(r)] } : optDimKeep(r, x)),
    }),
  ),
  ...(['amax', 'amin'] as const).map(
    (name): OpFamily => ({
      name,
      outputs: 1,
      forms: FN_METHOD,
      args: (r, x) => (chance(r, 0.2) ? { pos: [] } : { pos: [randDims(r, x, false), randKeep(r)] }),
    }),
  ),
  {
    name: 'aminmax',
    outputs: 2,
    forms: FN_METHOD,
    args: (r, x) => (chance(r, 0.3) ? { pos: [], kw: { keepdim: randKeep(r) } } : { pos: [], kw: { dim: randDim(r, x), keepdim: randKeep(r) } }),
  },
  { name: 'std', outputs: 1, forms: FN_METHOD, args: momentArgs },
  { name: 'var', outputs: 1, forms: FN_METHOD, args: momentArgs },
  { name: 'std_mean', outputs: 2, forms: ['fn'], args: momentArgs },
  { name: 'var_mean', outputs: 2, forms: ['fn'], args: momentArgs },
  {
    name: 'norm',
    outputs: 1,
    forms: FN_METHOD,
    args: (r, x) => {
      const p = () => pick(r, [2, 2, 1, 0, -1, 3, 0.5, -0.5, -2.5, -1e-7, -123456789, Infinity, -Infinity, 'fro', 'fro', null, 'nuc']);
      const dim = () => (chance(r, 0.3) ? null : chance(r, 0.5) ? randDim(r, x) : randDimList(r, x));
      const dtype = () => (chance(r, 0.7) ? null : randDtype(r));
      switch (int(r, 0, 3)) {
        case 0:
          return { pos: [] };
        case 1:
          return { pos: [p()] };
        case 2:
          return { pos: [p(), dim(), randKeep(r)] };
        default:
          return { pos: [], kw: { p: p(), dim: dim(), keepdim: randKeep(r), dtype: dtype() } };
      }
    },
  },
  {
    name: 'logsumexp',
    outputs: 1,
    forms: FN_METHOD,
    args: (r, x) => (chance(r, 0.5) ? { pos: [randDims(r, x, false)] } : { pos: [randDims(r, x, false), randKeep(r)] }),
  },
  ...(['cumsum', 'cumprod'] as const).map(
    (name): OpFamily => ({
      name,
      outputs: 1,
      forms: FN_METHOD,
      args: (r, x) => (chance(r, 0.5) ? { pos: [randDim(r, x)] } : { pos: [randDim(r, x)], kw: { dtype: randDtype(r) } }),
    }),
  ),
  ...(['cummax', 'cummin'] as const).map((name): OpFamily => ({ name, outputs: 2, forms: FN_METHOD, args: (r, x) => ({ pos: [randDim(r, x)] }) })),
  { name: 'logcumsumexp', outputs: 1, forms: FN_METHOD, args: (r, x) => ({ pos: [randDim(r, x)] }) },
  ...(['softmax', 'log_softmax'] as const).flatMap((name): OpFamily[] => [
    {
      name,
      outputs: 1,
      forms: FN_METHOD,
      args: (r, x) => {
        switch (int(r, 0, 2)) {
          case 0:
            return { pos: [randDim(r, x)] };
          case 1:
            return { pos: [randDim(r, x), randDtype(r)] };
          default:
            return { pos: [randDim(r, x)], kw: { dtype: randDtype(r) } };
        }
      },
    },
    {
      name,
      outputs: 1,
      forms: ['nnf'],
      args: (r, x) => {
        switch (int(r, 0, 3)) {
          case 0:
            return { pos: [randDim(r, x)] };
          case 1:
            return { pos: [], kw: { dim: chance(r, 0.3) ? null : randDim(r, x), dtype: chance(r, 0.5) ? null : randDtype(r) } };
          case 2:
            return { pos: [randDim(r, x), 3, randDtype(r)] };
          default:
            return { pos: [null] };
        }
      },
    },
  ]),
  ...(['any', 'all'] as const).map(
    (name): OpFamily => ({
      name,
      outputs: 1,
      forms: FN_METHOD,
      args: (r, x) => {
        switch (int(r, 0, 4)) {
          case 0:
            return { pos: [] };
          case 1:
            return { pos: [randDim(r, x), randKeep(r)] };
          case 2:
            return { pos: [randDimList(r, x), randKeep(r)] };
          case 3:
            return { pos: [null], kw: { keepdim: randKeep(r) } };
          default:
            return { pos: [], kw: { dim: randDims(r, x), keepdim: randKeep(r) } };
        }
      },
    }),
  ),
  {
    name: 'count_nonzero',
    outputs: 1,
    forms: FN_METHOD,
    args: (r, x) => (chance(r, 0.2) ? { pos: [] } : chance(r, 0.5) ? { pos: [randDim(r, x)] } : { pos: [randDimList(r, x)] }),
  },
  {
    name: 'topk',
    outputs: 2,
    forms: FN_METHOD,
    args: (r, x) => {
      const dim = chance(r, 0.3) ? undefined : randDim(r, x);
      const k = kFor(r, x, dim, 0);
      if (dim === undefined) return { pos: [k] };
      return chance(r, 0.5) ? { pos: [k, dim, randKeep(r), randKeep(r)] } : { pos: [k], kw: { dim, largest: randKeep(r), sorted: randKeep(r) } };
    },
  },
  ...(['sort', 'argsort'] as const).map(
    (name): OpFamily => ({
      name,
      outputs: name === 'sort' ? 2 : 1,
      forms: FN_METHOD,
      args: (r, x) => {
        switch (int(r, 0, 3)) {
          case 0:
            return { pos: [] };
          case 1:
            return { pos: [randDim(r, x), randKeep(r)] };
          case 2:
            return { pos: [], kw: { dim: randDim(r, x), descending: randKeep(r) } };
          default:
            return { pos: [], kw: { stable: randKeep(r), dim: randDim(r, x), descending: randKeep(r) } };
        }
      },
    }),
  ),
  {
    name: 'kthvalue',
    outputs: 2,
    forms: FN_METHOD,
    args: (r, x) => {
      const dim = chance(r, 0.3) ? undefined : randDim(r, x);
      const k = kFor(r, x, dim, 1);
      return dim === undefined ? { pos: [k] } : { pos: [k, dim, randKeep(r)] };
    },
  },
  ...(['median', 'nanmedian'] as const).flatMap((name): OpFamily[] => [
    { name, outputs: 1, forms: FN_METHOD, args: () => ({ pos: [] }) },
    { name, outputs: 2, forms: FN_METHOD, def: DIM_DEFS[name], args: oneDimKeep },
  ]),
  { name: 'mode', outputs: 2, forms: FN_METHOD, args: optDimKeep },
];

// ---------------------------------------------------------------------------------------------
// running cases

interface Case {
  op: string;
  family: OpFamily;
  form: Form;
  x: Tensor;
  pos: Args;
  kw?: Record<string, unknown>;
  noGrad: boolean;
}

type Fn = (...a: unknown[]) => unknown;

function describeArg(v: unknown): string {
  if (v instanceof Tensor) return `T(${v.dtype.name}[${v.shape.join(',')}]${v.requires_grad ? ',grad' : ''})`;
  if (Array.isArray(v)) return `[${v.map(describeArg).join(', ')}]`;
  if (v instanceof torch.dtype) return `torch.${v.name}`;
  if (v && typeof v === 'object') {
    return `{${Object.entries(v).map(([k, w]) => `${k}: ${describeArg(w)}`).join(', ')}}`;
  }
  return String(v);
}
const describeCase = (c: Case) =>
  `${c.form === 'method' ? 'x.' : c.form === 'nnf' ? 'F.' : 'torch.'}${c.op}(${[
    ...(c.form === 'method' ? [] : [c.x]),
    ...c.pos,
    ...(c.kw ? [c.kw] : []),
  ]
    .map(describeArg)
    .join(', ')})${c.form === 'method' ? ` with x=${describeArg(c.x)}` : ''}${c.noGrad ? ' [no_grad]' : ''}`;

/** Call through the mirror (the public API, or an OpDef for the missing overloads). */
function runMirrored(c: Case): Tensor[] {
  const args = c.kw ? [...c.pos, c.kw] : c.pos;
  const call = (): unknown => {
    if (c.family.def) return c.form === 'method' ? invoke(c.family.def, args, c.x) : invoke(c.family.def, [c.x, ...args]);
    if (c.form === 'method') return ((c.x as unknown as Record<string, Fn>)[c.op]!).call(c.x, ...args);
    const ns = (c.form === 'nnf' ? torch.nn.functional : torch) as unknown as Record<string, Fn>;
    return ns[c.op]!(c.x, ...args);
  };
  const out = c.noGrad ? torch.no_grad(call) : call();
  return Array.isArray(out) ? (out as Tensor[]) : [out as Tensor];
}

/** The same call, unmirrored: torch's own answer. */
function runPython(c: Case): Tensor {
  const opts = { outputs: c.family.outputs };
  if (c.form === 'method') return c.x.call(c.family.name, c.pos, c.kw ?? {}, opts)[0]!;
  const name = c.form === 'nnf' ? `nn.functional.${c.family.name}` : c.family.name;
  return torch.call(name, [c.x, ...c.pos], c.kw ?? {}, opts)[0]!;
}

interface Stats {
  cases: number;
  verified: number;
  pending: number;
  rejected: number;
  agreed: number;
  argErrors: number;
}
const stats = new Map<string, Stats>();
const failures: string[] = [];
const disagreements: string[] = [];
const argErrorSamples: string[] = [];

function statsOf(op: string): Stats {
  let s = stats.get(op);
  if (!s) stats.set(op, (s = { cases: 0, verified: 0, pending: 0, rejected: 0, agreed: 0, argErrors: 0 }));
  return s;
}

async function syncOk(): Promise<unknown> {
  return torch.sync().then(
    () => undefined,
    (e: unknown) => e,
  );
}

async function runBatch(cases: Case[]): Promise<void> {
  const accepted: Case[] = [];
  const rejected: { c: Case; err: TorchError }[] = [];
  torch.tidy(() => {
    for (const c of cases) {
      const s = statsOf(c.op);
      s.cases++;
      try {
        const outs = runMirrored(c);
        if (outs.some((t) => t._m === undefined)) s.pending++;
        else accepted.push(c);
      } catch (e) {
        if (e instanceof TorchError) rejected.push({ c, err: e });
        else if (e instanceof ArgumentError) {
          s.argErrors++;
          if (argErrorSamples.length < 20) argErrorSamples.push(`${describeCase(c)}: ${e.message}`);
        } else throw e;
      }
    }
  });
  // Strict mode checks every accepted case here. A pending case may fail in torch (that is
  // fine: the mirror made no promise); anything else is narrowed down case by case.
  const err = await syncOk();
  if (err) {
    const leftover = err instanceof MirrorMismatchError ? err : await syncOk(); // reports held back by the failure
    let found = 0;
    for (const c of accepted) {
      torch.tidy(() => runMirrored(c));
      const e = await syncOk();
      if (e) {
        found++;
        failures.push(`${describeCase(c)}: mirror accepted, but ${(e as Error).message}`);
      }
    }
    if (leftover && found === 0) failures.push(`a batch failed but no single case did: ${(leftover as Error).message}`);
  }
  for (const c of accepted) statsOf(c.op).verified++;

  // Rejected cases: torch must refuse them too, with the same error.
  const refs = rejected.map(({ c }) => runPython(c));
  const outcomes = await Promise.all(
    refs.map((t) =>
      t.ready().then(
        () => undefined,
        (e: unknown) => e as TorchError,
      ),
    ),
  );
  await syncOk(); // consume the reports
  rejected.forEach(({ c, err: mine }, i) => {
    const s = statsOf(c.op);
    const theirs = outcomes[i];
    if (!theirs) {
      failures.push(`${describeCase(c)}: the mirror threw ${mine.message} but torch accepted the call`);
      return;
    }
    s.rejected++;
    if (theirs.pyType === mine.pyType && theirs.pyMessage === mine.pyMessage) s.agreed++;
    else disagreements.push(`${describeCase(c)}:\n      mirror ${mine.pyType}: ${mine.pyMessage}\n      torch  ${theirs.pyType}: ${theirs.pyMessage}`);
  });
  for (const t of refs) t.dispose();
}

function makeCases(r: Rng, pool: Pool, n: number, only?: readonly string[]): Case[] {
  const fams = only ? FAMILIES.filter((f) => only.includes(f.name)) : FAMILIES;
  const cases: Case[] = [];
  for (let i = 0; i < n; i++) {
    const family = pick(r, fams);
    const x = pool.input();
    const form = pick(r, family.forms);
    const { pos, kw } = family.args(r, x, pool);
    cases.push({ op: family.def ? `${family.name}(dim)` : family.name, family, form, x, pos, kw, noGrad: chance(r, 0.2) });
  }
  return cases;
}

function report(): string {
  const rows = [...stats.entries()].sort(([a], [b]) => a.localeCompare(b));
  const total = rows.reduce(
    (t, [, s]) => ({ cases: t.cases + s.cases, verified: t.verified + s.verified, pending: t.pending + s.pending, rejected: t.rejected + s.rejected, agreed: t.agreed + s.agreed }),
    { cases: 0, verified: 0, pending: 0, rejected: 0, agreed: 0 },
  );
  const pct = (a: number, b: number) => (b === 0 ? '   -' : `${((100 * a) / b).toFixed(1)}%`);
  const lines = rows.map(
    ([op, s]) =>
      `  ${op.padEnd(18)} ${String(s.cases).padStart(5)} cases  ${String(s.verified).padStart(5)} verified  ${String(s.pending).padStart(4)} pending  ${String(s.rejected).padStart(4)} rejected  messages equal ${pct(s.agreed, s.rejected)}${s.argErrors ? `  (${s.argErrors} argument errors)` : ''}`,
  );
  lines.push(
    `  ${'total'.padEnd(18)} ${String(total.cases).padStart(5)} cases  ${String(total.verified).padStart(5)} verified  ${String(total.pending).padStart(4)} pending  ${String(total.rejected).padStart(4)} rejected  messages equal ${pct(total.agreed, total.rejected)}`,
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

describe('reductions and scans: differential against torch', () => {
  it('random cases agree with torch (metadata verified in strict mode, errors compared)', async () => {
    const r = mulberry32(Number(process.env.MIRROR_SEED ?? 20240611));
    const batches = Number(process.env.MIRROR_BATCHES ?? 40);
    for (let b = 0; b < batches; b++) {
      const pool = new Pool(r);
      try {
        await runBatch(makeCases(r, pool, 200));
      } finally {
        pool.dispose();
      }
    }
    console.log(`reductions differential:\n${report()}`);
    if (disagreements.length) console.log(`message disagreements (${disagreements.length}):\n  ${disagreements.slice(0, 40).join('\n  ')}`);
    if (argErrorSamples.length) console.log(`argument errors (binding), samples:\n  ${argErrorSamples.join('\n  ')}`);
    expect(failures.slice(0, 30)).toEqual([]);
    const all = [...stats.values()];
    const rejected = all.reduce((n, s) => n + s.rejected, 0);
    const agreed = all.reduce((n, s) => n + s.agreed, 0);
    expect(agreed / rejected).toBeGreaterThanOrEqual(0.95);
  });
});

// ---------------------------------------------------------------------------------------------
// targeted cases

const meta = (t: Tensor) => [t.shape, t.dtype.name, t.requires_grad, t.is_leaf];

describe('reductions: metadata without a round trip', () => {
  it('values and indices, named, with indices never requiring grad', async () => {
    const x = torch.randn(3, 4, { requires_grad: true });
    const top = torch.topk(x, 2, { dim: 0 });
    expect(meta(top.values)).toEqual([[2, 4], 'float32', true, false]);
    expect(meta(top.indices)).toEqual([[2, 4], 'int64', false, true]);
    const s = x.sort({ stable: true, dim: 1, descending: true });
    expect(meta(s.values)).toEqual([[3, 4], 'float32', true, false]);
    expect(meta(s.indices)).toEqual([[3, 4], 'int64', false, true]);
    const [cmax, cidx] = x.cummax(1);
    expect(meta(cmax!)).toEqual([[3, 4], 'float32', true, false]);
    expect(cidx!.dtype).toBe(torch.int64);
    const k = x.kthvalue(2, 1, true);
    expect(k.values.shape).toEqual([3, 1]);
    const mm = torch.aminmax(x, { dim: -1 });
    expect([mm.min.shape, mm.max.shape]).toEqual([[3], [3]]);
    const mode = torch.no_grad(() => x.mode(0));
    expect(meta(mode.values)).toEqual([[4], 'float32', false, true]);
    await torch.sync(); // strict mode: torch agrees
  });

  it('max / min: all elements, over a dim, elementwise', async () => {
    const x = torch.randn(2, 3, { requires_grad: true });
    expect(meta(x.max())).toEqual([[], 'float32', true, false]);
    expect(torch.min(x, torch.zeros(3, { dtype: torch.float64 })).dtype).toBe(torch.float64);
    expect(torch.max(torch.ones(2, 1, { dtype: torch.int32 }), torch.ones(3, { dtype: torch.uint8 })).shape).toEqual([2, 3]);
    // the (values, indices) overload, which the generated API does not expose yet
    const [v, i] = invoke(DIM_DEFS.max, [1, true], x) as Tensor[];
    expect(meta(v!)).toEqual([[2, 1], 'float32', true, false]);
    expect(meta(i!)).toEqual([[2, 1], 'int64', false, true]);
    const [mv] = invoke(DIM_DEFS.median, [torch.ones(4, 5), -1]) as Tensor[];
    expect(mv!.shape).toEqual([4]);
    await torch.sync();
  });

  it('dtype rules: integral sums accumulate in int64, any/all keep uint8, std of complex is real', async () => {
    const i32 = torch.ones(2, 3, { dtype: torch.int32 });
    const u8 = torch.ones(2, 3, { dtype: torch.uint8 });
    const c = torch.randn(2, 3, { dtype: torch.complex64 });
    expect(i32.cumsum(0).dtype).toBe(torch.int64);
    expect(i32.cumsum(0, { dtype: torch.int32 }).dtype).toBe(torch.int32);
    expect(torch.prod(torch.ones(3, { dtype: torch.bool })).dtype).toBe(torch.int64);
    expect(i32.nansum(1).dtype).toBe(torch.int64);
    expect([u8.any().dtype, u8.all(0).dtype, i32.any(1).dtype]).toEqual([torch.uint8, torch.uint8, torch.bool]);
    expect(u8.count_nonzero([0, 1]).dtype).toBe(torch.int64);
    expect(i32.logsumexp(1).dtype).toBe(torch.float32);
    expect(c.std().dtype).toBe(torch.float32);
    const [sd, mean] = torch.std_mean(c, 0);
    expect([sd!.dtype, mean!.dtype]).toEqual([torch.float32, torch.complex64]);
    expect(c.norm().dtype).toBe(torch.float32);
    expect(torch.norm(c, 2, [0], true, { dtype: torch.complex128 }).dtype).toBe(torch.float64);
    expect(torch.softmax(i32, 1, torch.float64).dtype).toBe(torch.float64);
    await torch.sync();
  });

  it('shapes: keepdim, dim lists, 0-dim inputs, empty inputs, dims=[]', async () => {
    const x = torch.ones(2, 3, 4);
    const s = torch.tensor(2.5);
    const e = torch.ones(0, 3);
    expect(x.sum([0, -1], true).shape).toEqual([1, 3, 1]);
    expect(x.amax([2, 0]).shape).toEqual([3]);
    expect(x.argmax(null, true).shape).toEqual([1, 1, 1]);
    expect(x.argmax().shape).toEqual([]);
    expect(x.any([]).shape).toEqual([2, 3, 4]); // no dims: nothing reduced
    expect(x.sum([]).shape).toEqual([]); // ...but sum reduces everything
    expect(x.count_nonzero(0, 2).shape).toEqual([3]);
    expect(x.std([], true, true).shape).toEqual([1, 1, 1]);
    expect([s.sum(0).shape, s.amax(-1).shape, s.softmax(0).shape, s.cumsum(-1).shape]).toEqual([[], [], [], []]);
    expect(s.topk(1).values.shape).toEqual([]);
    expect([e.sum().shape, e.sum(0).shape, e.amax(1).shape, e.std(0).shape, e.median().shape]).toEqual([[], [3], [0], [3], []]);
    expect(e.topk(0, 0).values.shape).toEqual([0, 3]);
    expect(torch.nn.functional.softmax(x, null).shape).toEqual([2, 3, 4]); // implicit dim 0 for 3-d
    expect(torch.nn.functional.log_softmax(torch.ones(2, 5), { dtype: torch.float64 }).dtype).toBe(torch.float64);
    expect(x.norm('fro', [1, 2]).shape).toEqual([2]);
    await torch.sync();
  });
});

describe('reductions: torch\'s errors at the call site', () => {
  const x = () => torch.randn(2, 3);
  const cases: [string, () => unknown, string, unknown[], Record<string, unknown>?][] = [
    ['dim out of range', () => x().sum(2), 'sum', [x(), 2]],
    ['0-dim takes dims 0 and -1 only', () => torch.tensor(1).argmax(1), 'argmax', [torch.tensor(1), 1]],
    ['a repeated dim', () => x().amax([0, -2]), 'amax', [x(), [0, -2]]],
    ['out of range wins over a repeat (sum)', () => x().sum([0, 0, 5]), 'sum', [x(), [0, 0, 5]]],
    ['a repeat wins over out of range (std)', () => x().std([0, 0, 5]), 'std', [x(), [0, 0, 5]]],
    ['max of an empty tensor', () => torch.ones(0, 3).max(), 'max', [torch.ones(0, 3)]],
    ['amax over an empty dim (the dim as given)', () => torch.ones(0, 3).amax(-2), 'amax', [torch.ones(0, 3), -2]],
    ['argmax of an empty tensor', () => torch.ones(0).argmax(), 'argmax', [torch.ones(0)]],
    ['aminmax of an empty tensor', () => torch.aminmax(torch.ones(0)), 'aminmax', [torch.ones(0)]],
    ['kthvalue over an empty dim', () => torch.ones(0, 3).kthvalue(1, 0), 'kthvalue', [torch.ones(0, 3), 1, 0]],
    ['topk: k larger than the dim', () => x().topk(4), 'topk', [x(), 4]],
    ['kthvalue: k out of range', () => x().kthvalue(4, -1), 'kthvalue', [x(), 4, -1]],
    ['std of integers', () => torch.arange(4).std(), 'std', [torch.arange(4)]],
    ['var_mean of integers', () => torch.var_mean(torch.arange(4)), 'var_mean', [torch.arange(4)]],
    ['mean with an integral dtype', () => x().mean({ dtype: torch.int64 }), 'mean', [x()], { dtype: torch.int64 }],
    ['nanmean of integers', () => torch.arange(3).nanmean(), 'nanmean', [torch.arange(3)]],
    ['argmax of bool', () => torch.ones(2, { dtype: torch.bool }).argmax(), 'argmax', [torch.ones(2, { dtype: torch.bool })]],
    ['cummax of complex', () => torch.ones(2, { dtype: torch.complex64 }).cummax(0), 'cummax', [torch.ones(2, { dtype: torch.complex64 }), 0]],
    ['sort of complex', () => torch.ones(2, { dtype: torch.complex64 }).sort(), 'sort', [torch.ones(2, { dtype: torch.complex64 })]],
    ['softmax of integers (last dim kernel)', () => torch.arange(3).softmax(0), 'softmax', [torch.arange(3), 0]],
    ['log_softmax of integers (general kernel)', () => torch.ones(2, 3, { dtype: torch.int32 }).log_softmax(0), 'log_softmax', [torch.ones(2, 3, { dtype: torch.int32 }), 0]],
    ['logcumsumexp of integers', () => torch.arange(3).logcumsumexp(0), 'logcumsumexp', [torch.arange(3), 0]],
    ['cummax of a scalar, dim 1', () => torch.tensor(1).cummax(1), 'cummax', [torch.tensor(1), 1]],
    ['logsumexp over dim=[]', () => x().logsumexp([]), 'logsumexp', [x(), []]],
    ['norm of integers', () => torch.arange(3).norm(), 'norm', [torch.arange(3)]],
    ['inf norm of an empty tensor', () => torch.ones(0).norm(Infinity), 'norm', [torch.ones(0), Infinity]],
    ['-1 norm over an empty dim', () => torch.ones(2, 0).norm(-1, 1), 'norm', [torch.ones(2, 0), -1, 1]],
    ['norm with a narrowing dtype', () => x().norm(2, { dtype: torch.float16 }), 'norm', [x(), 2], { dtype: torch.float16 }],
    ['maximum of complex', () => x().max(torch.ones(3, { dtype: torch.complex64 })), 'max', [x(), torch.ones(3, { dtype: torch.complex64 })]],
    ['nansum of complex', () => torch.ones(2, { dtype: torch.complex64 }).nansum(), 'nansum', [torch.ones(2, { dtype: torch.complex64 })]],
    ['median of bool', () => torch.ones(2, { dtype: torch.bool }).median(), 'median', [torch.ones(2, { dtype: torch.bool })]],
  ];
  for (const [what, mine, name, args, kw] of cases) {
    it(what, async () => {
      const a = syncError(mine);
      const b = await pythonError(name, args, kw);
      expect([a.pyType, a.pyMessage]).toEqual([b.pyType, b.pyMessage]);
    });
  }

  it('autograd refuses integral results of recorded ops, not under no_grad', async () => {
    const x = torch.randn(2, 3, { requires_grad: true });
    const a = syncError(() => x.sum({ dtype: torch.int64 }));
    const b = await pythonError('sum', [x], { dtype: torch.int64 });
    expect([a.pyType, a.pyMessage]).toEqual([b.pyType, b.pyMessage]);
    expect(a.pyMessage).toBe('Autograd not support dtype: Long');
    expect(torch.no_grad(() => x.cumsum(0, { dtype: torch.int32 })).dtype).toBe(torch.int32);
    const c = syncError(() => torch.randn([0, 2], { dtype: torch.complex64, requires_grad: true }).amax(1));
    expect(c.pyMessage).toBe('amax does not support automatic differentiation for outputs with complex dtype.');
    await torch.sync();
  });
});
