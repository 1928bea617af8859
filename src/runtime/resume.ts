/**
 * A served session's books for surviving a dropped connection, on the client's side (DESIGN §1;
 * the wire is described in python/torchbridge_runtime/protocol.py, the runtime's side is
 * resume.py there). ZeroMQ reconnects by itself but loses what was in flight, so:
 *
 * - every batch gets a number (1, 2, ...) and is kept until the runtime says it has arrived
 *   (`received`, carried by every reply message, notice and watchdog answer);
 * - reply messages, numbered by the runtime, are handed on once each and in order: a duplicate
 *   is dropped, one that arrives after a gap is held until the gap is filled; what has been
 *   handed on (`seen`) rides on every batch, sync and ping, so the runtime can let go of it.
 *
 * Stream messages (chunks, credits) are numbered with the batches and replies: recordStream keeps
 * a chunk's body (a view of the caller's array, no copy) and its stream header for a resend.
 *
 * Only the books: RemoteLink (remote.ts) decides when to ask and what to send again. The cost
 * per batch is a counter, an array push and an 11-byte header.
 */
import { encode } from '../transport/codec.js';

export class ResendLog {
  /** batches sent, numbered 1..sent */
  sent = 0;
  /** the runtime has every batch up to this one */
  received = 0;
  /** batches received+1..sent, oldest first, from index `head` */
  private kept: Buffer[] = [];
  private head = 0;
  private keptBytesNow = 0;
  /** reply messages handed on, numbered 1..seen */
  seen = 0;
  /** the stream header of each kept batch that is a stream message (chunked bulk data) */
  private readonly streams = new Map<number, unknown[]>();
  /** reply messages that arrived after a gap, by number */
  private readonly held = new Map<number, unknown>();

  /** Number a batch and keep it until acknowledged; returns its header frame. */
  record(payload: Buffer): Buffer {
    this.kept.push(payload);
    this.keptBytesNow += payload.length;
    return header2(++this.sent, this.seen);
  }

  /**
   * Number a stream message (a chunk, credit or STOP) like a batch and keep it until
   * acknowledged; returns its header frame, [batch, seen, ...stream header].
   */
  recordStream(body: Buffer, stream: unknown[]): Buffer {
    this.kept.push(body);
    this.keptBytesNow += body.length;
    this.streams.set(++this.sent, stream);
    return encode([this.sent, this.seen, ...stream]);
  }

  /** The header frame of a batch sent again (with what has been seen now). */
  header(batch: number): Buffer {
    const stream = this.streams.get(batch);
    return stream === undefined ? header2(batch, this.seen) : encode([batch, this.seen, ...stream]);
  }

  /**
   * The header frame of a sync: "I have sent `sent` batches and seen `seen` reply messages"
   * (and, with `again` beyond seen, "send the reply messages up to `again` again").
   */
  syncHeader(again = 0): Buffer {
    return encode(again > this.seen ? [0, this.seen, this.sent, again] : [0, this.seen, this.sent]);
  }

  /** Batches not yet acknowledged, and their bytes. */
  get unacked(): number {
    return this.sent - this.received;
  }
  get unackedBytes(): number {
    return this.keptBytesNow;
  }

  /** The runtime has every batch up to `received`: let go of them. (Older news is ignored.) */
  ack(received: number): void {
    if (!(received > this.received)) return;
    const n = Math.min(received, this.sent) - this.received;
    for (let i = 0; i < n; i++) {
      if (this.streams.size > 0) this.streams.delete(this.received + i + 1);
      this.keptBytesNow -= this.kept[this.head]!.length;
      this.kept[this.head++] = undefined as unknown as Buffer; // (let it be collected now)
    }
    this.received += n;
    if (this.head > 1024 && this.head * 2 > this.kept.length) {
      this.kept = this.kept.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * The batches after `received` up to `upTo` that are still kept, to send again. (A notice may
   * be older than an acknowledgement that came by another way: what was acknowledged since is
   * not sent again.)
   */
  missing(received: number, upTo: number): Array<[number, Buffer]> {
    this.ack(received);
    const out: Array<[number, Buffer]> = [];
    const last = Math.min(upTo, this.sent);
    for (let b = this.received + 1; b <= last; b++) out.push([b, this.kept[this.head + b - this.received - 1]!]);
    return out;
  }

  /**
   * A reply message numbered `reply` arrived: the messages to hand on now, in order (none for a
   * duplicate, or for one held after a gap).
   */
  accept<T>(reply: number, payload: T): T[] {
    if (reply <= this.seen || this.held.has(reply)) return [];
    if (reply !== this.seen + 1) {
      this.held.set(reply, payload);
      return [];
    }
    this.seen = reply;
    if (this.held.size === 0) return [payload];
    const ready = [payload];
    for (let next = this.held.get(this.seen + 1) as T | undefined; next !== undefined; next = this.held.get(this.seen + 1) as T | undefined) {
      this.held.delete(++this.seen);
      ready.push(next);
    }
    return ready;
  }

  /**
   * The reply messages up to `replied` (all sent before something that has arrived since, on
   * the same connection) that did not arrive: the last of the first run of them after `seen`,
   * or 0 when none is missing.
   */
  lostUpTo(replied: number): number {
    if (replied <= this.seen) return 0;
    let first = Infinity;
    for (const n of this.held.keys()) first = Math.min(first, n);
    return Math.min(replied, first - 1);
  }
}

/** msgpack [a, b] with two uint32s (fixed width: no branching on size), else the codec's. */
function header2(a: number, b: number): Buffer {
  if (a > 0xffffffff || b > 0xffffffff) return encode([a, b]);
  const h = Buffer.allocUnsafe(11);
  h[0] = 0x92;
  h[1] = 0xce;
  h.writeUInt32BE(a, 2);
  h[6] = 0xce;
  h.writeUInt32BE(b, 7);
  return h;
}
