/**
 * The runtime as a child process, its stdout/stderr forwarded to ours and its exit reported at
 * once. It talks to us over two inherited Unix socket pairs (fds 3 and 4: ops and control; no
 * socket file, so no other process can connect), or with TORCHBRIDGE_TRANSPORT=zmq over
 * ZeroMQ ipc:// sockets in a private 0700 directory that never outlives the client (ipc_dir.ts).
 * Nothing here keeps Node alive: the child and its pipes are unref'd.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { FIX_HINT, resolvePython } from './python.js';
import { runtimeSourceDir } from './paths.js';
import { childTransport, type ChildTransport, type OnFailure, type OnMessage, type Transport } from '../transport/transport.js';
import { SocketChannel } from '../transport/socket_channel.js';
import { ZmqChannel } from '../transport/zmq_channel.js';
import type { ExitInfo, RuntimeLink } from './link.js';
import { makeIpcDir, removeIpcDir } from './ipc_dir.js';

export type { ExitInfo } from './link.js';

const TAIL_LINES = 20;

export class RuntimeProcess implements RuntimeLink {
  readonly transport: ChildTransport;
  readonly python: string;
  private readonly child: ChildProcess;
  /** the zmq transport's socket directory */
  private readonly dir: string | undefined;
  private readonly endpoint: string | undefined;
  private readonly controlEndpoint: string | undefined;
  private readonly tail: string[] = [];
  private partial = '';
  private missing: string | undefined;

  constructor(
    opts: { python?: string; session: string; shmPrefix: string; transport?: ChildTransport },
    private readonly onExit: (info: ExitInfo) => void,
  ) {
    const { python, source } = resolvePython(opts.python);
    this.python = python;
    this.transport = childTransport(opts.transport);
    const args = ['-m', 'torchbridge_runtime'];
    if (this.transport === 'zmq') {
      this.dir = makeIpcDir();
      this.endpoint = `ipc://${join(this.dir, 'ops.sock')}`;
      this.controlEndpoint = `ipc://${join(this.dir, 'control.sock')}`;
      args.push('--endpoint', this.endpoint, '--control', this.controlEndpoint);
    } else {
      args.push('--fds', '3,4'); // stdio 'pipe's are Unix socket pairs (libuv), both ways
    }
    const env = {
      ...process.env,
      PYTHONPATH: [runtimeSourceDir, process.env.PYTHONPATH].filter(Boolean).join(':'),
      PYTHONUNBUFFERED: '1',
    };
    args.push('--session', opts.session, '--shm-prefix', opts.shmPrefix);
    const stdio = this.transport === 'zmq' ? ['pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'];
    this.child = spawn(python, args, { env, stdio: stdio as ('pipe')[] });
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
    // every stream, the socket pairs included, until a channel awaits replies on one
    for (const s of this.child.stdio) unrefStream(s as Readable | null);
    this.child.unref();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  openOps(onMessage: OnMessage, onFailure: OnFailure): Transport {
    return this.open(3, this.endpoint, onMessage, onFailure);
  }

  openControl(onMessage: OnMessage, onFailure: OnFailure): Transport {
    return this.open(4, this.controlEndpoint, onMessage, onFailure);
  }

  private open(fd: number, endpoint: string | undefined, onMessage: OnMessage, onFailure: OnFailure): Transport {
    if (endpoint !== undefined) return new ZmqChannel(endpoint, onMessage, onFailure);
    return new SocketChannel(this.child.stdio[fd] as Socket, onMessage, onFailure);
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
    if (this.dir) removeIpcDir(this.dir);
    this.onExit(info);
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.finished) this.child.kill(signal);
  }
}

function unrefStream(s: Readable | import('node:stream').Writable | null): void {
  (s as unknown as { unref?: () => void } | null)?.unref?.();
}
