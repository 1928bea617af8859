/**
 * torchbridge-stubs: the bin writes `.d.ts` stubs for test/fixtures/pipeline/mypipeline/typed_api.py;
 * tsc accepts a program that calls the module through them without a cast and rejects one that
 * calls it wrongly; and the accepted program, run, gives what Python gives for the same calls,
 * with JS values of the kinds the stubs declare (so the types are true, not just accepted).
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { python } from './fixtures/python_twin.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(ROOT, 'bin', 'torchbridge-stubs.mjs');
const PIPELINE = join(ROOT, 'test', 'fixtures', 'pipeline');
const MODULE = 'mypipeline.typed_api';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((ok) => {
    execFile(file, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      ok({ code, stdout, stderr });
    });
  });
}

/** The typed program: every call checks, without a cast; run, it prints what it got. */
const GOOD = `
import torch, { Tensor } from 'torchbridge';
import type { FeatureSpec, Scaler } from './typings/${MODULE}.js';

const kind = (v: unknown): string => (v instanceof Tensor ? 'Tensor' : v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const api = torch.py.import('${MODULE}');
const x = torch.tensor([[1, 2], [3, 4.5]]);
const scaled: Tensor = await api.scale(x, 3);
const halved: Tensor = await api.scale(x, { k: 0.5 });
const norm: Tensor = await api.normalize(x, { method: 'minmax' });
const [total, std]: [number, number] = await api.summarize(x, 'sum');
const hist: Record<string, number> = await api.histogram([1, 2, 3, 5], { bins: 3 });
const found: number | null = await api.find(['a', 'b'], 'b');
const missing = await api.find(['a'], 'z');
const desc: string = await api.describe(7);
const spec = api.FeatureSpec('age', { width: 2, tags: ['num'] });
const specDesc: string = await spec.describe();
spec.width = 3;
const width: number = await spec.width;
const settled: FeatureSpec = await spec;
const tags: string[] = await settled.tags;
const again: FeatureSpec = await settled.$value();
const scaler = api.Scaler(2, { offset: 1 });
const y: Tensor = await scaler(x);
const inv: Tensor = await scaler.fit(x).inverse(y);
scaler.slope = 4;
const slope: number = await scaler.slope;
const calls: number = await scaler.calls;
const classKind: string = await api.Scaler.kind;
const ident: Scaler = await api.Scaler.identity();
const identK: number = await ident.k;
const fromSpec = api.Scaler.from_spec(spec, { k: 2 });
const offset: number = await fromSpec.offset;
const specOf: string = await fromSpec.spec('h', ['t']).describe();
const times: number = await api.make_scaler(2.5)(4);
const weighted: number = await api.weighted_sum(x, x, { bias: 1 });
const eps: number = await api.DEFAULT_EPS;
const batchSize: number = await api.BATCH_SIZE;
const merged = await api.legacy_merge(1, 2, 3, { z: 4 });

// typed, not run here: for-await over proxies and TS callbacks are other parts of issue 12
export async function notRun(): Promise<number[][]> {
  const out: number[][] = [];
  for await (const b of api.batches(5, { batch_size: 2 })) out.push(b);
  for await (const n of api.count_up(3)) out.push([Number(n)]);
  const doubled: number[] = await api.apply((v) => v * 2, [1, 2]);
  const viaPython: number[] = await api.apply(api.make_scaler(3), doubled);
  out.push(viaPython);
  return out;
}

const values = {
  scaled: await scaled.tolist(), halved: await halved.tolist(), norm: await norm.tolist(), total, std, hist, found, missing, desc,
  specDesc, width, tags, y: await y.tolist(), inv: await inv.tolist(), slope, calls, classKind, identK, offset, specOf, times,
  weighted, eps, batchSize, merged,
};
const kinds = {
  scaled: kind(scaled), norm: kind(norm), hist: kind(hist), found: kind(found), missing: kind(missing), tags: kind(tags),
  specThen: typeof Reflect.get(spec, 'then'), settledThen: typeof Reflect.get(settled, 'then'), brand: typeof Reflect.get(settled, '$classes'),
  again: kind(again), ident: kind(ident),
};
console.log(JSON.stringify({ values, kinds }));
await torch.shutdown();
`;

