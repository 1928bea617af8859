/**
 * The ZeroMQ floor for a served runtime: a zeromq.js DEALER with CURVE (fresh keys) to
 * bench/echo/zmq_tcp_echo_server.py on tcp://127.0.0.1, msgpack as torchbridge configures it:
 * what the served runtime's transport costs by itself, per round trip and per bulk message.
 */
import type { ChildProcess } from 'node:child_process';
import * as zmq from 'zeromq';
import { Packr } from 'msgpackr';
import { withTimeout } from '../stats.js';
import { startTcpEchoServer } from './server_process.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export class ZmqTcpEcho {
  private constructor(
    private readonly proc: ChildProcess,
    private readonly sock: zmq.Dealer,
  ) {}

  static async start(python: string): Promise<ZmqTcpEcho> {
    const server = zmq.curveKeyPair();
    const client = zmq.curveKeyPair();
    const { proc, port } = await startTcpEchoServer(python, 'zmq_tcp_echo_server.py', [server.publicKey, server.secretKey]);
    const sock = new zmq.Dealer({
      linger: 0,
      sendHighWaterMark: 0,
      receiveHighWaterMark: 0,
      curveServerKey: server.publicKey,
      curvePublicKey: client.publicKey,
      curveSecretKey: client.secretKey,
    });
    sock.connect(`tcp://127.0.0.1:${port}`);
    const echo = new ZmqTcpEcho(proc, sock);
    await withTimeout(echo.roundTrip(0), 5_000, 'zmq tcp echo handshake');
    return echo;
  }

  private async request(value: unknown): Promise<unknown> {
    await this.sock.send(packr.pack(value));
    const [reply] = await this.sock.receive();
    return packr.unpack(reply!);
  }

  async roundTrip(i: number): Promise<void> {
    await this.request([2, i, 12345, 1]);
  }

  async put(bytes: Uint8Array): Promise<void> {
    const r = (await this.request(['put', bytes])) as [string, number];
    if (r[1] !== bytes.byteLength) throw new Error(`zmq tcp echo put: the server got ${r[1]} bytes`);
  }

  async get(n: number): Promise<Uint8Array> {
    const r = (await this.request(['get', n])) as Uint8Array;
    if (r.byteLength !== n) throw new Error(`zmq tcp echo get: ${r.byteLength} bytes came`);
    return r;
  }

  stop(): void {
    this.sock.close();
    this.proc.kill('SIGTERM');
  }
}
