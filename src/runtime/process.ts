/**
 * The runtime as a child process: spawned with a private 0700 directory for its ipc
 * sockets, its stdout/stderr forwarded to ours, and its exit reported at once.
 * Nothing here keeps Node alive: the child, its pipes and the directory are all unref'd.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FIX_HINT, resolvePython } from './python.js';
import { runtimeSourceDir } from './paths.js';

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** Last lines the runtime wrote to stderr. */
  stderrTail: string;
  /** Set when the exit means "this Python cannot run the runtime", with the fix. */
  startProblem?: string;
}

const TAIL_LINES = 20;

export class RuntimeProcess {
  readonly endpoint: string;
  readonly controlEndpoint: string;
  readonly python: string;
  private readonly child: ChildProcess;
  private readonly dir: string;
  private readonly tail: string[] = [];
  private partial = '';
  private missing: string | undefined;

  constructor(
    opts: { python?: string; session: string; shmPrefix: string },
    private readonly onExit: (info: ExitInfo) => void,
  ) {
    const { python, source } = resolvePython(opts.python);
    this.python = python;
    this.dir = mkdtempSync(join(tmpdir(), 'torchbridge-')); // mkdtemp makes it 0700
    this.endpoint = `ipc://${join(this.dir, 'ops.sock')}`;
    this.controlEndpoint = `ipc://${join(this.dir, 'control.sock')}`;
    const env = {
      ...process.env,
      PYTHONPATH: [runtimeSourceDir, process.env.PYTHONPATH].filter(Boolean).join(':'),
      PYTHONUNBUFFERED: '1',
    };
    const args = ['-m', 'torchbridge_runtime', '--endpoint', this.endpoint, '--control', this.controlEndpoint];
    args.push('--session', opts.session, '--shm-prefix', opts.shmPrefix);
    this.child = spawn(python, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.on('error', (err) => {
      this.finish({
        code: null,
        signal: null,
        stderrTail: '',
        startProblem: `Cannot start the runtime with ${python} (from ${source}): ${err.message}. ${FIX_HINT}`,
      });
    });
    this.child.on('exit', (code, signal) => {
      this.flushPartial();
      const info: ExitInfo = { code, signal, stderrTail: this.tail.join('\n') };
      if (this.missing) {
        info.startProblem = `${python} (from ${source}) cannot run the torchbridge runtime: missing ${this.missing}. ${FIX_HINT}`;
      }
      this.finish(info);
    });
    this.child.stdout!.on('data', (chunk: Buffer) => process.stdout.write(chunk));
    this.child.stderr!.on('data', (chunk: Buffer) => this.onStderr(chunk));
    this.child.stdin!.on('error', () => {}); // EPIPE once the runtime is gone: exit handles it
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) unrefStream(s);
    this.child.unref();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private onStderr(chunk: Buffer): void {
    const text = this.partial + chunk.toString('utf8');
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    const shown: string[] = [];
    for (const line of lines) {
      if (line.startsWith('TORCHBRIDGE_MISSING ')) {
        const parsed = JSON.parse(line.slice('TORCHBRIDGE_MISSING '.length)) as { missing: string[] };
        this.missing = parsed.missing.join(', ');
        continue;
      }
      this.remember(line);
      shown.push(line);
    }
    if (shown.length) process.stderr.write(shown.join('\n') + '\n');
  }

  private flushPartial(): void {
    if (this.partial) {
      this.remember(this.partial);
      process.stderr.write(this.partial + '\n');
      this.partial = '';
    }
  }

  private remember(line: string): void {
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) this.tail.shift();
  }

  private finished = false;
  private finish(info: ExitInfo): void {
    if (this.finished) return;
    this.finished = true;
    rmSync(this.dir, { recursive: true, force: true });
    this.onExit(info);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.finished) this.child.kill(signal);
  }
}

function unrefStream(s: Readable | import('node:stream').Writable | null): void {
  (s as unknown as { unref?: () => void } | null)?.unref?.();
}
