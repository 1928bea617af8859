/**
 * The raw TCP floor for a served runtime: node:net to bench/echo/tcp_echo_server.py on
 * 127.0.0.1, length-prefixed msgpack (msgpackr configured as torchbridge configures it), no
 * ZeroMQ and no encryption. Round trips shaped like torchbridge's item request, and bulk
 * transfers each as one message (the floor that chunked transfers are compared with).
 */
import type { ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { Packr } from 'msgpackr';
import { withTimeout } from '../stats.js';
import { startTcpEchoServer } from './server_process.js';

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

export class TcpEcho {
  private waiting: ((b: Buffer) => void) | undefined;
  /** the frame being read: its length header, then its body filled in place */
  private head = Buffer.alloc(4);
  private headGot = 0;
  private body: Buffer | undefined;
  private bodyGot = 0;

  private constructor(
    private readonly proc: ChildProcess,
    private readonly sock: Socket,
  ) {
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  static async start(python: string): Promise<TcpEcho> {
    const { proc, port } = await startTcpEchoServer(python, 'tcp_echo_server.py');
    const sock = connect(port, '127.0.0.1');
    await withTimeout(new Promise((r) => sock.once('connect', r)), 5_000, 'tcp echo connect');
    return new TcpEcho(proc, sock);
  }

  private onData(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.body === undefined) {
        const n = Math.min(4 - this.headGot, chunk.length - at);
        chunk.copy(this.head, this.headGot, at, at + n);
        this.headGot += n;
        at += n;
        if (this.headGot === 4) {
          this.body = Buffer.allocUnsafe(this.head.readUInt32LE(0));
          this.bodyGot = 0;
        }
      }
      if (this.body !== undefined) {
        const n = Math.min(this.body.length - this.bodyGot, chunk.length - at);
        chunk.copy(this.body, this.bodyGot, at, at + n);
        this.bodyGot += n;
        at += n;
        if (this.bodyGot === this.body.length) {
          const msg = this.body;
          this.body = undefined;
          this.headGot = 0;
          const w = this.waiting;
          this.waiting = undefined;
          w?.(msg);
        }
      }
    }
  }

  private async request(value: unknown): Promise<unknown> {
    const body = packr.pack(value);
    const head = Buffer.alloc(4);
    head.writeUInt32LE(body.length, 0);
    const reply = new Promise<Buffer>((r) => (this.waiting = r));
    this.sock.write(head);
    this.sock.write(body);
    return packr.unpack(await reply);
  }

  /** One round trip with a message shaped like torchbridge's item request. */
  async roundTrip(i: number): Promise<void> {
    await this.request([2, i, 12345, 1]);
  }

  /**
   * `bytes` to the server in one message ["put", bytes], decoded there; resolves once it says
   * so. The msgpack head is written by hand and the bytes straight from the array: packing
   * would copy them first, which a floor should not.
   */
  async put(bytes: Uint8Array): Promise<void> {
    const n = bytes.byteLength;
    const head = Buffer.alloc(4 + 10);
    head.writeUInt32LE(10 + n, 0); // frame length
    head.set([0x92, 0xa3, 0x70, 0x75, 0x74, 0xc6], 4); // fixarray(2), fixstr "put", bin 32
    head.writeUInt32BE(n, 10);
    const reply = new Promise<Buffer>((r) => (this.waiting = r));
    this.sock.write(head);
    this.sock.write(Buffer.from(bytes.buffer, bytes.byteOffset, n));
    const r = packr.unpack(await reply) as [string, number];
    if (r[1] !== n) throw new Error(`tcp echo put: the server got ${r[1]} bytes`);
  }

  /** `n` bytes from the server in one message. */
  async get(n: number): Promise<Uint8Array> {
    const r = (await this.request(['get', n])) as Uint8Array;
    if (r.byteLength !== n) throw new Error(`tcp echo get: ${r.byteLength} bytes came`);
    return r;
  }

  stop(): void {
    this.sock.destroy();
    this.proc.kill('SIGTERM');
  }
}
