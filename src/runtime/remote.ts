/**
 * A runtime served on its own (`torchbridge-runtime serve`), reached through its connection
 * file: two ZeroMQ DEALERs (ops and control) with the file's CURVE keys.
 *
 * - Both sockets' routing id is the session id, so the runtime knows whose control ping or
 *   shutdown it answers, and a socket that reconnects finds its session again.
 * - Failing to connect is an error within seconds, never a hang: a throwaway socket's events
 *   say when the runtime refused our key or dropped us mid-handshake (a wrong server key), and
 *   without a completed handshake after CONNECT_TIMEOUT_MS the link gives up. (The session's
 *   own sockets are never monitored: see endpoint_probe.ts.)
 * - A connection that drops and comes back resumes the session (ZeroMQ reconnects by itself,
 *   losing what was in flight): batches are numbered and kept until acknowledged, reply
 *   messages numbered and handed on once each, in order (resume.ts keeps the books). Nothing
 *   is sent again on a guess: a connection delivers in order, so a sync on the ops socket,
 *   behind every batch sent before it, makes the runtime say exactly which batches did not
 *   arrive, and its notice, behind every reply sent before it, says exactly which replies were
 *   lost; a reply after a gap says so too. We sync when the watchdog's pings go unanswered
 *   for a while and then are answered again, and when its answers show batches or replies
 *   missing twice in a row without progress. The runtime itself tells at once of batches
 *   missing before one that arrived. Control requests lost in a drop are sent again once a
 *   later ping has been answered (control answers come in order too). Stream messages
 *   (chunked bulk data, src/session/uploads.ts and downloads.ts) are numbered in the same
 *   sequences, so a chunk or credit lost in a drop is sent again too.
 * - Once connected, while replies are awaited or batches unacknowledged, a watchdog pings the
 *   control channel. While its pings go unanswered, it checks that something still listens at
 *   the runtime's address: a refused connection means the runtime stopped, and everything
 *   pending rejects with RuntimeLostError at once. Otherwise it waits as long as the runtime
 *   keeps a silent client's session (its grace period, at least LOST_AFTER_MS), then gives up
 *   the same way. So does a [GONE, reason] notice, or a ping answer saying the session is gone:
 *   the runtime freed or ended it.
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
import { refusedAt, watchHandshake, type HandshakeNews } from './endpoint_probe.js';
import type { ExitInfo, RuntimeLink } from './link.js';
import { ResendLog } from './resume.js';

/** How long a connection may take to complete its (CURVE) handshake. */
const CONNECT_TIMEOUT_MS = Number(process.env.TORCHBRIDGE_CONNECT_TIMEOUT_MS) || 5000;
/**
 * While replies are awaited or batches unacknowledged: a watchdog ping this often; a runtime
 * that answers none for this long (or for its grace period, when that is longer) is lost.
 */
const WATCH_EVERY_MS = 250;
const LOST_AFTER_MS = 3000;
/** A ping unanswered this long: is the runtime still there (a quick check), and sync once it answers. */
const SILENT_AFTER_MS = 200;
/** A sync whose notice has not come (lost, or behind a long op) is sent again after this long. */
const RESYNC_AFTER_MS = 2000;
/** Ask for an acknowledgement at once when this many batches, or bytes, wait for one. */
const ACK_SOON_BATCHES = 256;
const ACK_SOON_BYTES = 64 * 1024 * 1024;
/** How long a check that something listens at the runtime's address may take, and how often one is made while it is silent. */
const PROBE_TIMEOUT_MS = 1000;
// every watchdog tick while silent: one TCP connect, and a runtime that dies is noticed within ~0.5 s even
// when a busy runtime (late pings) had just been checked
const PROBE_EVERY_MS = WATCH_EVERY_MS;
const EMPTY = Buffer.alloc(0);

