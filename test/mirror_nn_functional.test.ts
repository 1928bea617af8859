/**
 * Differential suite for torch.nn.functional's mirror rules: thousands of seeded random calls
 * (valid and invalid) go through the public API in strict mode, so the runtime checks every
 * predicted result's metadata; calls the mirror refuses synchronously are sent again through
 * the un-mirrored escape hatch (torch.call) and torch's own error is compared with the
 * mirror's (type and text). Then targeted tests for the tricky cases.
 */
import { afterAll, describe, expect, it } from 'vitest';
import torch, { Tensor, TorchError } from '../src/index.js';
import type { DType } from '../src/tensor/dtype.js';

afterAll(async () => {
  await torch.shutdown();
});

// ---- seeded randomness -------------------------------------------------------------------------

class Rng {
  constructor(private s: number) {}
  next(): number {
    // mulberry32
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  shape(minDims: number, maxDims: number, maxSize = 4): number[] {
    const n = this.int(minDims, maxDims);
    return Array.from({ length: n }, () => (this.chance(0.06) ? 0 : this.chance(0.2) ? 1 : this.int(1, maxSize)));
  }
}

// ---- tensor recipes (materialized inside each batch) ---------------------------------------------

type Kind = 'normal' | 'prob' | 'index';
interface TSpec {
  $t: true;
  shape: number[];
  dtype: DType;
  /** leaf: a leaf requiring grad; nonleaf: computed from one */
  rg?: 'leaf' | 'nonleaf';
  kind?: Kind;
  lo?: number;
  hi?: number;
}

const ALL_DTYPES = [torch.bool, torch.uint8, torch.int32, torch.int64, torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.complex64];

function T(shape: number[], dtype: DType, extra: Partial<TSpec> = {}): TSpec {
  return { $t: true, shape, dtype, ...extra };
}

/** A random tensor recipe: mostly float32, sometimes other dtypes, sometimes requiring grad. */
function randT(r: Rng, shape: number[], dtypes: readonly DType[] = ALL_DTYPES, pMain = 0.6): TSpec {
  const dtype = r.chance(pMain) ? torch.float32 : r.pick(dtypes);
  const floating = dtype.category === 'float' || dtype.category === 'complex';
  const rg = floating && r.chance(0.35) ? (r.chance(0.5) ? 'leaf' : 'nonleaf') : undefined;
  return T(shape, dtype, { rg });
}

function isSpec(v: unknown): v is TSpec {
  return typeof v === 'object' && v !== null && (v as TSpec).$t === true;
}

function materialize(s: TSpec): Tensor {
  const { shape, dtype } = s;
  let t: Tensor;
  if (dtype.category === 'bool') t = torch.randint(0, 2, shape, { dtype });
  else if (dtype.category === 'int' || s.kind === 'index') {
    const lo = s.lo ?? (dtype === torch.uint8 ? 0 : -3);
    const hi = s.hi ?? 4;
    t = torch.randint(lo, hi, shape, { dtype });
  } else if (s.kind === 'prob') t = torch.rand(shape, { dtype, requires_grad: s.rg !== undefined });
  else t = torch.randn(shape, { dtype, requires_grad: s.rg !== undefined });
  if (s.rg === 'nonleaf') t = t.mul(2);
  return t;
}

function build(v: unknown): unknown {
  if (isSpec(v)) return materialize(v);
  if (Array.isArray(v)) return v.map(build);
  if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, build(x)]));
  }
  return v;
}

function show(v: unknown): string {
  if (isSpec(v)) return `T[${v.shape.join(',')}] ${v.dtype.name}${v.rg ? ' rg:' + v.rg : ''}${v.kind ? ' ' + v.kind : ''}`;
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
    return `{${Object.entries(v).map(([k, x]) => `${k}: ${show(x)}`).join(', ')}}`;
  }
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

// ---- the differential runner ----------------------------------------------------------------------

interface Case {
  /** name under torch.nn.functional */
  op: string;
  args: unknown[];
  kw?: Record<string, unknown>;
  /** grad mode (default on) */
  grad?: boolean;
  /** outputs when torch returns a tuple (return_indices) */
  outputs?: number;
}

const label = (c: Case) => `F.${c.op}(${[...c.args.map(show), ...(c.kw ? [show(c.kw)] : [])].join(', ')})${c.grad === false ? ' [no_grad]' : ''}`;

interface Stats {
  cases: number;
  mirrored: number;
  pending: number;
  mirrorErrors: number;
  messageAgree: number;
  disagreements: string[];
  /** the mirror refused a call torch accepts, or accepted one torch refuses */
  wrong: string[];
}

const newStats = (): Stats => ({ cases: 0, mirrored: 0, pending: 0, mirrorErrors: 0, messageAgree: 0, disagreements: [], wrong: [] });
const TOTAL: Record<string, Stats> = {};

type FnMap = Record<string, (...args: unknown[]) => unknown>;
const Fn = torch.nn.functional as unknown as FnMap;

function callMirrored(c: Case, args: unknown[], kw: Record<string, unknown> | undefined): Tensor[] {
  const run = () => {
    const out = Fn[c.op]!(...args, ...(kw ? [kw] : []));
    return Array.isArray(out) ? (out as Tensor[]) : [out as Tensor];
  };
  return c.grad === false ? torch.no_grad(run) : run();
}

function callPlain(c: Case, args: unknown[], kw: Record<string, unknown> | undefined): Tensor {
  const run = () => torch.call(`nn.functional.${c.op}`, args, kw ?? {});
  return c.grad === false ? torch.no_grad(run) : run();
}

/** Runs one case alone and says what went wrong with it, if anything. */
async function diagnose(c: Case): Promise<string | undefined> {
  return torch.tidy(async () => {
    const args = build(c.args) as unknown[];
    const kw = build(c.kw) as Record<string, unknown> | undefined;
    let outs: Tensor[];
    try {
      outs = callMirrored(c, args, kw);
    } catch {
      return undefined;
    }
    const pending = outs.some((t) => t._m === undefined);
    try {
      await torch.sync();
    } catch (e) {
      if (pending && e instanceof TorchError) return undefined;
      if (e instanceof TorchError) return `mirror accepted, torch raised ${e.pyType}: ${e.pyMessage}`;
      return String((e as Error).message);
    }
    return undefined;
  });
}

/** How many failed ops a runtime error stands for ("(and N later op(s) failed too)"). */
function failedOps(e: TorchError): number {
  const m = /\(and (\d+) later op\(s\) failed too\)$/.exec(e.message);
  return 1 + (m ? Number(m[1]) : 0);
}

