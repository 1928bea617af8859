/**
 * The examples against their Python twins: each TS example (examples/*.ts, importing
 * 'torchbridge', i.e. dist/) and the same program in Python run as subprocesses in JSON mode
 * (TORCHBRIDGE_EXAMPLE_JSON=1) and must agree on every step's loss and on the result. They draw
 * the same random numbers in the same order, so any difference is a bug: in the example, or in
 * what the library hands torch (DataLoader order, dtypes, arguments). Strict mode
 * (TORCHBRIDGE_STRICT, set by vitest.config.ts) is inherited: the mirror is checked on the way.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageRoot, setupVenvPython } from '../src/runtime/paths.js';

const run = promisify(execFile);
const PYTHON = process.env.TORCHBRIDGE_PYTHON ?? setupVenvPython;
const REL_TOL = 1e-6;

interface Result {
  losses: number[];
  accuracy?: number;
  coefficients?: number[];
}

/** Runs one program with the given env additions; returns its stdout. */
async function stdoutOf(cmd: string, args: string[], env: Record<string, string>): Promise<string> {
  const { stdout } = await run(cmd, args, { cwd: packageRoot, env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  return stdout;
}

/** The last stdout line of the example in JSON mode, parsed. */
async function jsonRun(cmd: string, args: string[]): Promise<Result> {
  const out = await stdoutOf(cmd, args, { TORCHBRIDGE_EXAMPLE_JSON: '1' });
  return JSON.parse(out.trimEnd().split('\n').pop() ?? '') as Result;
}

const ts = (name: string) => jsonRun(process.execPath, ['--import', 'tsx', `examples/${name}.ts`]);
const py = (name: string) => jsonRun(PYTHON, [`examples/${name}.py`]);

/** The largest relative difference between two equally long lists. */
function maxRelDiff(a: number[], b: number[]): number {
  let worst = 0;
  a.forEach((x, i) => {
    const y = b[i]!;
    const scale = Math.max(Math.abs(x), Math.abs(y));
    if (scale > 0) worst = Math.max(worst, Math.abs(x - y) / scale);
  });
  return worst;
}

function expectSameLosses(t: Result, p: Result): void {
  expect(t.losses.length).toBe(p.losses.length);
  expect(t.losses.every(Number.isFinite)).toBe(true);
  expect(maxRelDiff(t.losses, p.losses)).toBeLessThanOrEqual(REL_TOL);
}

/** Newest modification time under dir (what setup.mjs compares dist/ with). */
function newest(dir: string): number {
  let m = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    m = Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return m;
}

// The examples import 'torchbridge', which resolves to dist/: compile it when src/ is newer,
// as `npm test` (scripts/setup.mjs) would, so the examples run the code under test.
beforeAll(async () => {
  const dist = join(packageRoot, 'dist', 'index.js');
  if (!existsSync(dist) || statSync(dist).mtimeMs < newest(join(packageRoot, 'src'))) {
    await run(process.execPath, [join(packageRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: packageRoot });
  }
}, 180_000);

describe('examples match their Python twins step by step', () => {
  it('digits: DigitsNet on sklearn digits, every step loss and the test accuracy', async () => {
    const p = await py('digits');
    const t = await ts('digits');
    expect(p.losses.length).toBe(15 * 45); // 15 epochs of ceil(1437 / 32) batches
    expectSameLosses(t, p);
    expect(t.accuracy).toBe(p.accuracy);
    expect(t.accuracy).toBeGreaterThanOrEqual(0.97);
  }, 240_000);

  it('polynomial: nn.Sequential + RMSprop fit of sin(x), every step loss and the coefficients', async () => {
    const p = await py('polynomial');
    const t = await ts('polynomial');
    expect(p.losses.length).toBe(2000);
    expectSameLosses(t, p);
    expect(maxRelDiff(t.coefficients!, p.coefficients!)).toBeLessThanOrEqual(REL_TOL);
    // the fit is a real one: far below the first step's loss
    expect(t.losses[1999]!).toBeLessThan(t.losses[0]! / 10);
  }, 120_000);
});

describe('progress without a terminal', () => {
  it('polynomial.ts piped: no bar redraws, just the summary and the same result line as Python', async () => {
    const out = await stdoutOf(process.execPath, ['--import', 'tsx', 'examples/polynomial.ts'], { TORCHBRIDGE_EXAMPLE_JSON: '0' });
    expect(out).not.toMatch(/[\r\u001b]/);
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^2000 steps, final loss \d+\.\d{4}$/);
    const pyOut = await stdoutOf(PYTHON, ['examples/polynomial.py'], { TORCHBRIDGE_EXAMPLE_JSON: '0' });
    expect(lines[1]).toBe(pyOut.trimEnd().split('\n').pop());
  }, 120_000);
});
