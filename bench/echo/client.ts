/**
 * The raw zeromq + msgpack floor: a Node DEALER (zeromq 6.8, msgpackr without records, as
 * torchbridge configures it) talking to bench/echo/echo_server.py over ipc://.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import * as zmq from 'zeromq';
import { Packr } from 'msgpackr';
import { withTimeout } from '../stats.js';
import { startEchoServer } from './server_process.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });
/** Shaped like torchbridge's item request: [op, reply id, handle, what]. */
const message = (i: number): unknown[] => [2, i, 12345, 1];

export class Echo {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly sock: zmq.Dealer,
    private readonly dir: string,
  ) {}

  static async start(python: string): Promise<Echo> {
    const server = await startEchoServer(python, 'echo_server.py', (path) => `ipc://${path}`);
    const sock = new zmq.Dealer({ linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0 });
    sock.connect(`ipc://${server.path}`);
    return new Echo(server.proc, sock, server.dir);
  }

  /** `n` sequential round trips (send, await the reply, decode); resolves to elapsed ms. */
  async roundTrips(n: number): Promise<number> {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await this.roundTrip(i);
    return performance.now() - t0;
  }

  async roundTrip(i: number): Promise<void> {
    await this.sock.send(packr.pack(message(i)));
    const [reply] = await this.sock.receive();
    packr.unpack(reply!);
  }

  /** `n` messages sent back to back, one per op, with a reader collecting the replies. */
  async pipelined(n: number): Promise<number> {
    const t0 = performance.now();
    const reader = (async () => {
      for (let i = 0; i < n; i++) packr.unpack((await this.sock.receive())[0]!);
    })();
    for (let i = 0; i < n; i++) await this.sock.send(packr.pack(message(i)));
    await reader;
    return performance.now() - t0;
  }

  async stop(): Promise<void> {
    this.sock.close();
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await withTimeout(exited, 5_000, 'echo server stop').catch(() => this.proc.kill('SIGKILL'));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
