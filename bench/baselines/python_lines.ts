/**
 * A plain Python process (a script in bench/python/) that answers one JSON line per request
 * line, so a case can interleave its repetitions with the Python baseline's in one run.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'python');

export class PythonLines {
  private readonly lines: AsyncIterator<string>;
  private stderr = '';

  private constructor(
    private readonly proc: ChildProcessWithoutNullStreams,
    private readonly rl: Interface,
  ) {
    this.lines = rl[Symbol.asyncIterator]();
    proc.stderr.on('data', (b: Buffer) => (this.stderr = (this.stderr + b.toString()).slice(-2000)));
  }

  /** Start bench/python/<script> with `args`; resolves with its first line (its settings). */
  static async start<T>(python: string, script: string, args: (string | number)[]): Promise<{ proc: PythonLines; hello: T }> {
    const proc = spawn(python, [join(dir, script), ...args.map(String)], { stdio: 'pipe' });
    const lines = new PythonLines(proc, createInterface({ input: proc.stdout }));
    return { proc: lines, hello: await lines.next<T>() };
  }

  /** Send one request line and read the JSON answer. */
  async ask<T>(request: string): Promise<T> {
    this.proc.stdin.write(request + '\n');
    return this.next<T>();
  }

  private async next<T>(): Promise<T> {
    const { value, done } = await this.lines.next();
    if (done) throw new Error(`the Python baseline exited: ${this.stderr.trim().split('\n').pop() ?? ''}`);
    return JSON.parse(value) as T;
  }

  stop(): void {
    this.rl.close();
    this.proc.stdin.end();
    this.proc.kill();
  }
}