async function runBatch(family: string, cases: Case[]): Promise<void> {
  const st = (TOTAL[family] ??= newStats());
  const refused: { c: Case; err: TorchError; args: unknown[]; kw: Record<string, unknown> | undefined }[] = [];
  await torch.tidy(async () => {
    const pendingOuts: Tensor[] = [];
    for (const c of cases) {
      st.cases++;
      const args = build(c.args) as unknown[];
      const kw = build(c.kw) as Record<string, unknown> | undefined;
      try {
        const outs = callMirrored(c, args, kw);
        if (outs.some((t) => t._m === undefined)) {
          st.pending++;
          pendingOuts.push(outs[0]!);
        } else st.mirrored++;
      } catch (e) {
        if (!(e instanceof TorchError)) throw new Error(`${label(c)}: ${(e as Error).message}`);
        refused.push({ c, err: e, args, kw });
      }
    }
    // torch may refuse calls the mirror left pending: those errors are expected
    const settled = await Promise.allSettled(pendingOuts.map((t) => t.ready()));
    const pendingFailed = settled.filter((s) => s.status === 'rejected').length;
    let suspicious = false;
    try {
      await torch.sync();
    } catch (e) {
      if (!(e instanceof TorchError) || failedOps(e) !== pendingFailed) suspicious = true;
    }
    if (!suspicious) {
      try {
        await torch.sync(); // strict-mode verdicts held back by an expected error
      } catch {
        suspicious = true;
      }
    }
    if (suspicious) {
      const found: string[] = [];
      for (const c of cases) {
        const what = await diagnose(c);
        if (what) found.push(`${label(c)}: ${what}`);
        await torch.sync().catch(() => {});
      }
      if (found.length > 0) st.wrong.push(...found);
      else st.wrong.push('batch failed but no single case did');
    }
    // the calls the mirror refused: torch must refuse them too, ideally with the same words
    const probes = refused.map((x) => ({ ...x, t: callPlain(x.c, x.args, x.kw) }));
    for (const p of probes) {
      st.mirrorErrors++;
      try {
        await p.t.ready();
        st.wrong.push(`${label(p.c)}: mirror raised ${p.err.pyType}: ${p.err.pyMessage} but torch accepted it`);
      } catch (e) {
        if (!(e instanceof TorchError)) throw e;
        if (e.pyType === 'TypeError' && e.pyMessage.includes('not a Tensor')) {
          st.wrong.push(`${label(p.c)}: mirror raised ${p.err.pyType}: ${p.err.pyMessage} but torch accepted it`);
        } else if (e.pyType === p.err.pyType && e.pyMessage === p.err.pyMessage) st.messageAgree++;
        else st.disagreements.push(`${label(p.c)}\n    mirror: ${p.err.pyType}: ${p.err.pyMessage}\n    torch:  ${e.pyType}: ${e.pyMessage.split('\n')[0]}`);
      }
    }
    await torch.sync().catch((e: unknown) => {
      if (!(e instanceof TorchError)) throw e;
    });
  });
}

/** NNF_SEED=k shifts every family's seed (to explore beyond the fixed cases); NNF_SCALE multiplies the counts. */
const SEED = Number(process.env.NNF_SEED ?? 0);
const SCALE = Number(process.env.NNF_SCALE ?? 1);

async function runFamily(family: string, n0: number, seed: number, gen: (r: Rng) => Case, batch = 150): Promise<Stats> {
  const r = new Rng(seed + 1000 * SEED);
  const n = Math.round(n0 * SCALE);
  for (let i = 0; i < n; i += batch) {
    const cases = Array.from({ length: Math.min(batch, n - i) }, () => gen(r));
    await runBatch(family, cases);
  }
  const st = TOTAL[family]!;
  report(family, st);
  return st;
}

function report(family: string, st: Stats): void {
  const rate = st.mirrorErrors === 0 ? 1 : st.messageAgree / st.mirrorErrors;
  console.log(
    `[${family}] ${st.cases} cases: ${st.mirrored} mirrored, ${st.pending} pending, ${st.mirrorErrors} refused by the mirror ` +
      `(message agreement ${(rate * 100).toFixed(1)}%)` +
      (st.disagreements.length ? `\n  disagreements:\n  ${st.disagreements.slice(0, 15).join('\n  ')}` : '') +
      (st.wrong.length ? `\n  WRONG:\n  ${st.wrong.slice(0, 15).join('\n  ')}` : ''),
  );
}

function expectClean(st: Stats): void {
  expect(st.wrong).toEqual([]);
  const rate = st.mirrorErrors === 0 ? 1 : st.messageAgree / st.mirrorErrors;
  expect(rate).toBeGreaterThanOrEqual(0.95);
}

// ---- generators ----------------------------------------------------------------------------------

const grad = (r: Rng) => (r.chance(0.2) ? { grad: false } : {});

const ACTIVATIONS: [string, (r: Rng) => Record<string, unknown> | undefined][] = [
  ['relu', (r) => (r.chance(0.3) ? { inplace: true } : undefined)],
  ['relu6', (r) => (r.chance(0.3) ? { inplace: true } : undefined)],
  ['gelu', (r) => (r.chance(0.4) ? { approximate: r.pick(['none', 'tanh', 'tanh', 'bad']) } : undefined)],
  ['silu', (r) => (r.chance(0.3) ? { inplace: true } : undefined)],
  ['mish', (r) => (r.chance(0.3) ? { inplace: true } : undefined)],
  ['leaky_relu', (r) => (r.chance(0.5) ? { negative_slope: r.pick([0.01, 0.2, 2]), inplace: r.chance(0.3) } : undefined)],
  ['elu', (r) => (r.chance(0.5) ? { alpha: r.pick([1, 0.5]), inplace: r.chance(0.3) } : undefined)],
  ['selu', (r) => (r.chance(0.3) ? { inplace: true } : undefined)],
  ['celu', (r) => (r.chance(0.5) ? { alpha: r.pick([1, 0.5, 0]), inplace: r.chance(0.3) } : undefined)],
  ['softplus', (r) => (r.chance(0.5) ? { beta: r.pick([1, 2, 0.5]), threshold: r.pick([20, 5]) } : undefined)],
  ['softsign', () => undefined],
  ['hardtanh', (r) => (r.chance(0.6) ? { min_val: r.pick([-1, 0, 2, -0.5]), max_val: r.pick([1, 0.5, 3]), inplace: r.chance(0.3) } : undefined)],
  ['hardsigmoid', (r) => (r.chance(0.3) ? { inplace: true } : undefined)],
  ['hardswish', (r) => (r.chance(0.3) ? { inplace: true } : undefined)],
  ['sigmoid', () => undefined],
  ['tanh', () => undefined],
  ['logsigmoid', () => undefined],
  ['tanhshrink', () => undefined],
  ['hardshrink', (r) => (r.chance(0.5) ? { lambd: r.pick([0.5, -1, 1]) } : undefined)],
  ['softshrink', (r) => (r.chance(0.5) ? { lambd: r.pick([0.5, -1, 1, -0.25]) } : undefined)],
  ['threshold', (r) => ({ threshold: r.pick([0.5, 0, 1]), value: r.pick([0, -1.5, 2]), inplace: r.chance(0.3) })],
  ['rrelu', (r) => (r.chance(0.6) ? { lower: r.pick([0.1, 0.3]), upper: r.pick([0.2, 0.4]), training: r.chance(0.5), inplace: r.chance(0.2) } : undefined)],
];

function activationCase(r: Rng): Case {
  const [op, kwf] = r.pick(ACTIVATIONS);
  const x = randT(r, r.shape(0, 4));
  const kw = kwf(r);
  if (op === 'threshold') {
    const k = kw!;
    return { op, args: [x, k.threshold, k.value], kw: { inplace: k.inplace }, ...grad(r) };
  }
  return { op, args: [x], kw, ...grad(r) };
}

