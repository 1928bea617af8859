/**
 * Fuzzing the call surface: random arguments (numbers huge, negative, NaN, infinite; BigInts
 * beyond int64; strings, lone surrogates; null/undefined; nested lists; objects; symbols,
 * functions, promises, circular structures; tensors of many dtypes and shapes, disposed ones)
 * over every generated torch function and Tensor method (src/generated/, GENERATED_NAMES),
 * torch.call and torch.callValue, non-tensor results included. After every call:
 *   - what it threw is one of the library's typed errors (a TorchBridgeError), never a bare
 *     TypeError/RangeError: a plain JS error is reported with the call that threw it;
 *   - ops queued just before and just after it still read back right (no lost work);
 *   - every read settles within a timeout (no hang), and the runtime is the same live process.
 *
 * Deterministic: the seed is fixed. Another seed, or more calls:
 *   TORCHBRIDGE_FUZZ_SEED=1234 TORCHBRIDGE_FUZZ_CALLS=20000 npx vitest run test/fuzz.test.ts
 * TORCHBRIDGE_FUZZ_LOG=1 prints every call, to find what led up to a reported mismatch.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import torch, { Tensor, TorchBridgeError } from '../src/index.js';
import { PyObject } from '../src/py/object.js';
import { Tuple } from '../src/transport/codec.js';
import { root } from './fixtures/run_child.js';
import { mulberry32 } from './fixtures/differential.js';

const SEED = Number(process.env.TORCHBRIDGE_FUZZ_SEED ?? 20240611);
const CALLS = Number(process.env.TORCHBRIDGE_FUZZ_CALLS ?? 3000);
/** A read that takes longer than this has hung (every call here works on tiny tensors). */
const SETTLE_MS = 20_000;

afterAll(() => torch.shutdown());


/** One parameter of one overload, as src/generated/ lists it: name, Python type, p(ositional)/k(eyword)/v(arargs), has a default. */
type Param = [string, string, 'p' | 'k' | 'v', boolean];

interface Target {
  /** how reports name it: torch.add, Tensor.add, torch.linalg.inv, torch.call('add') */
  label: string;
  kind: 'function' | 'method' | 'call' | 'callValue';
  /** the namespace object (function) or the name (method, call, callValue) */
  fn?: (...args: unknown[]) => unknown;
  name: string;
  /** torch's overloads (for methods, self included), to build calls that get past argument binding */
  overloads: Param[][];
}