/** What Python gives for the same calls. */
const TWIN = `
import inspect, sys
sys.path.insert(0, ${JSON.stringify(PIPELINE)})
from mypipeline import typed_api as api
x = torch.tensor([[1, 2], [3, 4.5]])
spec = api.FeatureSpec('age', width=2, tags=['num'])
spec_desc = spec.describe()
spec.width = 3
scaler = api.Scaler(2, offset=1)
y = scaler(x)
inv = scaler.fit(x).inverse(y)
scaler.slope = 4
from_spec = api.Scaler.from_spec(spec, k=2)
total, std = api.summarize(x, 'sum')
values = dict(
    scaled=api.scale(x, 3).tolist(), halved=api.scale(x, k=0.5).tolist(), norm=api.normalize(x, method='minmax').tolist(),
    total=total, std=std, hist=api.histogram([1, 2, 3, 5], bins=3), found=api.find(['a', 'b'], 'b'), missing=api.find(['a'], 'z'),
    desc=api.describe(7), specDesc=spec_desc, width=spec.width, tags=spec.tags, y=y.tolist(), inv=inv.tolist(), slope=scaler.slope,
    calls=scaler.calls, classKind=api.Scaler.kind, identK=api.Scaler.identity().k, offset=from_spec.offset,
    specOf=from_spec.spec('h', ['t']).describe(), times=api.make_scaler(2.5)(4), weighted=api.weighted_sum(x, x, bias=1),
    eps=api.DEFAULT_EPS, batchSize=api.BATCH_SIZE, merged=api.legacy_merge(1, 2, 3, z=4),
)
sigs = {name: str(inspect.signature(getattr(api, name))) for name in ['scale', 'normalize', 'summarize', 'weighted_sum', 'legacy_merge', 'Scaler', 'FeatureSpec']}
functions = sorted(n for n, f in inspect.getmembers(api, inspect.isfunction) if f.__module__ == api.__name__ and not n.startswith('_'))
print(json.dumps(dict(values=values, sigs=sigs, functions=functions, doc=inspect.getdoc(api.scale))))
`;

/** Wrong calls, each marked with the error tsc must report on its line. */
const BAD = `
import torch from 'torchbridge';
const api = torch.py.import('${MODULE}');
const x = torch.tensor([1, 2]);
api.scale('x'); // TS2345: a string for a Tensor
api.scale(x, { kk: 2 }); // TS2769: a keyword scale() does not have
api.normalize(x, { method: 'l2' }); // TS2322: not one of the Literal's values
api.no_such_function(x); // TS2339: the module has no such function
const s: string = await api.find(['a'], 'a'); // TS2322: find() gives int | None
api.summarize(x, 'median'); // TS2769: Literal['mean', 'sum'] given positionally
api.Scaler(2).spec(3); // TS2345: a method's str parameter
api.Scaler.from_spec(api.Scaler()); // TS2345: a Scaler where a FeatureSpec goes
const spec = api.FeatureSpec('a');
spec.width = 'wide'; // TS2322: a dataclass field set to the wrong type
api.Scaler().calls = 3; // TS2540: a property without a setter
new api.Scaler(); // TS7009: Python classes are called, not constructed
api.FeatureSpec(); // TS2554: the required field missing
api.weighted_sum(x, x, { bias: 'b' }); // TS2322: **extra: float
api.scale(x, 2, 3); // TS2554: too many arguments
api.apply((v: string) => v, [1]); // TS2345: a callback of the wrong type
`;

let dir: string;
let dts: string;
let twin: { values: Record<string, unknown>; sigs: Record<string, string>; functions: string[]; doc: string };
let tsc: Promise<Run>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tb-stubs-'));
  // the user's package found through TORCHBRIDGE_PYTHONPATH (the --pythonPath flag is tested below)
  const gen = await run(process.execPath, [BIN, MODULE, '--out', join(dir, 'typings')], { env: { ...process.env, TORCHBRIDGE_PYTHONPATH: PIPELINE } });
  expect(gen.stderr).toBe('');
  expect(gen.code).toBe(0);
  dts = readFileSync(join(dir, 'typings', `${MODULE}.d.ts`), 'utf8');
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  // as a user's project would have it; `torchbridge` is this checkout's source
  const compilerOptions = {
    target: 'ES2022',
    lib: ['ES2022', 'ESNext.Disposable'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noUncheckedIndexedAccess: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules', '@types')],
    paths: { torchbridge: [join(ROOT, 'src', 'index.ts')] },
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['*.ts', 'typings/*.d.ts'] }, null, 1));
  writeFileSync(join(dir, 'good.ts'), GOOD);
  writeFileSync(join(dir, 'bad.ts'), BAD);
  // one tsc run checks both files (a run costs ~30 s); it goes on while the other tests run
  tsc = run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: dir });
  twin = python(TWIN);
}, 120_000);