function dropoutCase(r: Rng): Case {
  const op = r.pick(['dropout', 'alpha_dropout', 'feature_alpha_dropout', 'dropout1d', 'dropout2d', 'dropout3d']);
  const x = randT(r, r.shape(0, 5, 3), ALL_DTYPES, 0.75);
  const kw: Record<string, unknown> = {};
  if (r.chance(0.8)) kw.p = r.chance(0.08) ? r.pick([1.5, -0.1]) : r.pick([0, 0.5, 1, 0.25, 0.5]);
  if (r.chance(0.7)) kw.training = r.chance(0.6);
  if (r.chance(0.3)) kw.inplace = true;
  return { op, args: [x], kw, ...grad(r) };
}

function softCase(r: Rng): Case {
  const op = r.pick(['softmin', 'gumbel_softmax', 'glu']);
  const x = randT(r, r.shape(0, 4));
  const nd = Math.max(x.shape.length, 1);
  const dim = r.chance(0.1) ? nd + 1 : r.int(-nd, nd - 1);
  if (op === 'softmin') {
    const kw: Record<string, unknown> = { dim: r.chance(0.2) ? null : dim };
    if (r.chance(0.3)) kw.dtype = r.pick([torch.float64, torch.float32, torch.float16, torch.int64]);
    return { op, args: [x], kw, ...grad(r) };
  }
  if (op === 'gumbel_softmax') return { op, args: [x], kw: { tau: r.pick([1, 0.5]), hard: r.chance(0.5), dim }, ...grad(r) };
  if (r.chance(0.6) && x.shape.length > 0) x.shape[r.int(0, x.shape.length - 1)] = r.pick([2, 4, 0]);
  return { op, args: [x], kw: r.chance(0.7) ? { dim } : undefined, ...grad(r) };
}


const CONV_DTYPES = [torch.float32, torch.float32, torch.float32, torch.float64, torch.bfloat16, torch.float16, torch.int64, torch.int32, torch.uint8, torch.bool, torch.complex64];

/** An int or a per-dim list (sometimes of the wrong length). */
function intArg(r: Rng, n: number, vals: number[]): number | number[] {
  if (r.chance(0.5)) return r.pick(vals);
  const len = r.chance(0.08) ? r.pick([1, n + 1]) : n;
  return Array.from({ length: len }, () => r.pick(vals));
}

function convCase(r: Rng): Case {
  const n = r.int(1, 3);
  const transposed = r.chance(0.35) && n < 3;
  const g = r.chance(0.25) ? 2 : 1;
  const cin = g * r.int(r.chance(0.05) ? 0 : 1, 2);
  const cout = g * r.int(1, 2);
  const ks = Array.from({ length: n }, () => r.int(1, 3));
  const sp = Array.from({ length: n }, (_, i) => (r.chance(0.03) ? 0 : ks[i]! + r.int(n === 3 ? 0 : 0, n === 3 ? 1 : 3)));
  const batch = r.chance(0.1) ? 0 : r.int(1, 2);
  const unbatched = r.chance(0.15);
  let xshape = unbatched ? [cin, ...sp] : [batch, cin, ...sp];
  let wshape = transposed ? [cin, cout / g, ...ks] : [cout, cin / g, ...ks];
  let dtype = r.chance(0.75) ? torch.float32 : r.pick(CONV_DTYPES);
  let wdtype = dtype;
  let bias: TSpec | null | undefined = r.chance(0.5) ? T([transposed ? cout : cout], dtype) : undefined;
  // perturbations (invalid calls)
  const bad = r.chance(0.25) ? r.int(0, 9) : -1;
  if (bad === 0) xshape = [...xshape.slice(0, -1)];
  if (bad === 1) wshape = [...wshape, 2];
  if (bad === 2 && !unbatched) xshape[1] = xshape[1]! + 1;
  if (bad === 3 && bias) bias = T([cout + 1], dtype);
  if (bad === 4) wdtype = r.pick(CONV_DTYPES);
  if (bad === 5 && bias) bias = T([cout], r.pick(CONV_DTYPES));
  if (bad === 6) wshape[0] = wshape[0]! + 1;
  const rg = dtype.category === 'float' || dtype.category === 'complex';
  const x = T(xshape, dtype, { rg: rg && r.chance(0.3) ? 'leaf' : undefined });
  const w = T(wshape, wdtype, { rg: rg && wdtype === dtype && r.chance(0.3) ? 'leaf' : undefined });
  const kw: Record<string, unknown> = {};
  if (bias !== undefined) kw.bias = bias;
  if (r.chance(0.5)) kw.stride = intArg(r, n, bad === 7 ? [0, 1, 2] : [1, 2]);
  if (!transposed && r.chance(0.15)) kw.padding = r.pick(['same', 'valid', 'same', bad === 8 ? 'full' : 'valid']);
  else if (r.chance(0.5)) kw.padding = intArg(r, n, bad === 8 ? [-1, 0, 1] : [0, 1]);
  if (r.chance(0.4)) kw.dilation = intArg(r, n, bad === 9 ? [0, 1, 2, -1] : [1, 2]);
  if (transposed && r.chance(0.4)) kw.output_padding = intArg(r, n, [0, 1]);
  if (g !== 1 || r.chance(0.1)) kw.groups = bad === 6 ? g : r.chance(0.05) ? 0 : g;
  return { op: transposed ? `conv_transpose${n}d` : `conv${n}d`, args: [x, w], kw, ...grad(r) };
}

const POOL_DTYPES = [torch.float32, torch.float64, torch.bfloat16, torch.float16, torch.int64, torch.int32, torch.uint8, torch.bool, torch.complex64];

function poolCase(r: Rng): Case {
  const op = r.pick(['max_pool1d', 'max_pool2d', 'avg_pool1d', 'avg_pool2d', 'adaptive_avg_pool1d', 'adaptive_avg_pool2d', 'adaptive_max_pool2d']);
  const n = op.includes('1d') ? 1 : 2;
  const nd = r.chance(0.85) ? n + r.int(1, 2) : r.int(0, 5);
  const shape = Array.from({ length: nd }, (_, i) => (r.chance(0.04) ? 0 : i < nd - n ? r.int(1, 3) : r.int(2, 7)));
  const dtype = r.chance(0.8) ? torch.float32 : r.pick(POOL_DTYPES);
  const x = T(shape, dtype, { rg: dtype.category === 'float' && r.chance(0.3) ? 'leaf' : undefined });
  const kw: Record<string, unknown> = {};
  if (op.startsWith('adaptive')) {
    let out: unknown = r.pick([1, 2, 3, 0, 1]);
    if (n === 2 && r.chance(0.4)) out = [r.pick([1, 2, 3]), r.pick([1, 2, 3, 4])];
    if (op === 'adaptive_avg_pool2d' && r.chance(0.03)) out = null;
    if (r.chance(0.05)) out = r.pick([-1, [2, 2, 2], [2]]);
    if (op === 'adaptive_max_pool2d' && r.chance(0.4)) kw.return_indices = true;
    return { op, args: [x, out], kw, ...grad(r) };
  }
  const k = intArg(r, n, r.chance(0.05) ? [0, 2] : [1, 2, 3]);
  if (r.chance(0.5)) kw.stride = r.chance(0.1) ? null : intArg(r, n, r.chance(0.05) ? [0, 1] : [1, 2, 3]);
  const kmin = typeof k === 'number' ? k : Math.min(...k);
  if (r.chance(0.4)) kw.padding = intArg(r, n, r.chance(0.05) ? [-1, 0, 2] : kmin >= 2 ? [0, 1] : [0]);
  if (op.startsWith('max') && r.chance(0.3)) kw.dilation = intArg(r, n, r.chance(0.05) ? [0, 1] : [1, 2]);
  if (r.chance(0.3)) kw.ceil_mode = true;
  if (op.startsWith('avg') && r.chance(0.3)) kw.count_include_pad = false;
  if (op === 'avg_pool2d' && r.chance(0.15)) kw.divisor_override = r.pick([2, 0]);
  if (op.startsWith('max') && r.chance(0.3)) kw.return_indices = true;
  return { op, args: [x, k], kw, ...grad(r) };
}

