/**
 * pythonia (JSPyBridge) driving the same torch, as the generic bridge users fall back to.
 * Configuration: pythonia spawns `$PYTHON_BIN` (default python3) the moment its module is
 * loaded, so PYTHON_BIN is set to the runtime's interpreter before a dynamic import.
 * Every awaited call is one JSON round trip over a Node IPC pipe; results stay in Python as
 * references (so `x = await x.add(x)` keeps the tensor there).
 */
import { withTimeout } from '../stats.js';

// Minimal typing for what is used here (pythonia's proxies are dynamic).
type PyObj = any; // eslint-disable-line @typescript-eslint/no-explicit-any
interface PythoniaModule {
  python: ((module: string) => Promise<PyObj>) & { exit(): void };
}

/** Timeout for any single step: pythonia's own is 100 s, its only crash detector. */
const STEP_MS = 30_000;

/** pythonia's errors keep everything in .stack (message is empty): its last line is the cause. */
function summary(err: Error): string {
  const text = (err.message || err.stack || String(err)).replace(/\x1b\[[0-9;]*m/g, '');
  const last = text.trim().split('\n').pop() ?? '';
  return last.replace(/^\*\*\* \w+ \*\*\* /, '');
}

export class Pythonia {
  private constructor(
    private readonly mod: PythoniaModule,
    private readonly torch: PyObj,
  ) {}

  static async start(python: string): Promise<Pythonia> {
    process.env.PYTHON_BIN = python;
    const imported = (await import('pythonia')) as unknown as { default?: PythoniaModule } & PythoniaModule;
    const mod = imported.default ?? imported;
    try {
      const torch = await withTimeout(mod.python('torch'), STEP_MS, 'pythonia: import torch');
      return new Pythonia(mod, torch);
    } catch (err) {
      mod.python.exit();
      throw new Error(`pythonia with ${python}: ${summary(err as Error)}`);
    }
  }

  /** `n` dependent x = x.add(x) on zeros(10) plus sum().item(); resolves to elapsed ms. */
  async smallOps(n: number): Promise<number> {
    const run = async (): Promise<number> => {
      const t0 = performance.now();
      let x = await this.torch.zeros(10);
      for (let i = 0; i < n; i++) x = await x.add(x);
      const value = await (await x.sum()).item();
      const ms = performance.now() - t0;
      if (value !== 0) throw new Error(`pythonia: expected 0, got ${value}`);
      return ms;
    };
    return withTimeout(run(), STEP_MS, 'pythonia small ops');
  }

  /** bench/python/pipeline.py, imported through pythonia (for the Python-pipelines case). */
  async pipeline(dir: string): Promise<PyObj> {
    const sys = await withTimeout(this.mod.python('sys'), STEP_MS, 'pythonia: import sys');
    await sys.path.insert(0, dir);
    return withTimeout(this.mod.python('pipeline'), STEP_MS, 'pythonia: import pipeline');
  }

  /** `n` awaited `scaler.scale(i)` calls; resolves to elapsed ms. */
  async methodCalls(pipeline: PyObj, n: number): Promise<number> {
    const run = async (): Promise<number> => {
      const scaler = await pipeline.Scaler(3);
      const t0 = performance.now();
      let last = 0;
      for (let i = 0; i < n; i++) last = await scaler.scale(i);
      const ms = performance.now() - t0;
      if (last !== 3 * (n - 1)) throw new Error(`pythonia: expected ${3 * (n - 1)}, got ${last}`);
      return ms;
    };
    return withTimeout(run(), STEP_MS, 'pythonia method calls');
  }

  /** `for await` over a Python generator of `n` items; resolves to elapsed ms. */
  async generatorItems(pipeline: PyObj, n: number): Promise<number> {
    const run = async (): Promise<number> => {
      const t0 = performance.now();
      let count = 0;
      for await (const _ of await pipeline.items(n)) count++;
      const ms = performance.now() - t0;
      if (count !== n) throw new Error(`pythonia: expected ${n} items, got ${count}`);
      return ms;
    };
    return withTimeout(run(), STEP_MS, 'pythonia generator');
  }

  /** Python calls a JS function `n` times; resolves to elapsed ms. */
  async callbacks(pipeline: PyObj, n: number): Promise<number> {
    const run = async (): Promise<number> => {
      const t0 = performance.now();
      const total = await pipeline.call_back((i: number) => 2 * i, n);
      const ms = performance.now() - t0;
      if (total !== n * (n - 1)) throw new Error(`pythonia: expected ${n * (n - 1)}, got ${total}`);
      return ms;
    };
    return withTimeout(run(), STEP_MS, 'pythonia callbacks');
  }

  stop(): void {
    this.mod.python.exit();
  }
}
