/**
 * One DEALER socket with the two rules zeromq.js v6 imposes: one pending send and one
 * pending receive at a time. Sends go out synchronously while the socket allows it and
 * queue (in order) when it reports EBUSY; a single reader loop runs only while replies are
 * awaited, so an idle channel never keeps Node's event loop alive.
 */
import * as zmq from 'zeromq';
import type { OnFailure, OnMessage, Transport } from './transport.js';

export class ZmqChannel implements Transport {
  private readonly socket: zmq.Dealer;
  /** messages waiting behind a pending send: one frame, or several (a multipart message) */
  private readonly backlog: (Buffer | Buffer[])[] = [];
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
    private readonly onMessage: OnMessage,
    private readonly onFailure: OnFailure,
    /** more socket options: a served runtime's CURVE keys, routing id */
    options: zmq.SocketOptions<zmq.Dealer> = {},
    /** watch the socket's connection events (handshakes), from before it connects */
    observe = false,
  ) {
    this.socket = new zmq.Dealer({ linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0, ...options });
    if (observe) this.events = observerOf(this.socket);
    this.socket.connect(endpoint);
  }

  /**
   * The socket's connection events, when observed (undefined where the observer could not be
   * made). A pending events.receive() keeps Node alive: read them only while that is wanted.
   */
  readonly events: zmq.Observer | undefined;

  /** How many replies are awaited. */
  get awaiting(): number {
    return this.awaited;
  }

  send(msg: Buffer): void {
    this.sendMessage(msg);
  }

  sendFrames(header: Buffer, body: Buffer): void {
    this.sendMessage([header, body]);
  }

  private sendMessage(msg: Buffer | Buffer[]): void {
    if (this.closed) return;
    if (this.backlog.length > 0) {
      this.backlog.push(msg);
      return;
    }
    this.trySend(msg);
  }

  private trySend(msg: Buffer | Buffer[]): boolean {
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
        const [msg, body] = await this.socket.receive();
        let n = msg ? this.onMessage(msg, body) : undefined;
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

/**
 * socket.events, retried: zeromq.js names each monitor endpoint after its observer's address,
 * and a new observer at the address of one whose socket was just closed finds the name still
 * taken (EADDRINUSE) until libzmq's reaper thread releases it.
 */
function observerOf(socket: zmq.Dealer): zmq.Observer | undefined {
  const failed: unknown[] = []; // kept alive, so the next try gets another address
  for (let i = 0; i < 4; i++) {
    try {
      return socket.events;
    } catch (err) {
      failed.push(err);
    }
  }
  return undefined;
}