function padCase(r: Rng): Case {
  const mode = r.pick(['constant', 'constant', 'reflect', 'replicate', 'circular']);
  const kw: Record<string, unknown> = {};
  if (mode !== 'constant' || r.chance(0.5)) kw.mode = r.chance(0.02) ? 'foo' : mode;
  if (r.chance(0.15)) kw.value = r.pick([0, 1.5, 0.0]);
  let shape: number[];
  let pad: number[];
  if (mode === 'constant' || r.chance(0.15)) {
    shape = r.shape(0, 5, 4);
    const len = r.chance(0.9) ? 2 * r.int(0, Math.min(3, shape.length)) : r.int(0, 7);
    pad = Array.from({ length: len }, () => (r.chance(0.15) ? r.int(-3, -1) : r.int(0, 3)));
  } else {
    // a supported combination: 2k pads for a (k+1)- or (k+2)-dim input, pads within the sizes
    const k = r.int(1, 3);
    shape = Array.from({ length: k + r.int(1, 2) }, () => (r.chance(0.03) ? 0 : r.int(1, 4)));
    pad = [];
    for (let i = 0; i < k; i++) {
      const size = shape[shape.length - 1 - i]!;
      for (let j = 0; j < 2; j++) pad.push(r.chance(0.1) ? r.int(-2, -1) : r.chance(0.1) ? size : r.int(0, Math.max(0, size - 1)));
    }
  }
  return { op: 'pad', args: [randT(r, shape), pad], kw, ...grad(r) };
}

