/**
 * The echo of client.ts over a plain Unix domain socket (node:net) instead of ZeroMQ, talking
 * to bench/echo/socket_echo_server.py: what the transport itself costs per message.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Packr } from 'msgpackr';
import { withTimeout } from '../stats.js';
import { startEchoServer } from './server_process.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export class SocketEcho {
  private waiting: ((b: Buffer) => void) | undefined;
  private pending: Buffer = Buffer.alloc(0);

  private constructor(
    private readonly proc: ChildProcess,
    private readonly sock: Socket,
    private readonly dir: string,
  ) {
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => {
      this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
      while (this.pending.length >= 4) {
        const n = this.pending.readUInt32LE(0);
        if (this.pending.length < 4 + n) break;
        const msg = this.pending.subarray(4, 4 + n);
        this.pending = this.pending.subarray(4 + n);
        const w = this.waiting;
        this.waiting = undefined;
        w?.(msg);
      }
    });
  }

  static async start(python: string): Promise<SocketEcho> {
    const server = await startEchoServer(python, 'socket_echo_server.py', (path) => path);
    const sock = connect(server.path);
    await withTimeout(new Promise((r) => sock.once('connect', r)), 5_000, 'socket echo connect');
    return new SocketEcho(server.proc, sock, server.dir);
  }

  /** One round trip with a message shaped like client.ts's. */
  async roundTrip(i: number): Promise<void> {
    const body = packr.pack([2, i, 12345, 1]);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length, 0);
    const reply = new Promise<Buffer>((r) => (this.waiting = r));
    this.sock.write(Buffer.concat([head, body]));
    packr.unpack(await reply);
  }

  stop(): void {
    this.sock.destroy();
    this.proc.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  }
}
