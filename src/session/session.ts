/**
 * A session is one runtime process plus the pipeline to it: client-assigned handle ids, an
 * outbox flushed as one message per event-loop turn (or at a sync point, a size cap, an age
 * cap, or at once when the runtime has nothing to do), replies matched to requests, and loud
 * failure when the runtime dies.
 */
import { randomBytes } from 'node:crypto';
import type { ChildTransport, Transport } from '../transport/transport.js';
import { Handle, decode, encode } from '../transport/codec.js';
import { CHUNK_BYTES, CONTROL, HELPER, INLINE_MAX_BYTES, OP, PROTOCOL_VERSION, READ, STATUS, STREAM, WINDOW_BYTES } from '../transport/protocol.js';
import type { DType } from '../tensor/dtype.js';
import { Uploads, type UploadState } from './uploads.js';
import { Downloads } from './downloads.js';
import { RuntimeProcess } from '../runtime/process.js';
import { RemoteLink } from '../runtime/remote.js';
import type { ExitInfo, RuntimeLink } from '../runtime/link.js';
import {
  ArgumentError,
  MirrorMismatchError,
  RuntimeConnectError,
  RuntimeDiedError,
  RuntimeLostError,
  RuntimeStartError,
  TorchBridgeError,
  TorchError,
  type PythonErrorInfo,
} from '../errors.js';
import { callsiteOf, recordCallsite } from './callsites.js';
import { sessionPrefix, sweep, sweepStale } from '../memory/shm.js';
import { dropProbe, makeProbe, type ShmProbe } from '../memory/shm_probe.js';
import { checkArg, checkKwargs, checkScalar, salvageBatch } from './unsendable.js';
import { pythonPathOf } from '../py/python_path.js';

/**
 * A tensor's bytes on the wire: inline (in chunks, after the op, where a served runtime gets
 * more than INLINE_MAX_BYTES), or a shared segment [name, byte length, keep (0 | 1), byte offset].
 */
export type DataPayload = Uint8Array | [string, number, number, number];

/** What a READ asks for: item, tolist, data, str, metadata... */
export type ReadKind = (typeof READ)[keyof typeof READ];

export interface RuntimeInfo {
  pid: number;
  python: string;
  python_version: string;
  torch_version: string;
  cuda_available: boolean;
  device_count: number;
  protocol: number;
  /** the runtime's own helpers (protocol.json's list), checked against this client's at start */
  helpers: string[];
  session: string;
  /** a served runtime: whether it maps this client's shared memory (else data travels inline) */
  shm?: boolean;
  served?: boolean;
}

export interface SessionOptions {
  /** Python executable to run the runtime with (default: TORCHBRIDGE_PYTHON, then the setup venv). */
  python?: string;
  /** How a child runtime is reached: 'socket' (a Unix socket pair, the default) or 'zmq' (TORCHBRIDGE_TRANSPORT). */
  transport?: ChildTransport;
  /**
   * Connect to a runtime served on its own (`torchbridge-runtime serve`) through the connection
   * file it wrote, instead of starting a child (default: TORCHBRIDGE_CONNECT).
   */
  connect?: string;
  /**
   * A served runtime: false sends all bulk data inline in messages, never through shared
   * memory (by default shared memory is used where a probe at connect time shows it works).
   */
  shm?: boolean;
  /**
   * Directories put first on the runtime's sys.path (relative ones against this process's
   * cwd), before TORCHBRIDGE_PYTHONPATH's: where `torch.py.import` finds the user's own
   * Python packages (see src/py/python_path.ts).
   */
  pythonPath?: string[];
}

