/**
 * Looking at a served runtime's endpoint from outside the session's own sockets.
 *
 * - watchHandshake: a throwaway DEALER with the session's keys, watched through its events,
 *   reports whether a connection completes its (CURVE) handshake, or why not (a key the runtime
 *   refuses, a server key that is not the runtime's, a mechanism mismatch), then closes.
 *   Why a socket of its own: libzmq sends a socket's events to its monitor with blocking sends,
 *   so once a monitor is no longer read (zeromq.js's observer closed, or left unread) the next
 *   event -- such as a reconnect after a dropped connection -- stalls libzmq's I/O thread, and
 *   with it every ZeroMQ socket of this process; while a pending read of the events keeps Node
 *   alive. So the session's own sockets are never monitored, and this one is read to its end.
 * - refusedAt: whether anything still listens at the endpoint at all.
 */
import { connect as netConnect } from 'node:net';
import * as zmq from 'zeromq';

export type HandshakeNews =
  | { type: 'connected' }
  | { type: 'handshake' }
  | { type: 'auth' }
  | { type: 'protocol'; code: string }
  | { type: 'other'; code: string };

/**
 * Connect a throwaway socket to `endpoint` and report what its connection does, until the
 * handshake succeeds or fails (then it closes itself). The returned function closes it earlier.
 * Its options are the session's without the routing id (the runtime must not take it for the
 * session's socket).
 */
export function watchHandshake(endpoint: string, options: zmq.SocketOptions<zmq.Dealer>, report: (news: HandshakeNews) => void): () => void {
  const { routingId: _, ...rest } = options;
  const socket = new zmq.Dealer({ ...rest, linger: 0 });
  const events = observerOf(socket);
  socket.connect(endpoint);
  let settled = false;
  const stop = (): void => {
    if (settled) return;
    settled = true;
    socket.close(); // its events then end (monitor stopped), read below to that end
  };
  if (!events) return stop; // no observer: the caller's connect timeout still bounds the wait
  void (async () => {
    try {
      for (;;) {
        const e = await events.receive();
        if (!e) return;
        if (settled) continue;
        if (e.type === 'connect') report({ type: 'connected' });
        else if (e.type === 'handshake') {
          report({ type: 'handshake' });
          stop();
        } else if (e.type === 'handshake:error:auth') {
          report({ type: 'auth' });
          stop();
        } else if (e.type === 'handshake:error:protocol') {
          report({ type: 'protocol', code: String(e.error.code ?? e.error.message) });
          stop();
        } else if (e.type === 'handshake:error:other') {
          report({ type: 'other', code: String(e.error.code ?? e.error.message) });
          stop();
        }
      }
    } catch {
      /* the observer closed itself once the monitor stopped: the end */
    }
  })();
  return stop;
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

/**
 * Connect to a tcp:// or ipc:// endpoint and hang up at once: the error code when the
 * connection is refused (nothing listens there), else null (connected, timed out, or another
 * failure that says nothing about the runtime). Never keeps Node alive.
 */
export function refusedAt(endpoint: string, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    let target: { host: string; port: number } | { path: string };
    if (endpoint.startsWith('ipc://')) target = { path: endpoint.slice('ipc://'.length) };
    else {
      const m = /^tcp:\/\/\[?([^\]]*?)\]?:(\d+)$/.exec(endpoint);
      if (!m) return resolve(null);
      target = { host: m[1]!, port: Number(m[2]) };
    }
    const sock = netConnect(target);
    sock.unref();
    const done = (v: string | null): void => {
      sock.destroy();
      resolve(v);
    };
    sock.setTimeout(timeoutMs, () => done(null));
    sock.once('connect', () => done(null));
    sock.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' || e.code === 'ENOENT' ? e.code : null));
  });
}
