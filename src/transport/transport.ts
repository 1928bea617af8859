/**
 * What the session needs from a connection to its runtime, whatever carries it (DESIGN §1: the
 * transport is chosen per connection; the protocol above it is one and the same).
 *
 * Implementations: SocketChannel (length-prefixed frames over an inherited Unix socket pair,
 * the child runtime's default) and ZmqChannel (a ZeroMQ DEALER: a child over ipc:// with
 * TORCHBRIDGE_TRANSPORT=zmq, or a served runtime).
 */

/**
 * Handles one message and says how many awaited replies it held (none said: one); a promise
 * holds the next message back until it settles. With `body`, msg is a stream message's header
 * and body its bytes (chunked bulk data, see python/torchbridge_runtime/protocol.py): only a
 * served runtime's link (RemoteLink) hands these on.
 */
export type OnMessage = (msg: Buffer, body?: Buffer) => number | void | Promise<number>;

export type OnFailure = (err: Error) => void;

export interface Transport {
  /** Send one message; messages arrive in the order sent. Never blocks. */
  send(msg: Buffer): void;
  /**
   * Send a stream message (header, body), in order with send()'s (a served runtime only: chunked
   * bulk data; on the wire [body, header]). body goes without a copy: it must not change until
   * the peer has it.
   */
  sendFrames?(header: Buffer, body: Buffer): void;
  /** Expect `n` more replies: the transport reads (and keeps Node alive) until they arrive. */
  expect(n?: number): void;
  /** A reply will no longer come (its request was abandoned). */
  unexpect(n?: number): void;
  close(): void;
}

/** Which transport a child runtime uses: TORCHBRIDGE_TRANSPORT=socket (the default) or zmq. */
export type ChildTransport = 'socket' | 'zmq';

export function childTransport(explicit?: string): ChildTransport {
  const v = explicit ?? process.env.TORCHBRIDGE_TRANSPORT ?? 'socket';
  if (v === 'socket' || v === 'zmq') return v;
  throw new Error(`TORCHBRIDGE_TRANSPORT must be 'socket' or 'zmq', not '${v}'`);
}