function interpolateCase(r: Rng): Case {
  const mode = r.pick(['nearest', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area', 'nearest-exact']);
  const want: Record<string, number> = { linear: 3, bilinear: 4, bicubic: 4, trilinear: 5 };
  const nd = r.chance(0.85) ? (want[mode] ?? r.int(3, 5)) : r.int(1, 5);
  const shape = Array.from({ length: nd }, (_, i) => (r.chance(0.03) ? 0 : i < 2 ? r.int(1, 2) : r.int(1, nd === 5 ? 3 : 5)));
  const dtype = r.chance(0.8) ? torch.float32 : r.pick(POOL_DTYPES);
  const x = T(shape, dtype, { rg: dtype.category === 'float' && r.chance(0.3) ? 'leaf' : undefined });
  const kw: Record<string, unknown> = { mode };
  const sd = Math.max(nd - 2, 1);
  if (r.chance(0.5)) kw.size = r.chance(0.5) ? r.int(r.chance(0.05) ? 0 : 1, 6) : Array.from({ length: r.chance(0.05) ? sd + 1 : sd }, () => r.int(1, 6));
  else {
    kw.scale_factor = r.chance(0.5) ? r.pick([2, 1.5, 0.5, 0.7, 3, 2.5]) : Array.from({ length: r.chance(0.05) ? sd + 1 : sd }, () => r.pick([2, 1.5, 0.5, 1.3]));
    if (r.chance(0.3)) kw.recompute_scale_factor = r.chance(0.8);
  }
  if (r.chance(0.05)) kw.size = 3;
  const interpolating = ['linear', 'bilinear', 'bicubic', 'trilinear'].includes(mode);
  if (r.chance(interpolating ? 0.4 : 0.05)) kw.align_corners = r.chance(0.5);
  if (r.chance(0.08)) kw.antialias = true;
  return { op: 'interpolate', args: [x], kw, ...grad(r) };
}


const LOSS_DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.uint8, torch.bool, torch.complex64];

function redKw(r: Rng, kw: Record<string, unknown>, legacyOk = true): Record<string, unknown> {
  if (r.chance(0.6)) kw.reduction = r.pick(['none', 'mean', 'sum', 'none', r.chance(0.1) ? 'bogus' : 'mean']);
  if (legacyOk && r.chance(0.05)) kw.size_average = r.chance(0.5);
  if (legacyOk && r.chance(0.05)) kw.reduce = r.chance(0.5);
  return kw;
}

/** Two broadcast-compatible shapes (sometimes not). */
function twoShapes(r: Rng): [number[], number[]] {
  const a = r.shape(0, 3);
  if (r.chance(0.6)) return [a, [...a]];
  const b = a.map((s) => (r.chance(0.3) ? 1 : s)).slice(r.int(0, a.length));
  if (r.chance(0.1)) b.push(r.int(2, 5));
  return r.chance(0.5) ? [a, b] : [b, a];
}

function elementwiseLossCase(r: Rng): Case {
  const op = r.pick(['mse_loss', 'l1_loss', 'smooth_l1_loss', 'huber_loss', 'kl_div', 'margin_ranking_loss']);
  const [sa, sb] = twoShapes(r);
  const x = randT(r, sa, LOSS_DTYPES, 0.7);
  const y = randT(r, sb, LOSS_DTYPES, 0.7);
  const kw: Record<string, unknown> = {};
  if (op === 'huber_loss') {
    if (r.chance(0.5)) kw.reduction = r.pick(['none', 'mean', 'sum']);
    if (r.chance(0.3)) kw.delta = r.pick([1, 0.5, 0, -1]);
    return { op, args: [x, y], kw, ...grad(r) };
  }
  redKw(r, kw);
  if (op === 'smooth_l1_loss' && r.chance(0.4)) kw.beta = r.pick([1, 0.5, 0, -1]);
  if (op === 'kl_div') {
    if (r.chance(0.3)) kw.reduction = 'batchmean';
    if (r.chance(0.3)) kw.log_target = true;
  }
  if (op === 'margin_ranking_loss') {
    const t = randT(r, r.chance(0.8) ? [...sa] : sb, LOSS_DTYPES, 0.7);
    if (r.chance(0.3)) kw.margin = r.pick([0, 0.5, 1]);
    return { op, args: [x, y, t], kw, ...grad(r) };
  }
  return { op, args: [x, y], kw, ...grad(r) };
}

function bceCase(r: Rng): Case {
  const op = r.pick(['binary_cross_entropy', 'binary_cross_entropy_with_logits']);
  const shape = r.shape(0, 3);
  const dt = () => (r.chance(0.75) ? torch.float32 : r.pick(LOSS_DTYPES));
  const xd = dt();
  const x = T(shape, xd, { kind: 'prob', rg: xd.category === 'float' && r.chance(0.3) ? 'leaf' : undefined });
  const y = T(r.chance(0.9) ? [...shape] : r.shape(0, 3), r.chance(0.7) ? xd : dt(), { kind: 'prob' });
  const kw: Record<string, unknown> = {};
  redKw(r, kw);
  const sub = () => (r.chance(0.8) ? shape.slice(r.int(0, shape.length)) : r.shape(0, 4));
  if (r.chance(0.3)) kw.weight = T(sub(), r.chance(0.8) ? torch.float32 : dt(), { kind: 'prob' });
  if (op === 'binary_cross_entropy_with_logits' && r.chance(0.3)) kw.pos_weight = T(sub(), r.chance(0.8) ? torch.float32 : dt(), { kind: 'prob' });
  return { op, args: [x, y], kw, ...grad(r) };
}

function crossEntropyCase(r: Rng): Case {
  const op = r.pick(['cross_entropy', 'nll_loss']);
  const c = r.int(r.chance(0.05) ? 0 : 1, 4);
  const nd = r.pick([1, 2, 2, 2, 3, 4, 5, r.chance(0.1) ? 0 : 2]);
  const n = r.chance(0.08) ? 0 : r.int(1, 3);
  const spatial = Array.from({ length: Math.max(nd - 2, 0) }, () => (r.chance(0.05) ? 0 : r.int(1, 3)));
  const xshape = nd === 0 ? [] : nd === 1 ? [c] : [n, c, ...spatial];
  const xd = r.chance(0.8) ? torch.float32 : r.pick(LOSS_DTYPES);
  const x = T(xshape, xd, { rg: xd.category === 'float' && r.chance(0.3) ? 'leaf' : undefined });
  const kw: Record<string, unknown> = {};
  redKw(r, kw);
  let y: TSpec;
  const prob = op === 'cross_entropy' && r.chance(0.3);
  if (prob) y = T([...xshape], r.chance(0.8) ? torch.float32 : r.pick(LOSS_DTYPES), { kind: 'prob' });
  else {
    let yshape = nd <= 1 ? (r.chance(0.8) ? [] : [1]) : [n, ...spatial];
    if (r.chance(0.1)) yshape = r.pick([[n + 1, ...spatial], [n], [n, ...spatial, 1], [...yshape.slice(0, -1), 5]]);
    const td = r.chance(0.85) ? torch.int64 : r.pick([torch.int32, torch.uint8, torch.float32, torch.bool]);
    y = T(yshape, td, { kind: 'index', lo: 0, hi: Math.max(c, 1) });
    if (c === 0) y.hi = 1;
  }
  if (r.chance(0.3)) kw.weight = T(r.chance(0.85) ? [c] : r.pick([[c + 1], [c, 1]]), r.chance(0.8) ? xd : r.pick(LOSS_DTYPES), { kind: 'prob' });
  if (r.chance(0.2)) kw.ignore_index = r.pick([-100, 0, 1]);
  if (op === 'cross_entropy' && r.chance(0.3)) kw.label_smoothing = r.pick([0.1, 0, 0.5, 1.5, -0.1]);
  // out-of-range class indices fail on the data (mayFail): keep targets valid when C == 0
  if (c === 0 && !prob) kw.ignore_index = 0;
  return { op, args: [x, y], kw, ...grad(r) };
}


const NORM_DTYPES = [torch.float32, torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.complex64];

function normCase(r: Rng): Case {
  const op = r.pick(['batch_norm', 'instance_norm', 'layer_norm', 'group_norm']);
  const nd = r.chance(0.9) ? r.int(2, 4) : r.int(0, 1);
  const shape = Array.from({ length: nd }, (_, i) => (r.chance(0.04) ? 0 : i === 1 ? r.pick([1, 2, 4, 6]) : r.int(2, 3)));
  const xd = r.chance(0.8) ? torch.float32 : r.pick(NORM_DTYPES);
  const x = T(shape, xd, { rg: xd.category === 'float' && r.chance(0.3) ? 'leaf' : undefined });
  const pd = () => (r.chance(0.9) ? (xd.category === 'float' ? xd : torch.float32) : r.pick(NORM_DTYPES));
  const c = shape[1] ?? 3;
  const cp = () => (r.chance(0.95) ? c : c + 1);
  const param = (s: number[], rg = true) => T(s, pd(), { rg: rg && r.chance(0.3) ? 'leaf' : undefined });
  const kw: Record<string, unknown> = {};
  if (op === 'batch_norm' || op === 'instance_norm') {
    const stats = op === 'batch_norm' ? r.chance(0.8) : r.chance(0.3);
    let rm: TSpec | null = stats ? param([cp()], false) : null;
    let rv: TSpec | null = stats ? param([cp()], false) : null;
    if (stats && r.chance(0.05)) rm = { ...rm!, rg: 'leaf', dtype: torch.float32 };
    if (op === 'instance_norm' && r.chance(0.05)) rv = null;
    if (r.chance(0.4)) kw.weight = param([cp()]);
    if (r.chance(0.4)) kw.bias = param([cp()]);
    if (op === 'batch_norm') {
      if (r.chance(0.5)) kw.training = r.chance(0.6);
      return { op, args: [x, rm, rv], kw, ...grad(r) };
    }
    kw.running_mean = rm;
    kw.running_var = rv;
    if (r.chance(0.3)) kw.use_input_stats = r.chance(0.3);
    return { op, args: [x], kw, ...grad(r) };
  }
  if (op === 'layer_norm') {
    const k = r.int(r.chance(0.05) ? 0 : 1, Math.max(1, shape.length));
    let ns = shape.slice(shape.length - k);
    if (r.chance(0.1)) ns = [...ns.slice(0, -1), 5];
    if (r.chance(0.4)) kw.weight = param(r.chance(0.9) ? ns : [...ns, 1]);
    if (r.chance(0.4)) kw.bias = param(r.chance(0.9) ? ns : [2]);
    return { op, args: [x, ns], kw, ...grad(r) };
  }
  const divisors = [1, 2, 3, 6].filter((d) => c % d === 0);
  const g = r.chance(0.85) ? r.pick(divisors) : r.pick([0, -2, 4, 5]);
  if (r.chance(0.4)) kw.weight = param([cp()]);
  if (r.chance(0.4)) kw.bias = param([cp()]);
  return { op, args: [x, g], kw, ...grad(r) };
}

function embeddingCase(r: Rng): Case {
  if (r.chance(0.4)) {
    const shape = r.shape(0, 3);
    const nc = r.pick([3, 5, r.chance(0.1) ? 0 : 4, r.chance(0.1) ? -1 : 4]);
    const dt = r.chance(0.85) ? torch.int64 : r.pick([torch.int32, torch.float32, torch.uint8]);
    const x = T(shape, dt, { kind: 'index', lo: 0, hi: 3 });
    return { op: 'one_hot', args: [x], kw: { num_classes: nc } };
  }
  const n = r.int(3, 6);
  const wshape = r.chance(0.9) ? [n, r.int(1, 4)] : r.pick([[n], [n, 2, 2]]);
  const w = T(wshape, r.chance(0.8) ? torch.float32 : r.pick(NORM_DTYPES), { kind: 'prob' });
  if (w.dtype.category === 'float' && r.chance(0.3)) w.rg = 'leaf';
  const idt = r.chance(0.8) ? torch.int64 : r.pick([torch.int32, torch.uint8, torch.float32]);
  const idx = T(r.shape(0, 3), idt, { kind: 'index', lo: 0, hi: n });
  const kw: Record<string, unknown> = {};
  if (r.chance(0.3)) kw.padding_idx = r.pick([0, 1, -1, n, -n - 1]);
  return { op: 'embedding', args: [idx, w], kw, ...grad(r) };
}

function distanceCase(r: Rng): Case {
  const op = r.pick(['prelu', 'normalize', 'cosine_similarity', 'pairwise_distance', 'pdist']);
  const dt = () => (r.chance(0.75) ? torch.float32 : r.pick(LOSS_DTYPES));
  if (op === 'prelu') {
    const shape = r.shape(0, 4);
    const xd = dt();
    const c = shape.length > 1 ? shape[1]! : 1;
    const w = T(r.chance(0.6) ? [c] : r.pick([[1], [], [c + 1], [c, 1]]), r.chance(0.85) ? xd : dt(), { rg: r.chance(0.3) && xd.category === 'float' ? 'leaf' : undefined });
    return { op, args: [randT(r, shape, [xd], 0), w], ...grad(r) };
  }
  if (op === 'normalize') {
    const x = randT(r, r.shape(0, 3), LOSS_DTYPES);
    const kw: Record<string, unknown> = {};
    if (r.chance(0.5)) kw.p = r.pick([1, 2, 0, -1, Infinity, 3.5]);
    if (r.chance(0.6)) kw.dim = r.int(-3, 2);
    return { op, args: [x], kw, ...grad(r) };
  }
  if (op === 'pdist') {
    const x = randT(r, r.chance(0.9) ? [r.int(0, 4), r.int(0, 3)] : r.shape(0, 3), LOSS_DTYPES);
    return { op, args: [x], kw: r.chance(0.4) ? { p: r.pick([1, 2, 0, -1, Infinity]) } : undefined, ...grad(r) };
  }
  const [sa, sb] = twoShapes(r);
  const kw: Record<string, unknown> = {};
  if (op === 'cosine_similarity') {
    if (r.chance(0.6)) kw.dim = r.int(-2, 2);
  } else {
    if (r.chance(0.4)) kw.p = r.pick([1, 2, 0, -1, Infinity]);
    if (r.chance(0.4)) kw.keepdim = true;
  }
  return { op, args: [T(sa, dt()), T(sb, dt())], kw, ...grad(r) };
}

function attentionCase(r: Rng): Case {
  const nb = r.int(0, 2);
  const batch = Array.from({ length: nb }, () => r.int(1, 3));
  const L = r.int(r.chance(0.05) ? 0 : 1, 4);
  const S = r.int(r.chance(0.05) ? 0 : 1, 4);
  const E = r.int(1, 4);
  const Ev = r.int(1, 4);
  const dt = r.chance(0.8) ? torch.float32 : r.pick(NORM_DTYPES);
  const rg = () => (dt.category === 'float' && r.chance(0.3) ? ('leaf' as const) : undefined);
  const kb = batch.map((b) => (r.chance(0.2) ? 1 : b));
  const q = T([...batch, L, E], dt, { rg: rg() });
  const k = T([...kb, S, r.chance(0.05) ? E + 1 : E], r.chance(0.95) ? dt : torch.float64, { rg: rg() });
  const v = T([...kb, S, Ev], dt, { rg: rg() });
  const kw: Record<string, unknown> = {};
  if (r.chance(0.3)) kw.attn_mask = T(r.chance(0.9) ? [L, S] : [2, L, S], r.pick([torch.bool, dt, torch.float64]));
  if (r.chance(0.2)) kw.is_causal = true;
  if (r.chance(0.2)) kw.dropout_p = 0.3;
  if (r.chance(0.2)) kw.scale = 0.5;
  return { op: 'scaled_dot_product_attention', args: [q, k, v], kw, ...grad(r) };
}

// ---- the suite -----------------------------------------------------------------------------------

describe('nn.functional mirror: differential', () => {
  it('activations', async () => {
    expectClean(await runFamily('activations', 1200, 1, activationCase));
  });
  it('dropout', async () => {
    expectClean(await runFamily('dropout', 600, 2, dropoutCase));
  });
  it('softmin, gumbel_softmax, glu', async () => {
    expectClean(await runFamily('softmin/gumbel/glu', 600, 3, softCase));
  });
  it('convolutions', async () => {
    expectClean(await runFamily('conv', 1000, 4, convCase));
  });
  it('pooling', async () => {
    expectClean(await runFamily('pool', 1200, 5, poolCase));
  });
  it('pad', async () => {
    expectClean(await runFamily('pad', 1000, 6, padCase));
  });
  it('elementwise losses', async () => {
    expectClean(await runFamily('losses', 1200, 8, elementwiseLossCase));
  });
  it('binary cross entropy', async () => {
    expectClean(await runFamily('bce', 800, 9, bceCase));
  });
  it('cross_entropy, nll_loss', async () => {
    expectClean(await runFamily('cross_entropy/nll', 1200, 10, crossEntropyCase));
  });
  it('normalization layers', async () => {
    expectClean(await runFamily('norms', 1000, 11, normCase));
  });
  it('embedding, one_hot', async () => {
    expectClean(await runFamily('embedding/one_hot', 800, 12, embeddingCase));
  });
  it('distances, prelu, normalize', async () => {
    expectClean(await runFamily('distances', 1000, 13, distanceCase));
  });
  it('scaled_dot_product_attention', async () => {
    expectClean(await runFamily('sdpa', 600, 14, attentionCase));
  });
  it('interpolate', async () => {
    expectClean(await runFamily('interpolate', 1000, 7, interpolateCase));
  });
  it('summary', () => {
    const all = Object.values(TOTAL);
    const sum = (f: (s: Stats) => number) => all.reduce((p, s) => p + f(s), 0);
    const refused = sum((s) => s.mirrorErrors);
    const agree = sum((s) => s.messageAgree);
    console.log(
      `[nn.functional total] ${sum((s) => s.cases)} cases: ${sum((s) => s.mirrored)} mirrored (metadata checked by strict mode), ` +
        `${sum((s) => s.pending)} pending, ${refused} refused by the mirror, torch's message matched in ${agree} (${((100 * agree) / Math.max(refused, 1)).toFixed(1)}%)`,
    );
    expect(sum((s) => s.wrong.length)).toBe(0);
    expect(agree / Math.max(refused, 1)).toBeGreaterThanOrEqual(0.95);
  });
});

// ---- targeted tests ------------------------------------------------------------------------------

/** The error fn throws synchronously (fails the test if it returns). */
function thrownBy(fn: () => unknown): TorchError {
  let result: unknown;
  try {
    result = fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TorchError);
    return err as TorchError;
  }
  throw new Error(`expected a synchronous throw, got ${String(result)}`);
}