interface Waiter {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/** Flush without waiting for the event-loop turn once this many ops are queued... */
const OUTBOX_CAP = 512;
/**
 * ...or once the oldest queued op has waited this long (ms): a loop that queues heavy ops (a
 * training step) keeps the runtime busy while it queues the next ones, instead of leaving it
 * idle until the next sync point. After the runtime was idle the wait starts short and doubles
 * with each message, up to OUTBOX_AGE_MS: work reaches it at once, and once it has a backlog
 * fewer, larger messages (each costs it ~10-20 µs) keep it busy.
 */
const OUTBOX_AGE_MS = 0.2;
const FIRST_AGE_MS = 0.025;

/** Called for each TorchError a reply makes (torch.py attaches err.pyException: src/py/exceptions.ts). */
export const torchErrorHooks: Array<(s: Session, err: TorchError, info: PythonErrorInfo) => void> = [];

export class Session {
  readonly id = randomBytes(4).toString('hex');
  readonly shmPrefix = sessionPrefix(this.id);
  /** Resolves with the runtime's info once it has answered the handshake. */
  readonly ready: Promise<RuntimeInfo>;
  info: RuntimeInfo | undefined;
  /**
   * Bulk data may go through shared memory: always with a child runtime; with a served one
   * once the handshake's probe showed that it maps our segments (until then, inline).
   */
  shm: boolean;

  private readonly proc: RuntimeLink;
  private readonly channel: Transport;
  /** bulk data in chunks (a served runtime: python/torchbridge_runtime/protocol.py) */
  private readonly uploads: Uploads | undefined;
  private readonly downloads: Downloads | undefined;
  /** chunks handled since the reader last let the event loop turn */
  private chunksInTurn = 0;
  private control: Transport | undefined;
  private outbox: unknown[] = [];
  private flushScheduled = false;
  /** when the outbox's first op was queued, and how long it may wait */
  private outboxSince = 0;
  private outboxAge = OUTBOX_AGE_MS;
  /**
   * The runtime has run every op sent (a reply message says how many ops it has run): the
   * next op goes out at once rather than waiting for the turn to end. Only a hint for when to
   * flush: wrong, it costs time, never order or correctness.
   */
  private runtimeIdle = false;
  /** ops sent so far */
  private sentSeq = 0;
  private seq = 0;
  private nextHandle = 1;
  private nextReply = 1;
  private readonly waiters = new Map<number, Waiter>();
  private readonly controlWaiters = new Map<number, Waiter>();
  private failure: TorchBridgeError | undefined;
  private readonly exited: Promise<ExitInfo>;
  /** @internal the GC backstop for this session's handles (see memory/lifetime.ts) */
  finalizer: FinalizationRegistry<number> | undefined;
  /** Listeners told when the session ends (death or shutdown). */
  readonly onEnd: Array<() => void> = [];
  /** @internal what the runtime asks of the client (a TS callback's call, releases): src/py/callbacks.ts */
  onRequest: ((id: number, status: number, value: unknown) => void) | undefined;
  /**
   * @internal while Python waits on TS callbacks (src/py/callbacks.ts): sees each op before it is
   * queued, and returns true for one it holds back to queue later (through queueOp).
   */
  intercept: ((op: unknown[], mayFail: boolean) => boolean) | null = null;