/** Every generated function and method, with its parameter names, read from src/generated/. */
function generatedTargets(): Target[] {
  const namespaces: [string, string, Record<string, unknown> | undefined][] = [
    ['torch', 'torch', torch as unknown as Record<string, unknown>],
    ['tensor_methods', 'Tensor', undefined],
    ['nn_functional', 'torch.nn.functional', torch.nn.functional as unknown as Record<string, unknown>],
    ['linalg', 'torch.linalg', torch.linalg as unknown as Record<string, unknown>],
    ['fft', 'torch.fft', torch.fft as unknown as Record<string, unknown>],
    ['special', 'torch.special', torch.special as unknown as Record<string, unknown>],
  ];
  const out: Target[] = [];
  for (const [file, label, ns] of namespaces) {
    const src = readFileSync(join(root, 'src', 'generated', `${file}.ts`), 'utf8');
    const names = JSON.parse(/export const GENERATED_NAMES: readonly string\[\] = (\[.*?\]);/.exec(src)![1]!) as string[];
    const overloads = new Map<string, Param[][]>();
    for (const m of src.matchAll(/defineGenerated(?:Groups)?\("[\w.]+", "(\w+)", (.*)\);$/gm)) {
      // every innermost list of parameter tuples is one overload
      const lists = [...m[2]!.matchAll(/\[((?:\["\w+","[^"]*","[pkv]",(?:true|false)(?:,\[[^\]]*\])?\],?)+)\]/g)];
      // (none: one overload without parameters, torch.get_rng_state())
      overloads.set(m[1]!, lists.length === 0 ? [[]] : lists.map((l) => [...l[1]!.matchAll(/\["(\w+)","([^"]*)","([pkv])",(true|false)/g)].map((p) => [p[1]!, p[2]!, p[3] as 'p', p[4] === 'true'] as Param)));
    }
    for (const name of names) {
      const o = overloads.get(name) ?? [];
      if (ns === undefined) out.push({ label: `Tensor.${name}`, kind: 'method', name, overloads: o });
      else if (typeof ns[name] === 'function') out.push({ label: `${label}.${name}`, kind: 'function', fn: ns[name] as never, name, overloads: o });
    }
  }
  return out;
}

/** Names for torch.call / torch.callValue: generated ones, ones with non-tensor results, and junk. */
const CALL_NAMES = ['add', 'relu', 'nn.functional.gelu', 'linalg.norm', 'max', 'split', 'no_such_function', 'nn', 'os.system', '__import__', 'a..b', '', '.add'];
const VALUE_NAMES = [
  'finfo', 'iinfo', 'is_tensor', 'numel', 'get_default_dtype', 'typename', 'result_type', 'can_cast', 'promote_types', 'is_floating_point',
  'Size', 'Generator', 'get_rng_state', 'initial_seed', 'nn.Linear', 'nn.ReLU', 'unique', 'split', 'max', 'broadcast_shapes', 'no_such_function',
];

const DTYPES = [torch.float32, torch.float64, torch.int64, torch.int32, torch.bool, torch.uint8, torch.complex64, torch.float16, torch.bfloat16];
const SHAPES = [[], [3], [2, 3], [0], [1, 4, 1], [2, 2, 2]];
const NUMBERS = [2 ** 45, -(2 ** 45), 2 ** 62, 2 ** 53, 2 ** 53 + 2, 1e300, -1e300, NaN, Infinity, -Infinity, -0, 0.5, -2.5, 1e-300, 4294967296, -2147483649];
const BIGINTS = [0n, -1n, 5n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 64n - 1n, 2n ** 64n, 2n ** 70n, -(2n ** 64n)];
const STRINGS = ['mean', 'sum', 'none', 'cpu', 'cuda', 'meta', 'float32', '', 'x'.repeat(300), '\ud800', 'ç∂', 'trunc', 'floor', 'reflect', 'fro', 'nuc', 'ij', 'linear', 'ortho'];

/** The tensors arguments are drawn from: many dtypes and shapes, a view, one that requires grad, disposed ones. */
function makePool(rand: () => number): Tensor[] {
  const pool: Tensor[] = [];
  for (let i = 0; i < 10; i++) {
    const dtype = DTYPES[Math.floor(rand() * DTYPES.length)]!;
    const shape = SHAPES[Math.floor(rand() * SHAPES.length)]!;
    pool.push(torch.ones(shape, { dtype }).mul(torch.arange(3).sum().to(dtype)));
  }
  pool.push((torch.randn(2, 3) as unknown as { t(): Tensor }).t(), torch.randn(3, { requires_grad: true }), torch.tensor([[1, 2], [3, 4]]));
  const gone = torch.ones(2);
  gone.dispose();
  pool.push(gone);
  return pool;
}

/** A value of the parameter's Python type, small enough for every op to run fast. */
function typedArg(rand: () => number, pool: Tensor[], type: string): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const t = pick(type.split('|')).replace('?', '');
  const small = () => Math.floor(rand() * 4) - 1;
  if (t.startsWith('Tensor')) return t.endsWith('[]') ? [pick(pool), pick(pool)] : pick(pool.slice(0, -1));
  if (t === 'int' || t === 'int?') return small();
  if (t.startsWith('int') && t.endsWith('[]')) return Array.from({ length: 1 + Math.floor(rand() * 2) }, small);
  if (t === 'bool') return rand() < 0.5;
  if (t === 'float' || t === 'Scalar') return pick([small(), 0.5, -1.5, 2]);
  if (t.endsWith('[]')) return [small(), 0.5];
  if (t === 'dtype') return pick([torch.float32, torch.int64, torch.float64, torch.bool]);
  if (t === 'str') return pick(STRINGS.slice(0, 8));
  if (t === 'device') return 'cpu';
  return small();
}

/** Arguments for one of the target's overloads: of the right types mostly, random now and then. */
function argsFor(rand: () => number, pool: Tensor[], target: Target, names: string[]): { args: unknown[]; kwargs?: Record<string, unknown> } {
  const overload = target.overloads[Math.floor(rand() * target.overloads.length)] ?? [];
  const params = target.kind === 'method' ? overload.slice(1) : overload; // a method's self is the tensor it is called on
  const value = (type: string) => (rand() < 0.85 ? typedArg(rand, pool, type) : randomArg(rand, pool, names));
  const args: unknown[] = [];
  let kwargs: Record<string, unknown> | undefined;
  for (const [name, type, kind, optional] of params) {
    if (kind === 'v') for (let n = Math.floor(rand() * 3); n > 0; n--) args.push(value(type.replace('[]', '')));
    else if (optional && rand() < 0.75) continue;
    else if (kind === 'p' && (kwargs === undefined || rand() < 0.1)) args.push(value(type));
    else (kwargs ??= {})[name] = value(type);
  }
  return { args, kwargs };
}

/** A random argument (depth limits nesting): hostile values, now and then. */
function randomArg(rand: () => number, pool: Tensor[], params: string[], depth = 0): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const r = rand();
  if (r < 0.25 || (depth === 0 && r < 0.3)) return pick(pool);
  if (r < 0.4) return Math.floor(rand() * 12) - 3;
  if (r < 0.45) return pick(NUMBERS);
  if (r < 0.49) return (rand() - 0.5) * 10;
  if (r < 0.54) return pick(BIGINTS);
  if (r < 0.62) return pick(STRINGS);
  if (r < 0.66) return null;
  if (r < 0.68) return undefined;
  if (r < 0.72) return rand() < 0.5;
  if (r < 0.82) return depth >= 3 ? [] : Array.from({ length: Math.floor(rand() * 5) }, () => randomArg(rand, pool, params, depth + 1));
  if (r < 0.86) {
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(rand() * 3); i > 0; i--) {
      const key = rand() < 0.7 && params.length ? pick(params) : pick(['x', 'dim', '__proto__', 'then']);
      const value = depth >= 3 ? 1 : randomArg(rand, pool, params, depth + 1);
      // '__proto__' assigned replaces the prototype (on purpose: an exotic object); other keys are own data
      if (key === '__proto__') o[key] = value;
      else Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
    }
    return o;
  }
  if (r < 0.89) return pick([torch.float32, torch.int64, torch.bool, torch.complex64]);
  if (r < 0.9) return new Tuple([1, pick(pool)]);
  if (r < 0.92) return Symbol('fuzz');
  if (r < 0.94) return () => 1;
  if (r < 0.95) return Promise.resolve(1);
  if (r < 0.96) {
    const c: unknown[] = [1];
    c.push(c);
    return c;
  }
  if (r < 0.97) {
    const c: Record<string, unknown> = {};
    c.self = c;
    return c;
  }
  return new Map<unknown, unknown>([['k', 1], [2, pick(pool)]]);
}

/** Settles within SETTLE_MS, or says it hung. */
async function settle<T>(p: Promise<T>, what: string): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Hang(`${what} did not settle within ${SETTLE_MS} ms`)), SETTLE_MS)));
  try {
    return { ok: true, value: await Promise.race([p, hang]) };
  } catch (error) {
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

class Hang extends Error {}

/** A short text for an argument in reports. */
function show(v: unknown, depth = 0): string {
  if (v instanceof Tensor) return v.isDisposed ? 'Tensor(disposed)' : `Tensor(${v._m ? `[${v._m.shape.join(',')}] ${v._m.dtype.name}` : 'pending'})`;
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'symbol' || typeof v === 'function') return String(v).slice(0, 20);
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v);
  if (depth > 2) return '…';
  if (Array.isArray(v)) return `[${v.map((x) => (x === v ? '<self>' : show(x, depth + 1))).join(', ')}]`;
  if (v instanceof Tuple) return `Tuple(${v.items.map((x) => show(x, depth + 1)).join(', ')})`;
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return `{${Object.entries(v).map(([k, x]) => `${k}: ${x === v ? '<self>' : show(x, depth + 1)}`).join(', ')}}`;
  }
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v); // an object whose prototype a '__proto__' key replaced
  }
}

