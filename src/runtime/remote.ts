/**
 * A runtime served on its own (`torchbridge-runtime serve`), reached through its connection
 * file: two ZeroMQ DEALERs (ops and control) with the file's CURVE keys.
 *
 * - Both sockets' routing id is the session id, so the runtime knows whose control ping or
 *   shutdown it answers, and a socket that reconnects finds its session again.
 * - Failing to connect is an error within seconds, never a hang: until its handshake completes
 *   each socket's events say when the runtime refused our key or dropped us mid-handshake (a
 *   wrong server key), and without a completed handshake after CONNECT_TIMEOUT_MS the link
 *   gives up. (The events are read only until then: a pending read of them keeps Node alive.)
 * - Once connected, while replies are awaited a watchdog pings the control channel: no answer
 *   for LOST_AFTER_MS (the runtime stopped, the network failed) rejects everything pending with
 *   RuntimeLostError. So does a [GONE, reason] notice: the runtime freed or ended our session.
 * - A keepalive goes to the control socket every few seconds (a quarter of the runtime's grace
 *   period, at most 5 s): the runtime frees the session of a client it has not heard from for
 *   that long. No timer here keeps Node alive.
 */
import type * as zmq from 'zeromq';
import { encode, decode } from '../transport/codec.js';
import { CONTROL } from '../transport/protocol.js';
import { ZmqChannel } from '../transport/zmq_channel.js';
import type { OnFailure, OnMessage, Transport } from '../transport/transport.js';
import { readConnectionFile, type ConnectionInfo } from './connection_file.js';
import type { ExitInfo, RuntimeLink } from './link.js';

/** How long a connection may take to complete its (CURVE) handshake. */
const CONNECT_TIMEOUT_MS = Number(process.env.TORCHBRIDGE_CONNECT_TIMEOUT_MS) || 5000;
/** While replies are awaited: a watchdog ping this often, and the runtime counts as lost when one goes unanswered this long. */
const WATCH_EVERY_MS = 500;
const LOST_AFTER_MS = 3000;
/** A control request with id 0 is a keepalive: the runtime notes it and does not answer. */
const KEEPALIVE = encode([0, CONTROL.PING]);
/** The watchdog's ping has id -1 (the session's control requests count up from 1). */
const WATCH_PING = encode([-1, CONTROL.PING]);

export class RemoteLink implements RuntimeLink {
  /** a served runtime is not our child */
  readonly pid = undefined;
  readonly conn: ConnectionInfo;
  private ops: ZmqChannel | undefined;
  private readonly control: ZmqChannel;
  private controlHandlers: { onMessage: OnMessage; onFailure: OnFailure } | undefined;
  private connected = false;
  private handshaken = false;
  private done = false;
  private readonly connectTimer: NodeJS.Timeout;
  private readonly keepalive: NodeJS.Timeout;
  private watchdog: NodeJS.Timeout | undefined;
  /** when the unanswered watchdog ping went out (0: none is out), and how many ticks have seen it unanswered */
  private pingSent = 0;
  private pingTicks = 0;
  /** both sockets': routing id and CURVE keys */
  private readonly options: zmq.SocketOptions<zmq.Dealer>;

  /** Throws RuntimeConnectError at once when the connection file is missing or malformed. */
  constructor(
    opts: { connect: string; session: string },
    private readonly onExit: (info: ExitInfo) => void,
  ) {
    this.conn = readConnectionFile(opts.connect);
    this.options = {
      routingId: opts.session,
      ipv6: this.conn.ops.startsWith('tcp://['), // ZeroMQ connects to IPv6 addresses only when told
      ...(this.conn.serverPublicKey
        ? { curveServerKey: this.conn.serverPublicKey, curvePublicKey: this.conn.clientPublicKey, curveSecretKey: this.conn.clientSecretKey }
        : {}),
    };
    this.control = new ZmqChannel(
      this.conn.control,
      (m) => this.onControl(m),
      (e) => (this.controlHandlers ? this.controlHandlers.onFailure(e) : this.lose(`its control connection failed: ${e.message}`)),
      this.options,
      true,
    );
    void this.watchHandshake(this.control, 'control');
    this.connectTimer = setTimeout(() => this.connectTimedOut(), CONNECT_TIMEOUT_MS);
    const every = Math.min(5000, (this.conn.graceS * 1000) / 4);
    this.keepalive = setInterval(() => this.control.send(KEEPALIVE), every);
    this.keepalive.unref();
  }

  /** The runtime's address, for messages. */
  get where(): string {
    return `${this.conn.ops} (connection file ${this.conn.path})`;
  }

  openOps(onMessage: OnMessage, onFailure: OnFailure): Transport {
    const ops = new ZmqChannel(this.conn.ops, (m, body) => this.onOps(m, body, onMessage), onFailure, this.options, true);
    this.ops = ops;
    void this.watchHandshake(ops, 'ops');
    // the channel itself, with a watchdog started whenever a reply is awaited
    return {
      send: (m) => ops.send(m),
      sendFrames: (header, body) => ops.sendFrames(header, body),
      expect: (n) => {
        ops.expect(n);
        this.startWatchdog();
      },
      unexpect: (n) => ops.unexpect(n),
      close: () => ops.close(),
    };
  }

  openControl(onMessage: OnMessage, onFailure: OnFailure): Transport {
    this.controlHandlers = { onMessage, onFailure };
    return this.control;
  }

  /** Drop the connection (the runtime keeps the session for its grace period, then frees it). */
  kill(): void {
    this.lose(`this client dropped the connection (kill()); the runtime frees the session's tensors after ${this.conn.graceS} s`);
  }