  constructor(opts: SessionOptions = {}) {
    sweepStale();
    const pythonPath = pythonPathOf(opts.pythonPath); // checked before a runtime starts
    let exitedResolve!: (i: ExitInfo) => void;
    this.exited = new Promise((r) => (exitedResolve = r));
    const onExit = (info: ExitInfo): void => {
      exitedResolve(info);
      this.die(info);
    };
    // TORCHBRIDGE_CONNECT is a default: an explicit child option (python, transport) wins over it
    const child = opts.python !== undefined || opts.transport !== undefined;
    const connect = opts.connect ?? (child ? undefined : process.env.TORCHBRIDGE_CONNECT);
    let probe: ShmProbe | null = null;
    if (connect) {
      if (child) {
        throw new ArgumentError('torch.init(): `connect` reaches a served runtime; `python` and `transport` start a child runtime. Give one or the other.');
      }
      this.proc = new RemoteLink({ connect, session: this.id }, onExit);
      this.shm = false;
      probe = opts.shm === false ? null : makeProbe(this.shmPrefix);
    } else {
      this.proc = new RuntimeProcess({ python: opts.python, transport: opts.transport, session: this.id, shmPrefix: this.shmPrefix }, onExit);
      this.shm = true;
    }
    this.channel = this.proc.openOps((m, body) => (body === undefined ? this.onReplies(m) : this.onStream(m, body)), (e) => this.dieOfTransport(e));
    const sendFrames = this.channel.sendFrames?.bind(this.channel);
    if (connect && sendFrames) {
      this.uploads = new Uploads(sendFrames);
      this.downloads = new Downloads(sendFrames);
    }
    // A served runtime is told our shm prefix (its segments for us are named with it) and the probe.
    const hello = connect ? (id: number) => [OP.HELLO, id, this.id, this.shmPrefix, probe] : (id: number) => [OP.HELLO, id, this.id];
    this.ready = this.request(hello).then((v) => {
      const info = v as RuntimeInfo;
      if (info.protocol !== PROTOCOL_VERSION) {
        throw new RuntimeStartError(`runtime speaks protocol ${info.protocol}, this client ${PROTOCOL_VERSION}`);
      }
      // the runtime's helpers are the ones this client names (both read protocol.json's list)
      const missing = Object.keys(HELPER).filter((h) => !info.helpers?.includes(h));
      if (missing.length) throw new RuntimeStartError(`the runtime (${info.python}) lacks the helpers ${missing.join(', ')}: it is another version of torchbridge's runtime`);
      if (connect) {
        this.shm = info.shm === true;
        dropProbe(probe);
      }
      this.info = info;
      return info;
    });
    this.ready.catch(() => {}); // surfaced to whoever awaits it, or through the next read
    if (pythonPath.length > 0) this.call(null, HELPER.sys_path, [pythonPath], null, 0, true);
  }

  get alive(): boolean {
    return this.failure === undefined;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Throws the reason this session can no longer be used. */
  assertAlive(): void {
    if (this.failure) throw this.failure;
  }

  newHandle(): number {
    return this.nextHandle++;
  }

  /** Queue an op (the wire format is written in this file alone); returns its sequence number. */
  private enqueue(op: unknown[], mayFail = false, eager = true, site?: Error): number {
    if (this.failure) throw this.failure;
    if (this.intercept !== null && this.intercept(op, mayFail)) return -1;
    const seq = this.seq++;
    recordCallsite(seq, mayFail, site);
    const n = this.outbox.push(op);
    // frees are never urgent: they do not wake an idle runtime; nor is an op whose read is
    // likely to follow in this turn (eager=false: it goes out with the read, one message)
    if (this.runtimeIdle && eager && op[0] !== OP.FREE) {
      this.outboxAge = FIRST_AGE_MS;
      this.flush();
    } else if (n === 1) {
      this.outboxSince = performance.now();
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flushSoon);
      }
    } else if (n >= OUTBOX_CAP || performance.now() - this.outboxSince >= this.outboxAge) {
      this.outboxAge = Math.min(2 * this.outboxAge, OUTBOX_AGE_MS);
      this.flush();
    }
    return seq;
  }

