/**
 * Uploads in chunks, for a served runtime that cannot map this process's shared memory (the
 * wire format and flow control are in python/torchbridge_runtime/protocol.py, "Chunked bulk
 * data"). Each upload goes out as CHUNK messages in order, oldest upload first, with at most a
 * window of bytes sent and not yet credited: ZeroMQ's send queue is unbounded, so this window is
 * what bounds the memory in flight. Chunks are views of the caller's bytes (no copy).
 */
import { encode } from '../transport/codec.js';
import { CHUNK_BYTES, STREAM, WINDOW_BYTES } from '../transport/protocol.js';

interface Upload {
  stream: number;
  /** the bytes still to send (dropped once all are sent) */
  bytes: Uint8Array | undefined;
  total: number;
  sent: number;
  credited: number;
}

export interface UploadState {
  /** uploads not yet credited in full */
  open: number;
  /** bytes sent and not yet credited */
  inflight: number;
  /** bytes sent since the session began */
  sent: number;
  /** bytes credited since the session began */
  credited: number;
}

export class Uploads {
  /** uploads with chunks left to send, oldest first */
  private readonly queue: Upload[] = [];
  private readonly open = new Map<number, Upload>();
  private inflight = 0;
  private sentTotal = 0;
  private creditedTotal = 0;

  constructor(
    /** a two-frame message to the runtime */
    private readonly send: (header: Buffer, body: Buffer) => void,
    private readonly window = WINDOW_BYTES,
    private readonly chunk = CHUNK_BYTES,
  ) {}

  /** Send `bytes` as stream `stream`; its end (credit or STOP) is one awaited reply. */
  start(stream: number, bytes: Uint8Array): void {
    const u: Upload = { stream, bytes, total: bytes.byteLength, sent: 0, credited: 0 };
    this.open.set(stream, u);
    this.queue.push(u);
    this.pump();
  }

  /** The runtime has copied `received` bytes of `stream`: 1 when that ends the upload, else 0. */
  credit(stream: number, received: number): number {
    const u = this.open.get(stream);
    if (u === undefined || received <= u.credited) return 0;
    this.inflight -= received - u.credited;
    this.creditedTotal += received - u.credited;
    u.credited = received;
    const done = received >= u.total;
    if (done) this.open.delete(stream);
    this.pump();
    return done ? 1 : 0;
  }

  /** The runtime wants no more of `stream` (its op was interrupted): 1 if that ends an upload. */
  stop(stream: number): number {
    const u = this.open.get(stream);
    if (u === undefined) return 0;
    this.open.delete(stream);
    this.inflight -= u.sent - u.credited;
    const i = this.queue.indexOf(u);
    if (i >= 0) this.queue.splice(i, 1);
    u.bytes = undefined;
    this.pump();
    return 1;
  }

  get state(): UploadState {
    return { open: this.open.size, inflight: this.inflight, sent: this.sentTotal, credited: this.creditedTotal };
  }

  /** The session ended: nothing more goes out. */
  clear(): void {
    this.queue.length = 0;
    this.open.clear();
    this.inflight = 0;
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inflight < this.window) {
      const u = this.queue[0]!;
      const bytes = u.bytes!;
      const n = Math.min(this.chunk, u.total - u.sent);
      const body = Buffer.from(bytes.buffer, bytes.byteOffset + u.sent, n);
      this.send(encode([STREAM.CHUNK, u.stream, wide(u.sent), wide(u.total)]), body);
      u.sent += n;
      this.inflight += n;
      this.sentTotal += n;
      if (u.sent >= u.total) {
        this.queue.shift();
        u.bytes = undefined; // ZeroMQ holds what it still has to send
      }
    }
  }
}

/** msgpackr writes numbers beyond 32 bits as float64; Python slices need ints (> 4 GiB streams). */
function wide(n: number): number | bigint {
  return n > 0xffffffff ? BigInt(n) : n;
}
