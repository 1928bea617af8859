/**
 * `torchbridge-runtime serve` for the benchmarks, started through its CLI as a user would (the
 * console script beside the runtime's interpreter, else `python -m torchbridge_runtime`), always
 * running this checkout's runtime code. Stopped with SIGTERM (it removes its connection file).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './stats.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export class ServedRuntime {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly dir: string,
    /** its connection file, for torch.init({ connect }) */
    readonly file: string,
  ) {}

  /** Serve on loopback tcp:// (CURVE unless `extra` says --no-curve); resolves once it listens. */
  static async start(python: string, extra: string[] = []): Promise<ServedRuntime> {
    const dir = mkdtempSync(join(tmpdir(), 'tb-bench-serve-'));
    const script = join(dirname(python), 'torchbridge-runtime');
    const [cmd, pre] = existsSync(script) ? [script, []] : [python, ['-m', 'torchbridge_runtime']];
    const args = [...pre, 'serve', '--bind', 'tcp://127.0.0.1:0', '--connection-file', join(dir, 'runtime.json'), ...extra];
    // stderr logs every session start and end: kept (its tail) for a failure's message only
    const proc = spawn(cmd, args, { env: { ...process.env, PYTHONPATH: join(root, 'python') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    let out = '';
    const file = new Promise<string>((resolve, reject) => {
      proc.once('error', reject);
      proc.once('exit', (code) => reject(new Error(`torchbridge-runtime serve exited (${code}) before it listened: ${err}`)));
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /connection file (\S+)\n/.exec(out);
        if (m) resolve(m[1]!);
      });
    });
    try {
      return new ServedRuntime(proc, dir, await withTimeout(file, 30_000, 'torchbridge-runtime serve start'));
    } catch (err) {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await withTimeout(exited, 5_000, 'serve stop').catch(() => this.proc.kill('SIGKILL'));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