  private readonly flushSoon = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  /**
   * Queue a torch call: [CALL, outs, name, args, kwargs, replyId, refMask, nested]. Tensors at
   * the top level of args travel as plain ids flagged in refMask (the runtime's fast path);
   * tensors nested deeper travel as REF extensions and set `nested`.
   */
  call(outs: number | number[] | null, name: string, args: unknown[], kwargs: Record<string, unknown> | null, replyId = 0, mayFail = false, eager = true): number {
    const n = args.length;
    const wire = args as unknown[]; // callers pass an array they own: converted in place
    let mask = 0;
    let nested = 0;
    // What msgpack cannot carry is refused here, at the call (see unsendable.ts), while the
    // arguments are walked anyway: queued, it would fail the whole batch at a later flush.
    try {
      for (let i = 0; i < n; i++) {
        const a = args[i];
        if (a instanceof Handle && i < 31) {
          wire[i] = a.id;
          mask |= 1 << i;
        } else if (typeof a === 'number') {
          if (a > 0xffffffff || a < -0x80000000) wire[i] = pyNumber(a);
        } else if (typeof a === 'object' && a !== null) {
          if (checkArg(a, this, name, i)) nested = 1; // one walk: sendable? holds handles?
          if (Array.isArray(a)) wire[i] = pyNumbers(a);
        } else if (typeof a === 'bigint' || typeof a === 'symbol' || typeof a === 'function') {
          checkScalar(a, name, i);
        }
      }
      if (kwargs !== null) {
        checkKwargs(kwargs, this, name);
        kwargs = pyNumbers(kwargs);
      }
    } catch (e) {
      if (replyId !== 0) this.abandon(replyId, e as Error); // nothing was queued: its waiter settles now
      throw e;
    }
    return this.enqueue([OP.CALL, outs, name, wire, kwargs, replyId, mask, nested], mayFail, eager);
  }

  /** @internal queue an op now, past `intercept` (src/py/callbacks.ts); `site`: the call site recorded when it was first queued */
  queueOp(op: unknown[], mayFail = false, site?: Error): void {
    const intercept = this.intercept;
    this.intercept = null;
    try {
      this.enqueue(op, mayFail, true, site);
    } finally {
      this.intercept = intercept;
    }
  }

  /**
   * Free a handle, in order with the ops queued so far (so a later read or memory() sees it
   * gone). Consecutive frees share one FREE op.
   */
  free(id: number): void {
    if (this.failure) return;
    const last = this.outbox[this.outbox.length - 1] as unknown[] | undefined;
    if (last !== undefined && last[0] === OP.FREE && this.intercept === null) (last[1] as number[]).push(id);
    else this.enqueue([OP.FREE, [id]]);
  }

  flush(): void {
    if (this.failure) return;
    if (this.outbox.length === 0) return;
    const batch = this.outbox;
    this.outbox = [];
    this.sentSeq = this.seq;
    this.runtimeIdle = false;
    let msg: Buffer;
    try {
      msg = encode(batch);
    } catch {
      msg = encode(salvageBatch(batch as unknown[][])); // only the op msgpack refuses is lost, as its error
    }
    this.channel.send(msg);
  }

  /**
   * Read a handle: its value as `what` says (item, tolist, data, str, metadata, a converted
   * Python value). A sync point: flushes the outbox and awaits the runtime's answer.
   */
  read(id: number, what: ReadKind, signal?: AbortSignal): Promise<unknown> {
    return this.request((r) => [OP.READ, r, id, what], false, signal);
  }

  /**
   * A tensor made from bytes, queued like an op: `payload` is the bytes themselves (inline) or
   * [segment name, byte length, keep, byte offset] for shared memory (keep: a client shared
   * array that tensors alias); `kwargs` may convert it (dtype, device, requires_grad).
   */
  fromData(out: number, dtype: DType, shape: readonly number[], payload: DataPayload, kwargs: Record<string, unknown> | null, mayFail = false): void {
    if (this.uploads !== undefined && payload instanceof Uint8Array && payload.byteLength > INLINE_MAX_BYTES) {
      // too large for one message: the op names a stream (its out id) whose chunks follow
      this.enqueue([OP.FROM_DATA, out, dtype, shape, [out, pyNumber(payload.byteLength)], kwargs], mayFail);
      this.uploads.start(out, payload);
      this.channel.expect(); // the upload's last credit (or STOP)
      return;
    }
    this.enqueue([OP.FROM_DATA, out, dtype, shape, payload, kwargs], mayFail);
  }

  /** @internal chunked transfers in progress (tests, benchmarks) */
  transfers(): { uploads: UploadState; downloading: number } | undefined {
    if (this.uploads === undefined || this.downloads === undefined) return undefined;
    return { uploads: this.uploads.state, downloading: this.downloads.receiving };
  }

