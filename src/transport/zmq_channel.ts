/**
 * One DEALER socket with the two rules zeromq.js v6 imposes: one pending send and one
 * pending receive at a time. Sends go out synchronously while the socket allows it and
 * queue (in order) when it reports EBUSY; a single reader loop runs only while replies are
 * awaited, so an idle channel never keeps Node's event loop alive.
 *
 * A message may carry a second frame, a header (a served runtime's batch numbers and
 * acknowledgements: src/runtime/resume.ts); a child runtime's messages have none.
 */
import * as zmq from 'zeromq';
import type { OnFailure, Transport } from './transport.js';

/** Handles one message (and its header frame, when it has one): see OnMessage. */
export type OnFramedMessage = (msg: Buffer, header: Buffer | undefined) => number | void | Promise<number>;

export class ZmqChannel implements Transport {
  private readonly socket: zmq.Dealer;
  /** messages waiting behind a delayed send, in order: a payload, or [payload, header] */
  private readonly backlog: Array<Buffer | [Buffer, Buffer]> = [];
  private reading = false;
  private closed = false;
  /** How many replies are awaited; the reader loop runs while this is positive. */
  private awaited = 0;

  /**
   * onMessage handles one message and says how many awaited replies it held (none said: one);
   * a promise holds the next message back until it settles.
   */
  constructor(
    endpoint: string,
    private readonly onMessage: OnFramedMessage,
    private readonly onFailure: OnFailure,
    /** more socket options: a served runtime's CURVE keys, routing id */
    options: zmq.SocketOptions<zmq.Dealer> = {},
  ) {
    this.socket = new zmq.Dealer({ linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0, ...options });
    this.socket.connect(endpoint);
  }

  /** How many replies are awaited. */
  get awaiting(): number {
    return this.awaited;
  }

  /** One message, with an optional header frame after it. */
  send(msg: Buffer, header?: Buffer): void {
    if (this.closed) return;
    const m = header === undefined ? msg : ([msg, header] as [Buffer, Buffer]);
    if (this.backlog.length > 0) {
      this.backlog.push(m);
      return;
    }
    this.trySend(m);
  }

  private trySend(msg: Buffer | [Buffer, Buffer]): boolean {
    try {
      this.socket.send(msg).then(
        () => this.drain(),
        (err: Error) => this.fail(err),
      );
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'EBUSY') {
        // A delayed send is in flight: keep order by queueing behind it.
        if (this.backlog[0] !== msg) this.backlog.unshift(msg);
        return false;
      }
      this.fail(err as Error);
      return false;
    }
  }

  private drain(): void {
    while (this.backlog.length > 0 && !this.closed) {
      const next = this.backlog[0]!;
      if (!this.trySend(next)) return;
      this.backlog.shift();
    }
  }

  /** Expect `n` more replies: keeps the reader loop running until they arrive. */
  expect(n = 1): void {
    this.awaited += n;
    if (!this.reading && !this.closed) void this.readLoop();
  }

  /** A reply will no longer come (e.g. its request was abandoned). */
  unexpect(n = 1): void {
    this.awaited = Math.max(0, this.awaited - n);
  }

  private async readLoop(): Promise<void> {
    this.reading = true;
    try {
      while (this.awaited > 0 && !this.closed) {
        const [msg, header] = await this.socket.receive();
        let n = msg ? this.onMessage(msg, header) : undefined;
        if (n instanceof Promise) n = await n;
        this.awaited = Math.max(0, this.awaited - (n ?? 1));
      }
    } catch (err) {
      if (!this.closed) this.fail(err as Error);
    } finally {
      this.reading = false;
    }
  }

  private fail(err: Error): void {
    if (this.closed) return;
    this.onFailure(err);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.backlog.length = 0;
    this.socket.close();
  }
}
