/**
 * msgpack configured for Python interop: plain arrays/maps (no records), int64 as BigInt only
 * beyond 2^53, and extension types for handles, dtypes, slices, tuples and complex numbers.
 */
import { Packr, Unpackr, addExtension, type Options } from 'msgpackr';
import { DType, dtypeFromName } from '../tensor/dtype.js';
import { EXT } from './protocol.js';

/** Anything the runtime knows by handle id (Tensor extends this). */
export class Handle {
  constructor(readonly id: number) {}
}

/** A Python slice (start, stop, step), for indexing. */
export class Slice {
  constructor(
    readonly start: number | null = null,
    readonly stop: number | null = null,
    readonly step: number | null = null,
  ) {}
}

/** A Python tuple, where torch needs a tuple rather than a list. */
export class Tuple {
  readonly items: unknown[];
  constructor(items: unknown[]) {
    this.items = items;
  }
}

/** Python's Ellipsis (`...`). */
class EllipsisType {
  readonly ellipsis = true;
}
export const Ellipsis: EllipsisType = Object.freeze(new EllipsisType());

export interface Complex {
  re: number;
  im: number;
}

export class ComplexValue implements Complex {
  constructor(
    readonly re: number,
    readonly im: number,
  ) {}
}

// 'auto': int64 values decode as numbers unless beyond 2^53 (then BigInt); the typings lag the option.
const options = { useRecords: false, mapsAsObjects: true, int64AsType: 'auto', moreTypes: false } as unknown as Options;

// Handles are written straight into the output buffer as fixext 8: no allocation per ref.
addExtension({
  Class: Handle,
  type: EXT.REF,
  pack(h: Handle, allocateForWrite: (n: number) => { target: Uint8Array; targetView: DataView; position: number }) {
    const { target, targetView, position } = allocateForWrite(10);
    target[position] = 0xd7;
    target[position + 1] = EXT.REF;
    targetView.setUint32(position + 2, Math.floor(h.id / 0x100000000));
    targetView.setUint32(position + 6, h.id >>> 0);
  },
  unpack(buf: Uint8Array) {
    const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    return new Handle(v.getUint32(0) * 0x100000000 + v.getUint32(4));
  },
} as never);

addExtension({
  Class: DType,
  type: EXT.DTYPE,
  pack: (t: DType) => Buffer.from(t.name),
  unpack: (buf: Uint8Array) => dtypeFromName(Buffer.from(buf).toString()),
} as never);

addExtension({
  Class: ComplexValue,
  type: EXT.COMPLEX,
  pack: (c: ComplexValue) => {
    const b = Buffer.allocUnsafe(16);
    b.writeDoubleBE(c.re, 0);
    b.writeDoubleBE(c.im, 8);
    return b;
  },
  unpack: (buf: Uint8Array) => {
    const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    return new ComplexValue(b.readDoubleBE(0), b.readDoubleBE(8));
  },
} as never);

const inner = new Packr(options);

addExtension({
  Class: Slice,
  type: EXT.SLICE,
  pack: (s: Slice) => inner.pack([s.start, s.stop, s.step]),
  unpack: (buf: Uint8Array) => {
    const [a, b, c] = inner.unpack(buf) as [number | null, number | null, number | null];
    return new Slice(a, b, c);
  },
} as never);

addExtension({
  Class: Tuple,
  type: EXT.TUPLE,
  pack: (t: Tuple) => inner.pack(t.items),
  unpack: (buf: Uint8Array) => new Tuple(inner.unpack(buf) as unknown[]),
} as never);

addExtension({
  Class: EllipsisType,
  type: EXT.ELLIPSIS,
  pack: () => Buffer.alloc(0),
  unpack: () => Ellipsis,
} as never);

/** An object the runtime handed over by handle inside a converted result (READ CONVERT). */
export class RemoteOut {
  constructor(
    readonly id: number,
    /** WireMeta for a tensor, ['py', typeName] for any other object */
    readonly meta: unknown[],
  ) {}
}

addExtension({
  Class: RemoteOut,
  type: EXT.REMOTE,
  pack: () => {
    throw new Error('RemoteOut is only sent by the runtime');
  },
  unpack: (buf: Uint8Array) => {
    const [id, meta] = inner.unpack(buf) as [number, unknown[]];
    return new RemoteOut(id, meta);
  },
} as never);

/** A bigint beyond 64 bits (msgpack's ints stop there), as Python's int: two's complement, big-endian. */
export class WideInt {
  constructor(readonly value: bigint) {}
}

addExtension({
  Class: WideInt,
  type: EXT.BIGINT,
  pack: (w: WideInt) => {
    const v = w.value;
    let bytes = 1;
    while (v >= 1n << BigInt(8 * bytes - 1) || v < -(1n << BigInt(8 * bytes - 1))) bytes++;
    const out = Buffer.alloc(bytes);
    let x = BigInt.asUintN(8 * bytes, v);
    for (let i = bytes - 1; i >= 0; i--, x >>= 8n) out[i] = Number(x & 0xffn);
    return out;
  },
  unpack: (buf: Uint8Array) => {
    let x = 0n;
    for (const b of buf) x = (x << 8n) | BigInt(b);
    return BigInt.asIntN(8 * buf.byteLength, x);
  },
} as never);

/** A Python set's items on the wire (a JS Set on arrival; toPython wraps a JS Set so). */
export class SetItems {
  constructor(readonly items: unknown[]) {}
}

addExtension({
  Class: SetItems,
  type: EXT.SET,
  pack: (s: SetItems) => inner.pack(s.items),
  unpack: (buf: Uint8Array) => new Set(inner.unpack(buf) as unknown[]),
} as never);

const packr = new Packr(options);
const unpackr = new Unpackr(options);

export function encode(value: unknown): Buffer {
  return packr.pack(value);
}

export function decode(buf: Uint8Array): unknown {
  return unpackr.unpack(buf);
}