/** Everything a result holds that must settle: tensors' metadata, promises. */
async function settleResult(v: unknown, what: string, problems: string[]): Promise<void> {
  if (v instanceof Promise) {
    const r = await settle(v, what);
    if (!r.ok) return judge(r.error, what, problems);
    return settleResult(r.value, what, problems);
  }
  if (v instanceof Tensor) {
    const r = await settle(v.ready(), `${what}.ready()`);
    if (!r.ok) judge(r.error, `${what}.ready()`, problems);
    return;
  }
  if (v instanceof PyObject) return v.dispose();
  if (Array.isArray(v)) for (const x of v.slice(0, 8)) await settleResult(x, what, problems);
}

/** A thrown error must be one of the library's typed errors. */
function judge(e: unknown, what: string, problems: string[]): void {
  if (e instanceof Hang) problems.push(`HANG: ${e.message}`);
  else if (!(e instanceof TorchBridgeError)) problems.push(`PLAIN ${(e as Error)?.constructor?.name ?? typeof e}: ${what} threw ${String((e as Error)?.message ?? e).slice(0, 200)}`);
}

describe(`fuzz (seed ${SEED}, ${CALLS} calls)`, () => {
  it('typed errors only, no lost op, no hang, the runtime lives', async () => {
    const rand = mulberry32(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const targets = generatedTargets();
    expect(targets.length).toBeGreaterThan(1000); // every generated function and method
    expect(targets.filter((t) => t.overloads.length === 0)).toEqual([]); // and their signatures
    const functions = targets.filter((t) => t.kind === 'function');
    const methods = targets.filter((t) => t.kind === 'method');
    const info = await torch.init();
    const problems: string[] = [];
    const tally = { calls: 0, threw: 0, typed: 0, mismatches: 0, ranInRuntime: 0 };
    let pool = makePool(rand);
    let base = torch.arange(4);
    let runtimePid = info.pid;

    for (let i = 0; i < CALLS; i++) {
      if (i % 100 === 99) {
        // in-place ops and set_ change the pool's tensors (some beyond what the mirror follows): a fresh one
        for (const t of pool) t.dispose();
        pool = makePool(rand);
      }
      const r = rand();
      const target: Target =
        r < 0.45 ? pick(functions) : r < 0.9 ? pick(methods) : r < 0.95 ? { label: 'torch.call', kind: 'call', name: pick(CALL_NAMES), overloads: [] } : { label: 'torch.callValue', kind: 'callValue', name: pick(VALUE_NAMES), overloads: [] };
      const names = [...new Set(target.overloads.flat().map((p) => p[0]))];
      let args: unknown[];
      let kwargs: Record<string, unknown> | undefined;
      if (target.overloads.length > 0 && rand() < 0.7) ({ args, kwargs } = argsFor(rand, pool, target, names));
      else {
        args = Array.from({ length: Math.floor(rand() * 4) }, () => randomArg(rand, pool, names));
        if (rand() < 0.35) kwargs = { [names.length ? pick(names) : pick(['input', 'dim', 'other', 'type'])]: randomArg(rand, pool, names) };
      }
      const self = target.kind === 'method' ? pick(pool) : undefined;
      const what = `${target.kind === 'call' || target.kind === 'callValue' ? `${target.label}('${target.name}', …)` : target.label}(${[self, ...args].filter((_, j) => j > 0 || self).map((a) => show(a)).join(', ')}${kwargs ? `, ${show(kwargs)}` : ''})`;

      // the sentinels: ops queued around the call, in the same batch, whose values are known
      const k = i % 7;
      const before = base.add(k);
      let result: unknown;
      tally.calls++;
      if (process.env.TORCHBRIDGE_FUZZ_LOG) console.log(`CALL ${i} ${what}`);
      try {
        if (target.kind === 'function') result = target.fn!(...args, ...(kwargs ? [kwargs] : []));
        else if (target.kind === 'method') result = (self as unknown as Record<string, (...a: unknown[]) => unknown>)[target.name]!(...args, ...(kwargs ? [kwargs] : []));
        else if (target.kind === 'call') result = torch.call(target.name, args, kwargs);
        else result = torch.callValue(target.name, args, kwargs);
      } catch (e) {
        tally.threw++;
        if (e instanceof TorchBridgeError) tally.typed++;
        judge(e, what, problems);
      }
      const after = base.mul(k);
      if (result !== undefined) tally.ranInRuntime++;
      await settleResult(result, what, problems);
      // errors of the fuzzed op surface at the next sync point: take them here, typed (a second
      // sync takes a strict-mode verdict that the first one's error held back)
      for (let tries = 0; tries < 2; tries++) {
        const synced = await settle(torch.sync(), `torch.sync() after ${what}`);
        if (synced.ok) break;
        if ((synced.error as Error)?.name === 'MirrorMismatchError' && ++tally.mismatches <= 3) console.log(`mirror mismatch after ${what}: ${(synced.error as Error).message}`);
        judge(synced.error, `torch.sync() after ${what}`, problems);
      }
      const read = await settle(Promise.all([before.tolist(), after.tolist()]), `the sentinels around ${what}`);
      if (!read.ok) problems.push(`LOST: the ops queued around ${what} failed: ${String((read.error as Error)?.message ?? read.error).slice(0, 300)}`);
      else if (JSON.stringify(read.value) !== JSON.stringify([[0, 1, 2, 3].map((x) => x + k), [0, 1, 2, 3].map((x) => x * k)])) problems.push(`WRONG: the ops queued around ${what} read back ${JSON.stringify(read.value)}`);
      before.dispose();
      after.dispose();
      const pong = await settle(torch.runtime.ping() as Promise<{ pid: number }>, `ping after ${what}`);
      if (!pong.ok || pong.value.pid !== runtimePid) {
        problems.push(`DIED: the runtime did not survive ${what}: ${pong.ok ? 'a new pid' : String((pong.error as Error)?.message).slice(0, 300)}`);
        runtimePid = (await torch.init()).pid; // go on with a fresh one, to find more
        pool = makePool(rand);
        base = torch.arange(4);
      }
      if (problems.length >= 30) break;
    }
    // what the run did, for whoever reads the log
    console.log(`fuzz seed ${SEED}: ${tally.calls} calls, ${tally.threw} threw at the call (${tally.typed} typed), ${tally.ranInRuntime} went to the runtime, ${tally.mismatches} strict-mode mirror mismatches reported`);
    expect(problems).toEqual([]);
  }, 600_000);
});
