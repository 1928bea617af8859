/** Tensor contents between the runtime and TypedArrays (inline bytes, chunks, or shared memory). */
import { DType, dtypeFromName } from './dtype.js';
import { openAndUnlink } from '../memory/shm.js';
import { aliasBuffer } from '../memory/shared_array.js';

export type { TensorData } from './dtype.js';
import type { TensorData } from './dtype.js';

export interface DataReply {
  dtype: string;
  shape: number[];
  bytes?: Uint8Array;
  /** the byte length of data that came in chunks (a served runtime without shared memory)... */
  chunked?: number;
  /** ...and the array the chunks were copied into (set by the session) */
  buffer?: ArrayBuffer;
  shm?: string;
  nbytes?: number;
  alias?: string;
  offset?: number;
}

/** Elements of the TypedArray for `numel` values of dtype (complex: 2 per value). */
export function arrayLength(dtype: DType, numel: number): number {
  return dtype.category === 'complex' ? numel * 2 : numel;
}

/** undefined when the reply aliases a shared array this client no longer maps (ask for a copy). */
export function dataFromReply(r: DataReply): TensorData | undefined {
  const dtype = dtypeFromName(r.dtype)!;
  const numel = r.shape.reduce((a, b) => a * b, 1);
  const length = arrayLength(dtype, numel);
  const Ctor = dtype.arrayType;
  if (r.buffer !== undefined) return new Ctor(r.buffer, 0, length); // owned and aligned already
  if (r.bytes !== undefined) {
    const copy = new Uint8Array(r.bytes.byteLength); // aligned, owned copy of a small payload
    copy.set(r.bytes);
    return new Ctor(copy.buffer, 0, length);
  }
  if (r.shm !== undefined) return new Ctor(openAndUnlink(r.shm, r.nbytes!), 0, length);
  // A tensor living in a shared array this client allocated: a live view of the same memory.
  const buf = aliasBuffer(r.alias!);
  return buf === undefined ? undefined : new Ctor(buf, r.offset!, length);
}
