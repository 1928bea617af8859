/**
 * Starts one of the echo servers in this folder: a Python script that takes a socket path,
 * prints "ready" once listening, and exits when its stdin closes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { withTimeout } from '../stats.js';

export interface EchoServer {
  proc: ChildProcess;
  /** a private temp dir holding the socket; removed by stop() */
  dir: string;
  /** the socket's path inside dir */
  path: string;
}

/** Run `script` (e.g. 'echo_server.py') with `python`; `address(path)` is its argument. */
export async function startEchoServer(python: string, script: string, address: (path: string) => string): Promise<EchoServer> {
  const dir = mkdtempSync(join(tmpdir(), 'tb-echo-'));
  const path = join(dir, 'echo.sock');
  const proc = spawn(python, [join(dirname(fileURLToPath(import.meta.url)), script), address(path)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const ready = new Promise<void>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready`)));
    createInterface({ input: proc.stdout! }).once('line', (l) => (l.trim() === 'ready' ? resolve() : reject(new Error(`${script} said: ${l}`))));
  });
  try {
    await withTimeout(ready, 15_000, `${script} start`);
  } catch (err) {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { proc, dir, path };
}

/** Run `script` (a TCP echo server: prints "ready PORT") with `python`; resolves to its port. */
export async function startTcpEchoServer(python: string, script: string, args: string[] = []): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(python, [join(dirname(fileURLToPath(import.meta.url)), script), ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const ready = new Promise<number>((resolve, reject) => {
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready`)));
    createInterface({ input: proc.stdout! }).once('line', (l) => {
      const m = /^ready (\d+)$/.exec(l.trim());
      if (m) resolve(Number(m[1]));
      else reject(new Error(`${script} said: ${l}`));
    });
  });
  try {
    return { proc, port: await withTimeout(ready, 15_000, `${script} start`) };
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
}