afterAll(async () => {
  await tsc?.catch(() => undefined);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('torchbridge-stubs: generating', () => {
  it('declares each public function with its hints mapped, positional and keyword forms, and its docstring', () => {
    for (const name of twin.functions) expect(dts, name).toMatch(new RegExp(`^  ${name}\\(`, 'm'));
    const lines = [
      'scale(x: PyArg<Tensor>, kwargs?: { k?: PyArg<number> }): PyResult<Tensor>;',
      'scale(x: PyArg<Tensor>, k: PyArg<number>): PyResult<Tensor>;',
      'normalize(x: PyArg<Tensor> | PyTypedArray, kwargs?: { eps?: PyArg<number>; method?: PyArg<"minmax" | "zscore"> }): PyResult<Tensor>;',
      'summarize(x: PyArg<Tensor>, reduction: PyArg<"mean" | "sum">): PyResult<[number, number]>;',
      'histogram(values: PyArg<number[]>, bins: PyArg<number>): PyResult<Record<string, number>>;',
      'find(names: PyArg<string[]>, target: PyArg<string>): PyResult<number | null>;',
      'describe(value: PyArg<number | string>): PyResult<string>;',
      'apply(fn: PyCallback<[number], number>, values: PyArg<number[]>): PyResult<number[]>;',
      'make_scaler(k: PyArg<number>): PyResult<PyCallable<[number], number>>;',
      'weighted_sum(x: PyArg<Tensor>, weights: PyArg<Tensor | null>, kwargs?: { [keyword: string]: PyArg<number> }): PyResult<number>;',
      'batches(n: PyArg<number>, kwargs?: { batch_size?: PyArg<number> }): PyResult<PyIterator<number[]>>;',
      // unannotated: unknown parameters, an untyped proxy as the result; a generator is still iterable
      'count_up(limit: unknown): PyResult<PyIterator<unknown>>;',
      'legacy_merge(a: unknown, b: unknown, ...rest: [...unknown[], { [keyword: string]: unknown }]): PyProxy;',
      'readonly DEFAULT_EPS: PyResult<number>;',
      'readonly Scaler: Scaler.Class;',
      '"mypipeline.typed_api": PyModule<Module>;',
    ];
    for (const line of lines) expect(dts).toContain(`  ${line}`);
    // TSDoc: Python's docstring, then its signature as inspect.signature prints it
    const doc = twin.doc.split('\n').map((l) => `   * ${l}`.trimEnd());
    expect(dts).toContain(['  /**', ...doc, '   *', `   * Python: \`scale${twin.sigs.scale}\``, '   */', '  scale('].join('\n'));
    for (const name of ['normalize', 'summarize', 'weighted_sum', 'legacy_merge']) expect(dts).toContain(`Python: \`${name}${twin.sigs[name]}\``);
    expect(dts).not.toMatch(/_CACHE|Reduction/); // private names and type aliases are not API
  });

  it('declares a dataclass and a class as interfaces: fields and properties, methods, static and class methods, call', () => {
    const block = (start: string): string => dts.slice(dts.indexOf(start), dts.indexOf('\n}\n', dts.indexOf(start)));
    const spec = block('export interface FeatureSpec extends PyInstance {');
    for (const line of ['get name(): PyResult<string>;', 'set name(value: PyArg<string>);', 'get tags(): PyResult<string[]>;', 'describe(): PyResult<string>;']) expect(spec).toContain(line);
    const scaler = block('export interface Scaler extends PyInstance {');
    for (const line of [
      'readonly $classes?: { "mypipeline.typed_api.Scaler": true };',
      'readonly kind: PyResult<string>;', // ClassVar
      'readonly calls: PyResult<number>;', // a property without a setter
      'get slope(): PyResult<number>;',
      'set slope(value: PyArg<number>);',
      '(x: PyArg<Tensor>): PyResult<Tensor>;', // __call__
      'fit(x: PyArg<Tensor>): PyResult<Scaler>;', // a forward reference, resolved
      'spec(name: PyArg<string>, tags: PyArg<string[] | null>): PyResult<FeatureSpec>;',
      'identity(): PyResult<Scaler>;',
      'from_spec(spec: PyArg<FeatureSpec>, kwargs?: { k?: PyArg<number> }): PyResult<Scaler>;', // cls dropped
      'get k(): PyResult<number>;', // self.k = k in __init__, typed by k's hint
      'get label(): PyResult<string>;', // self.label: str = ...
    ])
      expect(scaler).toContain(line);
    expect(scaler).not.toContain('_calls');
    const klass = block('export declare namespace Scaler {');
    expect(klass).toContain('(k: PyArg<number>, kwargs?: { offset?: PyArg<number> }): PyResult<Scaler>;');
    expect(klass).toContain(`Python: \`Scaler${twin.sigs.Scaler}\``);
    expect(klass).toContain('identity(): PyResult<Scaler>;');
    expect(block('export declare namespace FeatureSpec {')).toContain(`Python: \`FeatureSpec${twin.sigs.FeatureSpec}\``);
  });

  it('finds the package through --pythonPath relative to the cwd, and says why a module cannot be stubbed', async () => {
    const out = join(dir, 'again');
    const ok = await run(process.execPath, [BIN, MODULE, '--pythonPath', 'test/fixtures/pipeline', `--out=${out}`], { cwd: ROOT });
    expect(ok.code).toBe(0);
    expect(readFileSync(join(out, `${MODULE}.d.ts`), 'utf8')).toBe(dts);
    const missing = await run(process.execPath, [BIN, 'mypipeline.no_such_module', '--out', out], { cwd: ROOT });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("torchbridge-stubs: cannot import mypipeline.no_such_module: ModuleNotFoundError: No module named 'mypipeline'");
    const none = await run(process.execPath, [BIN, '--out', out]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('name at least one module');
    const noPython = await run(process.execPath, [BIN, MODULE, '--python', join(dir, 'no-python')]);
    expect(noPython.code).toBe(1);
    expect(noPython.stderr).toContain(`cannot run ${join(dir, 'no-python')}`);
  });

  it('ships the bin with the package', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string>; files: string[] };
    expect(pkg.bin['torchbridge-stubs']).toBe('bin/torchbridge-stubs.mjs');
    expect(pkg.files).toEqual(expect.arrayContaining(['bin', 'python']));
    expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});

describe('torchbridge-stubs: checking', () => {
  it('tsc accepts the typed program and rejects each wrong call with the error it has', async () => {
    const { code, stdout } = await tsc;
    const errors = [...stdout.matchAll(/^(\S+\.ts)\((\d+),\d+\): error (TS\d+)/gm)].map(([, file, line, err]) => `${file}:${line}:${err}`);
    const expected = BAD.split('\n')
      .map((l, i) => [l.match(/\/\/ (TS\d+):/)?.[1], i + 1] as const)
      .filter(([err]) => err)
      .map(([err, line]) => `bad.ts:${line}:${err}`);
    expect(errors.filter((e) => !e.startsWith('bad.ts:')), stdout).toEqual([]);
    expect(errors.sort()).toEqual(expected.sort());
    expect(code).toBe(2);
  }, 180_000);

  it('the typed program runs, gives what Python gives, and its values are of the kinds the stubs declare', async () => {
    const env = { ...process.env, PYTHONPATH: [PIPELINE, process.env.PYTHONPATH].filter(Boolean).join(':'), TORCHBRIDGE_PYTHONPATH: PIPELINE };
    const tsx = join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');
    const out = execFileSync(process.execPath, ['--import', tsx, join(dir, 'good.ts')], { cwd: dir, env, encoding: 'utf8' });
    const got = JSON.parse(out.trimEnd().split('\n').pop()!) as { values: Record<string, unknown>; kinds: Record<string, string> };
    expect(got.values).toEqual(twin.values);
    expect(got.kinds).toEqual({
      scaled: 'Tensor',
      norm: 'Tensor',
      hist: 'object',
      found: 'number',
      missing: 'null',
      tags: 'array',
      specThen: 'function', // a queued result is awaitable (PyResult)
      settledThen: 'undefined', // an awaited instance is not (PyInstance), and awaits to itself
      brand: 'undefined', // $classes is a type-only mark
      again: 'function', // $value() of a settled proxy: a settled proxy again
      ident: 'function', // a proxy (callable target)
    });
  }, 120_000);
});
