/**
 * A runtime served on its own (`torchbridge-runtime serve`), reached through its connection
 * file: two ZeroMQ DEALERs (ops and control) with the file's CURVE keys.
 *
 * - Both sockets' routing id is the session id, so the runtime knows whose control ping or
 *   shutdown it answers, and a socket that reconnects finds its session again.
 * - Failures to connect are errors within seconds, never hangs: the socket's handshake events
 *   say when the runtime refused our key or dropped us mid-handshake (a wrong server key), and
 *   without a completed handshake after CONNECT_TIMEOUT_MS the link gives up.
 * - Once connected, a disconnect (the runtime stopped; heartbeats notice a silent network)
 *   rejects everything pending with RuntimeLostError.
 * - A keepalive goes to the control socket every few seconds (a quarter of the runtime's grace
 *   period, at most 5 s): the runtime frees the session of a client it has not heard from for
 *   that long. The timer never keeps Node alive.
 */
import * as zmq from 'zeromq';
import { encode, decode } from '../transport/codec.js';
import { CONTROL } from '../transport/protocol.js';
import { ZmqChannel } from '../transport/zmq_channel.js';
import type { OnFailure, OnMessage, Transport } from '../transport/transport.js';
import { readConnectionFile, type ConnectionInfo } from './connection_file.js';
import type { ExitInfo, RuntimeLink } from './link.js';

/** How long a connection may take to complete its (CURVE) handshake. */
const CONNECT_TIMEOUT_MS = Number(process.env.TORCHBRIDGE_CONNECT_TIMEOUT_MS) || 5000;
/** ZeroMQ heartbeats: a peer silent this long (no traffic, no PONG) counts as gone. */
const HEARTBEAT_MS = 2000;
const HEARTBEAT_TIMEOUT_MS = 10_000;
/** A control request with id 0 is a keepalive: the runtime notes it and does not answer. */
const KEEPALIVE = encode([0, CONTROL.PING]);

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
  /** both sockets': routing id, heartbeats, CURVE keys */
  private readonly options: zmq.SocketOptions<zmq.Dealer>;

  /** Throws RuntimeConnectError at once when the connection file is missing or malformed. */
  constructor(
    opts: { connect: string; session: string },
    private readonly onExit: (info: ExitInfo) => void,
  ) {
    this.conn = readConnectionFile(opts.connect);
    this.options = {
      routingId: opts.session,
      heartbeatInterval: HEARTBEAT_MS,
      heartbeatTimeout: HEARTBEAT_TIMEOUT_MS,
      ...(this.conn.serverPublicKey
        ? { curveServerKey: this.conn.serverPublicKey, curvePublicKey: this.conn.clientPublicKey, curveSecretKey: this.conn.clientSecretKey }
        : {}),
    };
    this.control = new ZmqChannel(
      this.conn.control,
      (m) => (this.controlHandlers ? this.controlHandlers.onMessage(m) : 1),
      (e) => (this.controlHandlers ? this.controlHandlers.onFailure(e) : this.lose(`its control connection failed: ${e.message}`)),
      this.options,
    );
    this.watch(this.control, 'control');
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
    this.ops = new ZmqChannel(this.conn.ops, (m) => (isGoneNotice(m) ? this.gone(m) : onMessage(m)), onFailure, this.options);
    this.watch(this.ops, 'ops');
    return this.ops;
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

  private watch(channel: ZmqChannel, which: 'ops' | 'control'): void {
    const ev = channel.events;
    ev.on('connect', () => (this.connected = true));
    ev.on('handshake', () => {
      if (which !== 'ops') return;
      this.handshaken = true;
      clearTimeout(this.connectTimer);
    });
    ev.on('handshake:error:auth', () => {
      this.refuse(
        `the runtime refused this client's key (CURVE authentication failed): the client_public_key in ${this.conn.path} ` +
          'is not among its authorized keys (--keys DIR/authorized/). Use the connection file this runtime wrote.',
      );
    });
    ev.on('handshake:error:protocol', (e) => {
      if (this.handshaken) return this.lose(`a protocol error on its ${which} connection (${e.error.code ?? e.error.message})`);
      const mismatch = String(e.error.code ?? '').includes('MECHANISM_MISMATCH');
      this.refuse(
        mismatch
          ? this.conn.serverPublicKey
            ? `the runtime does not use CURVE but ${this.conn.path} has keys: use the connection file this runtime wrote.`
            : `the runtime requires CURVE keys and ${this.conn.path} has none: use the connection file this runtime wrote (with its keys).`
          : `the handshake failed (${e.error.code ?? e.error.message}).`,
      );
    });
    ev.on('handshake:error:other', (e) => {
      if (this.handshaken) return;
      this.refuse(
        this.conn.serverPublicKey
          ? `the runtime dropped the connection during the CURVE handshake (${e.error.code ?? e.error.message}): the ` +
              `server_public_key in ${this.conn.path} is not this runtime's (a stale connection file?).`
          : `the handshake failed (${e.error.code ?? e.error.message}).`,
      );
    });
    ev.on('disconnect', () => {
      if (this.handshaken) this.lose(`its ${which} connection dropped (the runtime stopped, or the network failed)`);
    });
  }

  private connectTimedOut(): void {
    if (this.handshaken) return;
    this.refuse(
      this.connected
        ? `it accepted a connection but no handshake completed within ${CONNECT_TIMEOUT_MS} ms: check that the keys in ${this.conn.path} are this runtime's.`
        : `nothing answered within ${CONNECT_TIMEOUT_MS} ms: is \`torchbridge-runtime serve\` running there? ${this.conn.path} may be stale.`,
    );
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
    this.ops?.close();
    this.control.close();
    this.onExit(info);
  }
}

/** msgpack [-1, ...]: fixarray(2), then negative fixint -1; a reply batch starts with a count >= 0. */
function isGoneNotice(m: Buffer): boolean {
  return m.length > 2 && m[0] === 0x92 && m[1] === 0xff;
}
