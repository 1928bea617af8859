/** Native PyTorch baselines: scripts in bench/python/ run with the runtime's own interpreter. */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'python');

/** Run bench/python/<script> with `args`; it prints one JSON object as its last line. */
export async function runPython<T>(python: string, script: string, args: (string | number)[]): Promise<T> {
  const { stdout } = await run(python, [join(dir, script), ...args.map(String)], { timeout: 60_000 });
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}