const meta = (t: Tensor) => ({ shape: [...t.shape], dtype: t.dtype.name, requires_grad: t.requires_grad, is_leaf: t.is_leaf });

describe('nn.functional mirror: targeted', () => {
  const Fn = torch.nn.functional;

  it('conv2d: output sizes for stride, padding, dilation, groups, padding strings and unbatched input', async () => {
    await torch.tidy(async () => {
      const x = torch.randn([2, 4, 16, 16]);
      expect(meta(Fn.conv2d(x, torch.randn([8, 4, 3, 3])))).toEqual({ shape: [2, 8, 14, 14], dtype: 'float32', requires_grad: false, is_leaf: true });
      expect(Fn.conv2d(x, torch.randn([8, 2, 3, 3]), null, [2, 1], 1, 2, 2).shape).toEqual([2, 8, 7, 14]);
      expect(Fn.conv2d(x, torch.randn([8, 4, 4, 3]), { padding: 'same' }).shape).toEqual([2, 8, 16, 16]);
      expect(Fn.conv2d(x, torch.randn([8, 4, 4, 3]), { padding: 'valid' }).shape).toEqual([2, 8, 13, 14]);
      const w = torch.randn([5, 4, 3, 3], { requires_grad: true });
      expect(meta(Fn.conv2d(torch.randn([4, 8, 8]), w))).toEqual({ shape: [5, 6, 6], dtype: 'float32', requires_grad: true, is_leaf: false });
      expect(Fn.conv1d(torch.randn([1, 2, 10]), torch.randn([3, 2, 3]), { stride: 3 }).shape).toEqual([1, 3, 3]);
      expect(Fn.conv3d(torch.randn([1, 2, 5, 5, 5]), torch.randn([3, 2, 2, 2, 2])).shape).toEqual([1, 3, 4, 4, 4]);
      expect(Fn.conv_transpose2d(torch.randn([2, 4, 5, 5]), torch.randn([4, 3, 3, 3]), { stride: 2, padding: 1, output_padding: 1 }).shape).toEqual([2, 3, 10, 10]);
      expect(Fn.conv_transpose1d(torch.randn([4, 5]), torch.randn([4, 2, 3]), { groups: 2 }).shape).toEqual([4, 7]);
      await torch.sync();
    });
  });

  it('conv2d: torch\'s messages, thrown at the call site', async () => {
    await torch.tidy(async () => {
      const e = thrownBy(() => Fn.conv2d(torch.randn([2, 3, 16, 16]), torch.randn([8, 4, 3, 3])));
      expect(e.pyType).toBe('RuntimeError');
      expect(e.pyMessage).toBe('Given groups=1, weight of size [8, 4, 3, 3], expected input[2, 3, 16, 16] to have 4 channels, but got 3 channels instead');
      expect(thrownBy(() => Fn.conv2d(torch.randn([2, 4, 2, 2]), torch.randn([8, 4, 3, 3]))).pyMessage).toBe(
        "Calculated padded input size per channel: (2 x 2). Kernel size: (3 x 3). Kernel size can't be greater than actual input size",
      );
      expect(thrownBy(() => Fn.conv2d(torch.randn([4, 8]), torch.randn([8, 4, 3, 3]))).pyMessage).toBe(
        'Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [4, 8]',
      );
      expect(thrownBy(() => Fn.conv2d(torch.randn([2, 4, 8, 8]), torch.randn([3, 2, 3, 3]), { groups: 2 })).pyMessage).toBe(
        'Given groups=2, expected weight to be divisible by 2 at dimension 0, but got weight of size [[3, 2, 3, 3]] instead',
      );
      expect(thrownBy(() => Fn.conv2d(torch.randn([2, 4, 8, 8]), torch.randn([4, 4, 3, 3]), { padding: 'same', stride: 2 })).pyMessage).toBe(
        "padding='same' is not supported for strided convolutions",
      );
      // and torch agrees
      const ref = torch.call('nn.functional.conv2d', [torch.randn([2, 3, 16, 16]), torch.randn([8, 4, 3, 3])]);
      await expect(ref.ready()).rejects.toMatchObject({ pyMessage: e.pyMessage });
      await torch.sync().catch(() => {});
    });
  });

  it('pooling: sizes, ceil_mode, return_indices as (values, int64 indices)', async () => {
    await torch.tidy(async () => {
      const x = torch.randn([1, 2, 5, 5], { requires_grad: true });
      expect(Fn.max_pool2d(x, 2).shape).toEqual([1, 2, 2, 2]);
      expect(Fn.max_pool2d(x, 2, { ceil_mode: true }).shape).toEqual([1, 2, 3, 3]);
      const [v, i] = Fn.max_pool2d(x, 3, { stride: 2, padding: 1, return_indices: true }) as unknown as Tensor[];
      expect(meta(v!)).toEqual({ shape: [1, 2, 3, 3], dtype: 'float32', requires_grad: true, is_leaf: false });
      expect(meta(i!)).toEqual({ shape: [1, 2, 3, 3], dtype: 'int64', requires_grad: false, is_leaf: true });
      expect(Fn.avg_pool1d(torch.randn([3, 7]), 3, { stride: 2, ceil_mode: true }).shape).toEqual([3, 3]);
      expect(Fn.adaptive_avg_pool2d(x, [3, 1]).shape).toEqual([1, 2, 3, 1]);
      const [m, mi] = Fn.adaptive_max_pool2d(x, 4, true) as unknown as Tensor[];
      expect([m!.shape, mi!.dtype.name]).toEqual([[1, 2, 4, 4], 'int64']);
      expect(thrownBy(() => Fn.max_pool2d(x, 6)).pyMessage).toBe('Given input size: (2x5x5). Calculated output size: (2x0x0). Output size is too small');
      await torch.sync();
    });
  });

  it('pad and interpolate', async () => {
    await torch.tidy(async () => {
      const x = torch.randn([2, 3, 4, 5]);
      expect(Fn.pad(x, [1, 2]).shape).toEqual([2, 3, 4, 8]);
      expect(Fn.pad(x, [-1, -2, 1, 0]).shape).toEqual([2, 3, 5, 2]);
      expect(Fn.pad(x, [1, 1, 2, 2], 'reflect').shape).toEqual([2, 3, 8, 7]);
      expect(Fn.pad(torch.randn([3, 4, 5]), [1, 1], { mode: 'circular' }).shape).toEqual([3, 4, 7]);
      expect(thrownBy(() => Fn.pad(x, [1, 2, 3])).pyMessage).toBe('Padding length must be divisible by 2');
      expect(thrownBy(() => Fn.pad(x, [4, 4], 'reflect')).pyType).toBe('NotImplementedError');
      // output size = floor(input * scale)
      expect(Fn.interpolate(x, { scale_factor: 1.7, mode: 'bilinear' }).shape).toEqual([2, 3, 6, 8]);
      expect(Fn.interpolate(x, { size: [3, 9], mode: 'bicubic', align_corners: true }).shape).toEqual([2, 3, 3, 9]);
      expect(Fn.interpolate(torch.randn([1, 1, 7]), { scale_factor: 0.5, mode: 'linear', recompute_scale_factor: true }).shape).toEqual([1, 1, 3]);
      expect(thrownBy(() => Fn.interpolate(x, { size: 2, mode: 'nearest', align_corners: true })).pyType).toBe('ValueError');
      expect(thrownBy(() => Fn.interpolate(x, { size: 2, mode: 'linear' })).pyMessage).toBe('Got 4D input, but linear mode needs 3D input');
      await torch.sync();
    });
  });

  it('embedding, one_hot (num_classes=-1 is pending: it depends on the data)', async () => {
    await torch.tidy(async () => {
      const w = torch.randn([10, 3], { requires_grad: true });
      expect(meta(Fn.embedding(torch.tensor([[1, 2], [3, 4]]), w))).toEqual({ shape: [2, 2, 3], dtype: 'float32', requires_grad: true, is_leaf: false });
      expect(meta(Fn.one_hot(torch.tensor([1, 2, 0]), 4))).toEqual({ shape: [3, 4], dtype: 'int64', requires_grad: false, is_leaf: true });
      const p = Fn.one_hot(torch.tensor([1, 5]));
      expect(() => p.shape).toThrow(/not known until the runtime answers/);
      await p.ready();
      expect(p.shape).toEqual([2, 6]);
      expect(thrownBy(() => Fn.one_hot(torch.tensor([1.5]), 3)).pyMessage).toBe('one_hot is only applicable to index tensor of type LongTensor.');
      await torch.sync();
    });
  });

  it('normalization: shapes and messages', async () => {
    await torch.tidy(async () => {
      const x = torch.randn([4, 6, 5], { requires_grad: true });
      expect(Fn.layer_norm(x, [6, 5]).shape).toEqual([4, 6, 5]);
      expect(thrownBy(() => Fn.layer_norm(x, [4])).pyMessage).toBe('Given normalized_shape=[4], expected input with shape [*, 4], but got input of size[4, 6, 5]');
      expect(thrownBy(() => Fn.group_norm(x, 4)).pyMessage).toBe(
        'Expected number of channels in input to be divisible by num_groups, but got input of shape [4, 6, 5] and num_groups=4',
      );
      expect(meta(Fn.group_norm(x, 3))).toEqual({ shape: [4, 6, 5], dtype: 'float32', requires_grad: true, is_leaf: false });
      expect(Fn.batch_norm(x, torch.zeros([6]), torch.ones([6]), { training: true }).shape).toEqual([4, 6, 5]);
      expect(thrownBy(() => Fn.batch_norm(x, null, null)).pyMessage).toBe('running_mean must be defined in evaluation mode');
      expect(Fn.instance_norm(x).shape).toEqual([4, 6, 5]);
      await torch.sync();
    });
  });

  it('losses: reduction shapes, class indices or probabilities, broadcasting', async () => {
    await torch.tidy(async () => {
      const logits = torch.randn([4, 5, 3], { requires_grad: true });
      const target = torch.randint(0, 5, [4, 3]);
      expect(meta(Fn.cross_entropy(logits, target))).toEqual({ shape: [], dtype: 'float32', requires_grad: true, is_leaf: false });
      expect(Fn.cross_entropy(logits, target, { reduction: 'none', label_smoothing: 0.1 }).shape).toEqual([4, 3]);
      expect(Fn.cross_entropy(logits, torch.rand([4, 5, 3]), { reduction: 'none' }).shape).toEqual([4, 3]);
      expect(Fn.nll_loss(torch.randn([5]), torch.tensor(2)).shape).toEqual([]);
      expect(thrownBy(() => Fn.cross_entropy(torch.randn([4, 5]), torch.randint(0, 5, [3]))).pyMessage).toBe(
        'Expected input batch_size (4) to match target batch_size (3).',
      );
      // mse_loss warns but broadcasts
      expect(Fn.mse_loss(torch.randn([2, 1]), torch.randn([3]), { reduction: 'none' }).shape).toEqual([2, 3]);
      expect(Fn.mse_loss(torch.randn([2, 3]), torch.randn([2, 3], { dtype: torch.float64 })).dtype).toBe(torch.float64);
      expect(Fn.binary_cross_entropy_with_logits(torch.randn([2, 3]), torch.rand([2, 3]), { pos_weight: torch.rand([3]), reduction: 'none' }).shape).toEqual([2, 3]);
      expect(thrownBy(() => Fn.binary_cross_entropy(torch.rand([2, 3]), torch.rand([3]))).pyType).toBe('ValueError');
      expect(thrownBy(() => Fn.mse_loss(torch.randn([2]), torch.randn([2]), { reduction: 'avg' })).pyMessage).toBe('avg is not a valid value for reduction');
      await torch.sync();
    });
  });

  it('activations: dtype rules, in-place forms, dropout returning its input', async () => {
    await torch.tidy(async () => {
      const i = torch.tensor([1, -2, 3]);
      expect(Fn.relu(i).dtype).toBe(torch.int64);
      expect(Fn.sigmoid(i).dtype).toBe(torch.float32);
      expect(thrownBy(() => Fn.gelu(i)).pyMessage).toBe('"GeluKernelImpl" not implemented for \'Long\'');
      expect(thrownBy(() => Fn.relu(torch.tensor([true]))).pyMessage).toBe('Boolean inputs not supported for relu');
      expect(thrownBy(() => Fn.glu(torch.randn([2, 3]))).pyMessage).toBe('Halving dimension must be even, but dimension 1 is size 3');
      const leaf = torch.randn([3], { requires_grad: true });
      expect(thrownBy(() => Fn.relu(leaf, true)).pyMessage).toBe('a leaf Variable that requires grad is being used in an in-place operation.');
      const y = leaf.mul(2);
      const r = Fn.leaky_relu(y, { negative_slope: 0.2, inplace: true });
      expect(meta(r)).toEqual(meta(y));
      // dropout in eval mode returns its input itself: a leaf stays a leaf
      expect(meta(Fn.dropout(leaf, { training: false }))).toEqual({ shape: [3], dtype: 'float32', requires_grad: true, is_leaf: true });
      expect(meta(Fn.dropout(leaf, 0.3))).toEqual({ shape: [3], dtype: 'float32', requires_grad: true, is_leaf: false });
      // a view of a tensor that requires grad still does under no_grad (dropout1d's unsqueeze/squeeze)
      const v = torch.no_grad(() => Fn.dropout1d(torch.randn([2, 3], { requires_grad: true }), { training: false }));
      expect([v.requires_grad, v.is_leaf]).toEqual([true, true]);
      expect(Fn.softmin(torch.randn([2, 3]), { dim: 1, dtype: torch.float64 }).dtype).toBe(torch.float64);
      await torch.sync();
    });
  });

  it('scaled_dot_product_attention and distances', async () => {
    await torch.tidy(async () => {
      const q = torch.randn([2, 4, 5, 8]);
      const k = torch.randn([2, 4, 6, 8], { requires_grad: true });
      const v = torch.randn([2, 4, 6, 3]);
      expect(meta(Fn.scaled_dot_product_attention(q, k, v))).toEqual({ shape: [2, 4, 5, 3], dtype: 'float32', requires_grad: true, is_leaf: false });
      expect(Fn.scaled_dot_product_attention(q, k, v, { attn_mask: torch.ones([5, 6], { dtype: torch.bool }) }).shape).toEqual([2, 4, 5, 3]);
      expect(Fn.scaled_dot_product_attention(torch.randn([2, 8, 5, 8]), torch.randn([2, 2, 6, 8]), torch.randn([2, 2, 6, 3]), { enable_gqa: true }).shape).toEqual([2, 8, 5, 3]);
      expect(thrownBy(() => Fn.scaled_dot_product_attention(q, k.double(), v)).pyMessage).toBe(
        'Expected query, key, and value to have the same dtype, but got query.dtype: float key.dtype: double and value.dtype: float instead.',
      );
      expect(Fn.cosine_similarity(torch.randn([2, 1, 3]), torch.randn([4, 3]), { dim: -1 }).shape).toEqual([2, 4]);
      expect(Fn.pairwise_distance(torch.randn([2, 3]), torch.randn([3]), { keepdim: true }).shape).toEqual([2, 1]);
      expect(Fn.pdist(torch.randn([4, 3])).shape).toEqual([6]);
      expect(Fn.normalize(torch.randn([2, 3]), { p: 1, dim: 0 }).shape).toEqual([2, 3]);
      await torch.sync();
    });
  });
});