  /** The runtime has run this session's SHUTDOWN: close the connection. */
  ended(): void {
    this.finish({ code: 0, signal: null, stderrTail: '' });
  }

  private onOps(m: Buffer, body: Buffer | undefined, onMessage: OnMessage): number | void | Promise<number> {
    if (body === undefined && isGoneNotice(m)) return this.gone(m);
    if (!this.handshaken) this.connectedOps(); // (in case its event was missed)
    return onMessage(m, body);
  }

  /** The ops socket's handshake succeeded: no more connect timeout. */
  private connectedOps(): void {
    this.handshaken = true;
    clearTimeout(this.connectTimer);
  }

  /** Read a socket's events until its handshake succeeds (then stop: see the header). */
  private async watchHandshake(channel: ZmqChannel, which: 'ops' | 'control'): Promise<void> {
    const events = channel.events;
    if (!events) return; // no observer: the connect timeout still bounds the wait
    try {
      while (!this.done) {
        const e = await events.receive();
        if (!e) return; // closed
        if (e.type === 'connect') this.connected = true;
        else if (e.type === 'handshake') {
          if (which === 'ops') this.connectedOps();
          events.close();
          return;
        } else if (e.type === 'handshake:error:auth') {
          return this.refuse(
            `the runtime refused this client's key (CURVE authentication failed): the client_public_key in ${this.conn.path} ` +
              'is not among its authorized keys (--keys DIR/authorized/). Use the connection file this runtime wrote.',
          );
        } else if (e.type === 'handshake:error:protocol') {
          const code = String(e.error.code ?? e.error.message);
          return this.refuse(
            !code.includes('MECHANISM_MISMATCH')
              ? `the handshake failed (${code}).`
              : this.conn.serverPublicKey
                ? `the runtime does not use CURVE but ${this.conn.path} has keys: use the connection file this runtime wrote.`
                : `the runtime requires CURVE keys and ${this.conn.path} has none: use the connection file this runtime wrote (with its keys).`,
          );
        } else if (e.type === 'handshake:error:other') {
          const code = String(e.error.code ?? e.error.message);
          return this.refuse(
            this.conn.serverPublicKey
              ? `the runtime dropped the connection during the CURVE handshake (${code}): the server_public_key in ` +
                  `${this.conn.path} is not this runtime's, or its client key is not authorized (a stale connection file?).`
              : `the runtime dropped the connection during the handshake (${code}): it probably requires CURVE keys, and ` +
                  `${this.conn.path} has none. Use the connection file this runtime wrote (with its keys).`,
          );
        }
      }
    } catch {
      /* the socket closed: whoever closed it reported why */
    }
  }

  private connectTimedOut(): void {
    if (this.handshaken) return;
    this.refuse(
      this.connected
        ? `it accepted a connection but no handshake completed within ${CONNECT_TIMEOUT_MS} ms: check that the keys in ${this.conn.path} are this runtime's.`
        : `nothing answered within ${CONNECT_TIMEOUT_MS} ms: is \`torchbridge-runtime serve\` running there? ${this.conn.path} may be stale.`,
    );
  }

  private startWatchdog(): void {
    if (this.watchdog || this.done) return;
    this.watchdog = setInterval(() => this.watch(), WATCH_EVERY_MS);
    this.watchdog.unref(); // the awaited replies keep Node alive meanwhile
  }

  private watch(): void {
    if (!this.handshaken) return; // the connect timer covers that phase
    if (this.pingSent !== 0) {
      // Counted in ticks as well as time: after Node's own loop was blocked for a while, a reply
      // that came meanwhile is read after this tick, not before it.
      if (++this.pingTicks * WATCH_EVERY_MS >= LOST_AFTER_MS && performance.now() - this.pingSent > LOST_AFTER_MS) {
        this.lose(`its control channel has not answered for ${LOST_AFTER_MS / 1000} s (the runtime stopped, or the network failed)`);
      }
      return;
    }
    if ((this.ops?.awaiting ?? 0) === 0) {
      clearInterval(this.watchdog);
      this.watchdog = undefined;
      return;
    }
    this.pingSent = performance.now();
    this.pingTicks = 0;
    this.control.expect();
    this.control.send(WATCH_PING);
  }

  private onControl(m: Buffer): number | void | Promise<number> {
    // [-1, status, value]: fixarray(3), then negative fixint -1
    if (m[0] === 0x93 && m[1] === 0xff) {
      this.pingSent = 0;
      return 1;
    }
    return this.controlHandlers ? this.controlHandlers.onMessage(m) : 1;
  }

  private refuse(why: string): void {
    this.finish({ code: null, signal: null, stderrTail: '', connectProblem: `cannot connect to the torchbridge runtime at ${this.where}: ${why}` });
  }

  private lose(why: string): void {
    this.finish({ code: null, signal: null, stderrTail: '', lost: `lost the torchbridge runtime at ${this.where}: ${why}` });
  }

  /** [GONE, reason]: the runtime holds no session for us (freed after its grace period, or ended). */
  private gone(msg: Buffer): number {
    const [, reason] = decode(msg) as [number, string];
    this.lose(reason);
    return 0;
  }

  private finish(info: ExitInfo): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.connectTimer);
    clearInterval(this.keepalive);
    clearInterval(this.watchdog);
    this.ops?.close();
    this.control.close();
    this.onExit(info);
  }
}

/** msgpack [-1, ...]: fixarray(2), then negative fixint -1; a reply batch starts with a count >= 0. */
function isGoneNotice(m: Buffer): boolean {
  return m.length > 2 && m[0] === 0x92 && m[1] === 0xff;
}