/** A watchdog ping's answer (see protocol.py): what the runtime has, or why it has no session for us (and pid, time). */
interface WatchAnswer {
  received?: number;
  replied?: number;
  gone?: string;
}

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
  /** closes the handshake check's socket */
  private readonly stopHandshakeCheck: () => void;
  private readonly keepalive: NodeJS.Timeout;
  private watchdog: NodeJS.Timeout | undefined;
  /** batch numbers, acknowledgements, what to send again */
  private readonly log = new ResendLog();
  /**
   * Watchdog pings have ids -1, -2, ... (the session's control requests count up from 1).
   * pingOut: the serial whose answer is awaited (0: none), sent at pingAt; while it is
   * unanswered a ping goes out each tick (the first may have been lost with its connection),
   * and pingTicks counts those ticks. pings: how many batches we had sent when each went out.
   */
  private pingSerial = 0;
  private pingOut = 0;
  private pingAt = 0;
  private pingTicks = 0;
  private readonly pings = new Map<number, number>();
  /** when the runtime last answered a ping (or the watch began) */
  private lastHeard = 0;
  /** a ping went unanswered for SILENT_AFTER_MS: sync once one is answered again */
  private silent = false;
  /** a check of the runtime's address is under way; when the last one began */
  private probing = false;
  private probedAt = -Infinity;
  /** the previous answer's news, to see batches or replies missing twice without progress */
  private lacked = { batches: false, replies: false, received: -1, seen: -1 };
  /** a sync is out and its notice expected (one at a time), sent at syncAt */
  private syncOut = false;
  private syncAt = 0;
  /** what had been seen when lost replies were last asked for, and when (not again at once without progress) */
  private asked = { seen: -1, at: 0 };
  /** the session's control requests not yet answered: id -> message, and the last ping sent before it */
  private readonly controlOut = new Map<number, { msg: Buffer; after: number }>();
  /** silence longer than this: the runtime has freed the session (or is gone) */
  private readonly silenceLimitMs: number;
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
    );
    this.stopHandshakeCheck = watchHandshake(this.conn.ops, this.options, (news) => this.onHandshakeNews(news));
    this.connectTimer = setTimeout(() => this.connectTimedOut(), CONNECT_TIMEOUT_MS);
    this.silenceLimitMs = Math.max(LOST_AFTER_MS, this.conn.graceS * 1000 + 1000);
    const every = Math.min(5000, (this.conn.graceS * 1000) / 4);
    // a keepalive (id 0, not answered) also tells the runtime which replies it may let go of
    this.keepalive = setInterval(() => this.control.send(encode([0, CONTROL.PING, [this.log.sent, this.log.seen]])), every);
    this.keepalive.unref();
  }

  /** The runtime's address, for messages. */
  get where(): string {
    return `${this.conn.ops} (connection file ${this.conn.path})`;
  }

  openOps(onMessage: OnMessage, onFailure: OnFailure): Transport {
    const ops = new ZmqChannel(this.conn.ops, (m, h) => this.onOps(m, h, onMessage), onFailure, this.options);
    this.ops = ops;
    // the channel itself, each batch numbered and kept until acknowledged, with a watchdog
    // started whenever a reply is awaited or a batch unacknowledged
    const log = this.log;
    return {
      send: (m) => {
        ops.send(m, log.record(m));
        if (!this.watchdog) this.startWatchdog();
        else if (this.pingOut === 0 && (log.unacked >= ACK_SOON_BATCHES || log.unackedBytes >= ACK_SOON_BYTES)) this.ping();
      },
      // a stream message (chunked bulk data): numbered and kept like a batch, so that one lost
      // in a dropped connection is sent again; on the wire [body, [batch, seen, ...header]]
      sendFrames: (header, body) => {
        ops.send(body, log.recordStream(body, decode(header) as unknown[]));
        if (!this.watchdog) this.startWatchdog();
      },
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
    const control = this.control;
    // requests are kept until answered: one lost in a dropped connection is sent again
    return {
      send: (m) => {
        this.controlOut.set((decode(m) as [number])[0], { msg: m, after: this.pingSerial });
        control.send(m);
        this.startWatchdog();
      },
      expect: (n) => control.expect(n),
      unexpect: (n) => control.unexpect(n),
      close: () => control.close(),
    };
  }

  /** Drop the connection (the runtime keeps the session for its grace period, then frees it). */
  kill(): void {
    this.lose(`this client dropped the connection (kill()); the runtime frees the session's tensors after ${this.conn.graceS} s`);
  }

  /** The runtime has run this session's SHUTDOWN: close the connection. */
  ended(): void {
    this.finish({ code: 0, signal: null, stderrTail: '' });
  }

  private onOps(m: Buffer, header: Buffer | undefined, onMessage: OnMessage): number | void | Promise<number> {
    // (only a one-frame message can be [GONE, reason]: a chunk's body may start with any bytes)
    if (header === undefined && isGoneNotice(m)) return this.gone(m);
    if (!this.handshaken) this.connectedOps(); // (in case its event was missed)
    if (header === undefined) return onMessage(m); // (a runtime that does not number its messages)
    const h = decode(header) as number[];
    const reply = h[0]!;
    // an unnumbered stream message (its kind is negative): handed on as (header, body)
    if (reply < 0) return onMessage(header, m);
    if (reply === 0) return this.onNotice(h[1]!, h[2]!, h[3] ?? 0);
    this.log.ack(h[1]!);
    // [reply, received, ...stream header]: a numbered stream message, handed on in its place
    const ready = this.log.accept<Received>(reply, h.length > 2 ? { header: encode(h.slice(2)), body: m } : m);
    if (ready.length === 0) {
      // a duplicate, or held: the ones before it on this connection came before it, so the
      // missing ones were lost (with an earlier connection): ask for them again
      this.askAgain(this.log.lostUpTo(reply - 1));
      return 0;
    }
    if (ready.length === 1) return handOnOne(ready[0]!, onMessage);
    return this.handOn(ready, 0, 0, onMessage);
  }

  /** Several reply messages in order (a gap filled), each handed on once the previous one is done. */
  private handOn(ready: Received[], from: number, total: number, onMessage: OnMessage): number | Promise<number> {
    for (let i = from; i < ready.length; i++) {
      const n = handOnOne(ready[i]!, onMessage);
      if (n instanceof Promise) return n.then((k) => this.handOn(ready, i + 1, total + k, onMessage));
      total += n ?? 1;
    }
    return total;
  }

  /**
   * [0, received, upTo, replied]: batches received+1..upTo did not arrive (lost in a dropped
   * connection): send them again; of the `replied` reply messages sent before the notice, those
   * not here now were lost: ask for them again. Answers our sync, if one is out (the reply it
   * was expected as).
   */
  private onNotice(received: number, upTo: number, replied: number): number {
    const ops = this.ops!;
    for (const [batch, payload] of this.log.missing(received, upTo)) ops.send(payload, this.log.header(batch));
    const answered = this.syncOut ? 1 : 0;
    this.syncOut = false;
    this.askAgain(this.log.lostUpTo(replied));
    return answered;
  }

  /** Ask for the reply messages after those seen up to `lost` (none: 0), once per progress or RESYNC_AFTER_MS. */
  private askAgain(lost: number): void {
    if (lost === 0) return;
    const t = performance.now();
    if (this.asked.seen === this.log.seen && t - this.asked.at < RESYNC_AFTER_MS) return;
    if (this.sync(false, lost)) this.asked = { seen: this.log.seen, at: t };
  }

  /**
   * A sync on the ops socket, behind every batch sent so far: the runtime answers with a notice
   * of the batches that did not arrive and of how many reply messages it had sent (onNotice).
   * With `repliesUpTo`, it first asks for the reply messages after those seen up to that one.
   * While one is out, another goes only `now` (after a silence: the first may have been lost
   * with its connection) or once the first is RESYNC_AFTER_MS old.
   */
  private sync(now = false, repliesUpTo = 0): boolean {
    const ops = this.ops;
    if (!ops || this.done) return false;
    const t = performance.now();
    if (this.syncOut && !now && t - this.syncAt < RESYNC_AFTER_MS) return false;
    if (!this.syncOut) {
      this.syncOut = true;
      ops.expect(); // its notice
    }
    this.syncAt = t;
    ops.send(EMPTY, this.log.syncHeader(repliesUpTo));
    return true;
  }

  /** A handshake succeeded (the check's, or a message came): no more connect timeout. */
  private connectedOps(): void {
    this.handshaken = true;
    clearTimeout(this.connectTimer);
    this.stopHandshakeCheck();
  }

  /** What the handshake check saw: a connection, a handshake that completed, or why not. */
  private onHandshakeNews(news: HandshakeNews): void {
    if (this.done) return;
    switch (news.type) {
      case 'connected':
        this.connected = true;
        return;
      case 'handshake':
        return this.connectedOps();
      case 'auth':
        return this.refuse(
          `the runtime refused this client's key (CURVE authentication failed): the client_public_key in ${this.conn.path} ` +
            'is not among its authorized keys (--keys DIR/authorized/). Use the connection file this runtime wrote.',
        );
      case 'protocol':
        return this.refuse(
          !news.code.includes('MECHANISM_MISMATCH')
            ? `the handshake failed (${news.code}).`
            : this.conn.serverPublicKey
              ? `the runtime does not use CURVE but ${this.conn.path} has keys: use the connection file this runtime wrote.`
              : `the runtime requires CURVE keys and ${this.conn.path} has none: use the connection file this runtime wrote (with its keys).`,
        );
      case 'other':
        return this.refuse(
          this.conn.serverPublicKey
            ? `the runtime dropped the connection during the CURVE handshake (${news.code}): the server_public_key in ` +
                `${this.conn.path} is not this runtime's, or its client key is not authorized (a stale connection file?).`
            : `the runtime dropped the connection during the handshake (${news.code}): it probably requires CURVE keys, and ` +
                `${this.conn.path} has none. Use the connection file this runtime wrote (with its keys).`,
        );
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
    this.lastHeard = performance.now();
    this.watchdog = setInterval(() => this.watch(), WATCH_EVERY_MS);
    this.watchdog.unref(); // the awaited replies keep Node alive meanwhile
  }

  /** Whether anything depends on the runtime hearing or answering us. */
  private outstanding(): boolean {
    return (this.ops?.awaiting ?? 0) > 0 || this.log.unacked > 0 || this.syncOut || this.controlOut.size > 0;
  }

  private watch(): void {
    if (!this.handshaken) return; // the connect timer covers that phase
    const now = performance.now();
    if (this.pingOut !== 0) {
      if (now - this.pingAt >= SILENT_AFTER_MS) {
        this.silent = true;
        void this.probe();
      }
      // Counted in ticks as well as time: after Node's own loop was blocked for a while, an
      // answer that came meanwhile is read after this tick, not before it.
      if (++this.pingTicks * WATCH_EVERY_MS >= this.silenceLimitMs && now - this.lastHeard > this.silenceLimitMs) {
        this.lose(
          `it has not answered for ${(this.silenceLimitMs / 1000).toFixed(1)} s, longer than it keeps the session of a client it ` +
            `does not hear from (its grace period, ${this.conn.graceS} s): it has freed this session's tensors, or it stopped, or the network is still down`,
        );
        return;
      }
      this.sendPing(); // the one out may have been lost with its connection
      return;
    }
    if (!this.outstanding()) {
      clearInterval(this.watchdog);
      this.watchdog = undefined;
      return;
    }
    this.ping();
  }

  /** A watchdog ping whose answer is awaited. */
  private ping(): void {
    this.pingOut = this.sendPing();
    this.pingAt = performance.now();
    this.pingTicks = 0;
    this.control.expect();
  }

  private sendPing(): number {
    const serial = ++this.pingSerial;
    this.pings.set(serial, this.log.sent);
    this.control.send(encode([-serial, CONTROL.PING, [this.log.sent, this.log.seen]]));
    return serial;
  }

  private onControl(m: Buffer): number | void | Promise<number> {
    const id = (decode(m) as [number])[0];
    if (id < 0) return this.onWatchAnswer(-id, (decode(m) as [number, number, WatchAnswer])[2]);
    if (!this.controlOut.delete(id)) return 0; // answered already (it was sent again)
    return this.controlHandlers ? this.controlHandlers.onMessage(m) : 1;
  }

  /** The runtime answered watchdog ping `serial`: what it has, or that our session is gone. */
  private onWatchAnswer(serial: number, v: WatchAnswer): number {
    let answered = 0;
    if (this.pingOut !== 0 && serial >= this.pingOut) {
      this.pingOut = 0;
      answered = 1; // the reply expected for it
    }
    const sentThen = this.pings.get(serial);
    if (sentThen === undefined) return answered; // older than one already answered
    for (const k of this.pings.keys()) if (k <= serial) this.pings.delete(k);
    this.lastHeard = performance.now();
    if (v.gone !== undefined) {
      // (before our HELLO was answered, the runtime may simply not have read it yet)
      if (this.log.seen > 0) this.lose(v.gone);
      return answered;
    }
    const received = v.received ?? 0;
    const replied = v.replied ?? 0;
    this.log.ack(received);
    // Control answers come in order: a request sent before this ping and not answered was lost.
    for (const r of this.controlOut.values()) {
      if (r.after < serial) {
        r.after = this.pingSerial;
        this.control.send(r.msg);
      }
    }
    // Batches or replies missing: after a silence at once, else when missing twice in a row with
    // no progress between (not merely in flight, or behind a long op).
    const batches = received < sentThen;
    const replies = replied > this.log.seen;
    const prev = this.lacked;
    const stalled = (batches && prev.batches && received === prev.received) || (replies && prev.replies && this.log.seen === prev.seen);
    if (this.silent && (batches || replies)) this.sync(true);
    else if (stalled) this.sync();
    this.silent = false;
    this.lacked = { batches, replies, received, seen: this.log.seen };
    return answered;
  }

  /**
   * While the runtime does not answer: does anything still listen at its address? A refused
   * connection means it stopped (its session with it); a connection made, or one that does not
   * complete, may be a network that drops or is down, which the session outlives for a while.
   */
  private async probe(): Promise<void> {
    if (this.probing || this.done || performance.now() - this.probedAt < PROBE_EVERY_MS) return;
    this.probing = true;
    this.probedAt = performance.now();
    try {
      const refused = await refusedAt(this.conn.ops, PROBE_TIMEOUT_MS);
      if (refused && this.pingOut !== 0) {
        this.lose(`nothing listens at ${this.conn.ops} any more (${refused}): the runtime stopped`);
      }
    } finally {
      this.probing = false;
    }
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
    this.controlOut.clear();
    this.stopHandshakeCheck();
    clearTimeout(this.connectTimer);
    clearInterval(this.keepalive);
    clearInterval(this.watchdog);
    this.ops?.close();
    this.control.close();
    this.onExit(info);
  }
}

/** A numbered message from the runtime, in order: a reply message, or a stream message's parts. */
type Received = Buffer | { header: Buffer; body: Buffer };

function handOnOne(r: Received, onMessage: OnMessage): number | void | Promise<number> {
  return Buffer.isBuffer(r) ? onMessage(r) : onMessage(r.header, r.body);
}

/** msgpack [-1, ...]: fixarray(2), then negative fixint -1; a reply batch starts with a count >= 0. */
function isGoneNotice(m: Buffer): boolean {
  return m.length > 2 && m[0] === 0x92 && m[1] === 0xff;
}
