/**
 * Length-prefixed messages over a connected stream socket: the child runtime's end of an
 * inherited Unix socket pair. Each frame is a little-endian uint32 length, then the payload.
 * No I/O thread is woken per message (what makes ZeroMQ's ipc:// 3-5x slower here); libuv
 * reads the socket on Node's own loop. The socket keeps Node alive only while replies are
 * awaited, as ZmqChannel's reader loop does.
 */
import type { Socket } from 'node:net';
import type { OnFailure, OnMessage, Transport } from './transport.js';

const HEADER = 4;

export class SocketChannel implements Transport {
  private pending: Buffer | null = null; // bytes of an incomplete frame
  private awaited = 0;
  private closed = false;
  private holding = false; // a message's promise is holding the next ones back
  private held: Buffer[] = [];

  constructor(
    private readonly socket: Socket,
    private readonly onMessage: OnMessage,
    private readonly onFailure: OnFailure,
  ) {
    socket.setNoDelay?.(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    // An error or the peer closing means the runtime is exiting: its process's exit reports
    // why, with its stderr, and closes this channel. Should that report not come, awaited
    // replies still fail after a second.
    socket.on('error', (err) => this.gone(err));
    socket.on('close', () => this.gone(new Error('the runtime closed its connection')));
    socket.unref();
  }

  send(msg: Buffer): void {
    if (this.closed) return;
    if (msg.length < 65536) {
      const frame = Buffer.allocUnsafe(HEADER + msg.length);
      frame.writeUInt32LE(msg.length, 0);
      msg.copy(frame, HEADER);
      this.socket.write(frame);
    } else {
      // no copy of a large payload just to put four bytes in front of it
      const head = Buffer.allocUnsafe(HEADER);
      head.writeUInt32LE(msg.length, 0);
      this.socket.cork();
      this.socket.write(head);
      this.socket.write(msg);
      this.socket.uncork();
    }
  }

  expect(n = 1): void {
    if (this.awaited === 0 && n > 0 && !this.closed) this.socket.ref();
    this.awaited += n;
  }

  unexpect(n = 1): void {
    this.awaited = Math.max(0, this.awaited - n);
    if (this.awaited === 0 && !this.closed) this.socket.unref();
  }

  private onData(chunk: Buffer): void {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    let at = 0;
    while (buf.length - at >= HEADER) {
      const size = buf.readUInt32LE(at);
      if (buf.length - at - HEADER < size) break;
      this.deliver(buf.subarray(at + HEADER, at + HEADER + size));
      at += HEADER + size;
    }
    if (at < buf.length) this.pending = at === 0 ? buf : Buffer.from(buf.subarray(at));
  }

  private deliver(msg: Buffer): void {
    if (this.holding) {
      this.held.push(msg);
      return;
    }
    let n: number | void | Promise<number>;
    try {
      n = this.onMessage(msg);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    if (n instanceof Promise) {
      this.holding = true;
      this.socket.pause();
      n.then(
        (k) => this.release(k),
        (err: Error) => this.fail(err),
      );
    } else {
      this.unexpect(n ?? 1);
    }
  }

  private release(n: number): void {
    this.holding = false;
    this.unexpect(n);
    const held = this.held;
    this.held = [];
    for (let i = 0; i < held.length; i++) {
      this.deliver(held[i]!);
      if (this.holding) {
        this.held.push(...held.slice(i + 1));
        return;
      }
    }
    if (!this.closed) this.socket.resume();
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.close();
    this.onFailure(err);
  }

  private gone(err: Error): void {
    if (this.closed || this.lost) return;
    this.lost = setTimeout(() => this.fail(err), 1000);
    if (this.awaited === 0) this.lost.unref();
  }

  private lost: NodeJS.Timeout | undefined;

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.held = [];
    clearTimeout(this.lost);
    this.socket.destroy();
  }
}
