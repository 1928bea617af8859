/**
 * Downloads in chunks, for a served runtime that cannot map this process's shared memory (the
 * wire format and flow control are in python/torchbridge_runtime/protocol.py, "Chunked bulk
 * data"): the runtime sends a read's data as CHUNK messages keyed by the read's reply id, before
 * its reply; each chunk is copied straight into the array the read will return, and credited.
 */
import { encode } from '../transport/codec.js';
import { STREAM } from '../transport/protocol.js';
import { TorchBridgeError } from '../errors.js';

interface Download {
  buffer: ArrayBuffer;
  received: number;
  error?: string;
}

const EMPTY = Buffer.alloc(0);

export class Downloads {
  private readonly streams = new Map<number, Download>();

  constructor(
    /** a two-frame message to the runtime */
    private readonly send: (header: Buffer, body: Buffer) => void,
  ) {}

  /** A chunk of stream `stream` (a read's reply id): copy it, credit it. */
  chunk(stream: number, offset: number, total: number, body: Buffer): void {
    let d = this.streams.get(stream);
    if (d === undefined) {
      d = { buffer: new ArrayBuffer(total), received: 0 };
      this.streams.set(stream, d);
    }
    if (d.error === undefined) {
      if (offset !== d.received || total !== d.buffer.byteLength || offset + body.length > total) {
        d.error = `a chunk of ${body.length} bytes at ${offset} of ${total}, expected one at ${d.received} of ${d.buffer.byteLength}`;
      } else {
        new Uint8Array(d.buffer, offset, body.length).set(body);
        d.received += body.length;
      }
    }
    // a broken stream (a chunk lost with a dropped connection, or a bug) is credited in full:
    // the runtime then finishes the read, whose reply fails it here (finish), rather than wait
    const credit = d.error === undefined ? d.received : d.buffer.byteLength;
    this.send(encode([STREAM.CREDIT, stream, credit > 0xffffffff ? BigInt(credit) : credit]), EMPTY);
  }

  /** Bytes received so far of streams whose reply has not come. */
  get receiving(): number {
    let n = 0;
    for (const d of this.streams.values()) n += d.received;
    return n;
  }

  /**
   * The reply to read `id` has come: a reply saying `chunked` gets the array its chunks filled
   * (as `buffer`); any stream of a failed read is dropped.
   */
  finish(id: number, ok: boolean, value: unknown): unknown {
    const d = this.streams.get(id);
    const chunked = ok && isChunkedReply(value) ? value.chunked : undefined;
    if (d === undefined) {
      if (chunked !== undefined) throw new TorchBridgeError(`the runtime's reply to read ${id} refers to chunks that never came`);
      return value;
    }
    this.streams.delete(id);
    if (chunked === undefined) return value;
    if (d.error !== undefined || d.received !== chunked) {
      throw new TorchBridgeError(`the runtime's data for read ${id} came broken: ${d.error ?? `${d.received} of ${chunked} bytes`}`);
    }
    return { ...value as object, buffer: d.buffer };
  }

  /** The session ended. */
  clear(): void {
    this.streams.clear();
  }
}

function isChunkedReply(v: unknown): v is { chunked: number } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { chunked?: unknown }).chunked === 'number';
}