  /** The runtime may unmap these shared segments (their JS arrays were collected). */
  releaseShared(names: string[]): void {
    this.enqueue([OP.RELEASE_SHM, names]);
  }

  /** Queue an op that expects a reply, flush, and await the reply (or the signal's abort). */
  private request(make: (replyId: number) => unknown[], mayFail = false, signal?: AbortSignal): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextReply++;
    this.enqueue(make(id), mayFail); // before the waiter: should it throw, no waiter is left behind
    const p = new Promise<unknown>((resolve, reject) => this.waiters.set(id, { resolve, reject }));
    this.channel.expect();
    this.flush();
    // Replies come in op order: any strict-mode verdict on earlier ops has arrived by now.
    const read = p.then((v) => {
      this.throwMirrorMismatches();
      return v;
    });
    return signal ? this.abortable(read, signal) : read;
  }

  /**
   * `p`, or its signal's reason once aborted; aborting interrupts the runtime (the op running
   * and what was queued before). `p` still settles later, observed, as the runtime answers.
   */
  abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        this.interrupt().catch(() => {}); // a dead runtime has nothing left to stop
        reject(signal.reason);
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  private mismatches: string[] = [];

  /** Strict mode: the mirror disagreed with torch about an op's result. */
  mirrorMismatch(what: string): void {
    this.mismatches.push(what);
  }

  private throwMirrorMismatches(): void {
    if (this.mismatches.length === 0) return;
    // the same disagreement repeated in a loop is listed once, with its count
    const counts = new Map<string, number>();
    for (const m of this.mismatches) counts.set(m, (counts.get(m) ?? 0) + 1);
    this.mismatches = [];
    const lines = [...counts].map(([m, n]) => (n > 1 ? `${m} (${n} times)` : m));
    throw new MirrorMismatchError(`the local mirror disagreed with torch (strict mode):\n  ${lines.join('\n  ')}`);
  }

  /** Register a reply id for an op queued with enqueue() (e.g. pending metadata). */
  expectReply(): { id: number; promise: Promise<unknown> } {
    const id = this.nextReply++;
    const promise = new Promise<unknown>((resolve, reject) => this.waiters.set(id, { resolve, reject }));
    promise.catch(() => {}); // its users handle the error; a rejection none of them takes must not crash Node
    this.channel.expect();
    return { id, promise };
  }

  /** A reply that will not come (its op was refused before it was queued): settle its waiter now. */
  private abandon(id: number, err: Error): void {
    const w = this.waiters.get(id);
    if (w === undefined) return;
    this.waiters.delete(id);
    this.channel.unexpect();
    w.reject(err);
  }

  /**
   * A message holds every reply one op batch produced, in op order, and how many ops the
   * runtime has run: [ran, [[id, status, value], ...]].
   */
  private onReplies(msg: Buffer): number | Promise<number> {
    const m = decode(msg) as [number, [number, number, unknown][]] | [number, number, unknown];
    // a lone [id, status, value]: a runtime of protocol 1, which the handshake then refuses
    if (!Array.isArray(m[1])) {
      this.settle(m[0], m[1], m[2]);
      return 1;
    }
    // everything sent has run: what is queued goes now, what comes next goes at once
    this.runtimeIdle = m[0] === this.sentSeq;
    if (this.runtimeIdle && this.outbox.length > 0) this.flush();
    const list = m[1];
    if (list.length === 1) {
      const [id, status, value] = list[0]!;
      this.settle(id, status, value);
      return status > STATUS.ERROR ? 0 : 1; // a request from the runtime is no awaited reply
    }
    return this.settleInTurn(list);
  }

  /**
   * Several replies in one message: the earlier ones (pending metadata, strict verdicts) settle
   * first and their callbacks run to the end before the last one (usually the read or sync that
   * flushed the batch) settles, as when each came in a message of its own; the channel reads
   * the next message only then.
   */
  private async settleInTurn(list: [number, number, unknown][]): Promise<number> {
    const last = list.length - 1;
    for (let i = 0; i < last; i++) this.settle(list[i]![0], list[i]![1], list[i]![2]);
    await new Promise((r) => setImmediate(r));
    this.settle(list[last]![0], list[last]![1], list[last]![2]);
    let requests = 0; // (not awaited replies: see settle)
    for (const r of list) if (r[1] > STATUS.ERROR) requests++;
    return list.length - requests;
  }

  private settle(id: number, status: number, value: unknown): void {
    if (status > STATUS.ERROR) {
      this.onRequest?.(id, status, value); // STATUS.CALLBACK, STATUS.RELEASE: ids of their own
      return;
    }
    const w = this.waiters.get(id);
    this.waiters.delete(id);
    if (this.downloads !== undefined) {
      try {
        value = this.downloads.finish(id, status === STATUS.OK, value); // (its chunks are done with either way)
      } catch (e) {
        w?.reject(e as Error);
        return;
      }
    }
    if (!w) return;
    if (status === STATUS.OK) w.resolve(value);
    else w.reject(this.toTorchError(value as PythonErrorInfo));
  }

  /**
   * A two-frame message: a chunk of a read's data (copied and credited), or the runtime's
   * credit or STOP for an upload (which ends it: one awaited reply).
   */
  private onStream(header: Buffer, body: Buffer): number | Promise<number> {
    const [kind, stream, a, total] = decode(header) as [number, number, number, number];
    if (kind === STREAM.CHUNK) {
      this.downloads!.chunk(stream, a, total, body);
      // chunks that are already queued are read without the event loop turning: let it turn
      // once a window (timers, the control channel's replies)
      if (++this.chunksInTurn * CHUNK_BYTES < WINDOW_BYTES) return 0;
      this.chunksInTurn = 0;
      return new Promise((r) => setImmediate(() => r(0)));
    }
    if (kind === STREAM.CREDIT) return this.uploads!.credit(stream, a);
    if (kind === STREAM.STOP) return this.uploads!.stop(stream);
    return 0;
  }

  toTorchError(info: PythonErrorInfo): TorchError {
    const err = new TorchError(info, callsiteOf(info.seq));
    for (const hook of torchErrorHooks) hook(this, err, info);
    return err;
  }

  /** Wait until every queued op has run; throws the first error not yet reported. */
  async sync(signal?: AbortSignal): Promise<void> {
    await this.request((id) => [OP.SYNC, id], false, signal);
  }

  async stats(): Promise<{ handles: number; tensors: number; bytes: number; shared_bytes: number; seq: number; callbacks: number }> {
    return (await this.request((id) => [OP.STATS, id])) as never;
  }

  /** Control channel: answered by its own runtime thread, never queued behind ops. */
  controlRequest(cmd: string, arg?: unknown): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.control) {
      this.control = this.proc.openControl(
        (m) => {
          const [id, , value] = decode(m) as [number, number, unknown];
          const w = this.controlWaiters.get(id);
          this.controlWaiters.delete(id);
          w?.resolve(value);
        },
        (e) => this.dieOfTransport(e),
      );
    }
    const id = this.nextReply++;
    const p = new Promise<unknown>((resolve, reject) => this.controlWaiters.set(id, { resolve, reject }));
    this.control.expect();
    this.control.send(encode(arg === undefined ? [id, cmd] : [id, cmd, arg]));
    return p;
  }

  ping(): Promise<unknown> {
    return this.controlRequest(CONTROL.PING);
  }

  /**
   * Stop the op running now and every op queued before this call (they fail with Python's
   * KeyboardInterrupt at the next read); ops queued after it run as usual. Resolves with
   * whether an op was running.
   */
  async interrupt(): Promise<boolean> {
    this.flush(); // what was queued before the call is what it stops
    const r = (await this.controlRequest(CONTROL.INTERRUPT, this.seq)) as { interrupted: boolean };
    return r.interrupted;
  }

  /** Run every queued op, then stop the runtime and wait for it to exit. */
  async shutdown(timeoutMs = 5000): Promise<void> {
    if (this.failure) return;
    try {
      await this.request((id) => [OP.SHUTDOWN, id]);
    } catch {
      /* an error from an earlier op is not a reason to keep the runtime */
    }
    this.ending = true;
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    this.proc.ended?.();
    await this.exited;
    clearTimeout(timer);
  }

  private ending = false;

  /** Kill the runtime process (tests, or a hung runtime). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.proc.kill(signal);
  }

  private die(info: ExitInfo): void {
    if (this.failure === undefined) {
      if (info.connectProblem) {
        this.failure = new RuntimeConnectError(info.connectProblem);
      } else if (info.startProblem) {
        this.failure = new RuntimeStartError(info.startProblem + (info.stderrTail ? `\n${info.stderrTail}` : ''));
      } else if (this.ending) {
        this.failure = new TorchBridgeError(
          this.proc instanceof RemoteLink
            ? "this session of the served torchbridge runtime was shut down; call torch.init() to connect again"
            : 'the torchbridge runtime was shut down; call torch.init() to start a new one',
        );
      } else if (info.lost !== undefined) {
        const again = info.lost.includes('torch.init()') ? '' : ' Call torch.init() to connect again (a new session).';
        this.failure = new RuntimeLostError(`${info.lost}; this session's tensors are out of reach.${again}`);
      } else {
        const how = info.signal ? `killed by ${info.signal}` : `exited with code ${info.code}`;
        const tail = info.stderrTail ? `\nLast runtime stderr:\n${info.stderrTail}` : '';
        this.failure = new RuntimeDiedError(
          `the torchbridge runtime (pid ${this.proc.pid}) ${how}; its tensors are gone. Call torch.init() to start a fresh runtime.${tail}`,
          info.code,
          info.signal,
          info.stderrTail,
        );
      }
    }
    const err = this.failure;
    for (const w of [...this.waiters.values(), ...this.controlWaiters.values()]) w.reject(err);
    this.waiters.clear();
    this.controlWaiters.clear();
    this.outbox = [];
    this.uploads?.clear();
    this.downloads?.clear();
    this.channel.close();
    this.control?.close();
    sweep(this.shmPrefix);
    for (const f of this.onEnd) f();
  }

  private dieOfTransport(err: Error): void {
    if (this.failure) return;
    this.failure = new TorchBridgeError(`torchbridge transport failed: ${err.message}`);
    this.proc.kill('SIGKILL');
  }
}

/**
 * msgpackr writes every number outside the 32-bit range as a float64, but a whole JS number
 * below 2^53 stands for a Python int (the mirror assumes so): send those as int64 (BigInt).
 */
function pyNumber(v: number): number | bigint {
  return Number.isSafeInteger(v) ? BigInt(v) : v;
}

function isWide(v: unknown): boolean {
  return typeof v === 'number' && (v > 0xffffffff || v < -0x80000000) && Number.isSafeInteger(v);
}

/** The same container with wide ints as BigInt (copied only when it holds one). */
function pyNumbers<T>(v: T): T {
  if (Array.isArray(v)) {
    if (!v.some((x) => isWide(x) || Array.isArray(x))) return v;
    return v.map((x) => (isWide(x) ? BigInt(x) : Array.isArray(x) ? pyNumbers(x) : x)) as T;
  }
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const o = v as Record<string, unknown>;
    let copy: Record<string, unknown> | undefined;
    for (const k in o) {
      const x = o[k];
      const y = isWide(x) ? BigInt(x as number) : Array.isArray(x) ? pyNumbers(x) : x;
      if (y !== x) (copy ??= { ...o })[k] = y;
    }
    return (copy ?? o) as T;
  }
  return v;
}
