/**
 * Batch tensors made from JS data: filled once where the runtime will read them (inline in
 * the message when small, else a one-shot shared segment the runtime maps and unlinks, or, for
 * a served runtime without shared memory, chunks sent from the filled array), or named by a
 * segment a worker thread filled. Metadata is known, so nothing waits.
 */
import { newTensor, type Tensor } from '../../tensor/tensor.js';
import type { DType, TensorData } from '../../tensor/dtype.js';
import { currentSession } from '../../session/current.js';
import { INLINE_MAX_BYTES } from '../../transport/protocol.js';
import { allocShared, sharedInfoOf } from '../../memory/shared_array.js';
import { openAndUnlink } from '../../memory/shm.js';
import type { DataPayload, Session } from '../../session/session.js';

export type Fill = (out: TensorData) => void;

function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function queue(s: Session, dtype: DType, shape: number[], payload: DataPayload, op: string): Tensor {
  const t = newTensor(s, { shape, dtype, device: 'cpu', requires_grad: false, is_leaf: true, grad_fn: null }, op);
  s.fromData(t.id, dtype, shape, payload, null);
  return t;
}

/** A CPU tensor of `dtype` and `shape` whose contents `fill` writes (row-major). */
export function tensorFromFill(dtype: DType, shape: number[], fill: Fill, op = 'default_collate'): Tensor {
  const s = currentSession();
  const numel = numelOf(shape);
  const nbytes = numel * dtype.itemsize;
  if (nbytes <= INLINE_MAX_BYTES || !s.shm) {
    // inline: small, or a served runtime that cannot map our shared memory (the session sends large ones in chunks)
    const arr = new dtype.arrayType(numel) as TensorData;
    fill(arr);
    return queue(s, dtype, shape, Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength), op);
  }
  const buf = allocShared(s, nbytes);
  fill(new dtype.arrayType(buf, 0, numel) as TensorData);
  const info = sharedInfoOf(new Uint8Array(buf))!;
  return queue(s, dtype, shape, [info.name, info.nbytes, 0, 0], op); // the runtime maps, unlinks, owns it
}

/**
 * A CPU tensor over a segment another thread of this process created and filled (zero copies);
 * for a runtime that cannot map it, its bytes go inline.
 */
export function tensorFromSegment(s: Session, name: string, nbytes: number, dtype: DType, shape: number[], op = 'DataLoader'): Tensor {
  if (!s.shm) return queue(s, dtype, shape, new Uint8Array(openAndUnlink(name, nbytes)), op); // sent from the mapping, in chunks when large
  return queue(s, dtype, shape, [name, nbytes, 0, 0], op);
}

/** A CPU tensor from bytes sent inline (empty or tiny batches from workers). */
export function tensorFromBytes(s: Session, bytes: Uint8Array, dtype: DType, shape: number[], op = 'DataLoader'): Tensor {
  return queue(s, dtype, shape, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), op);
}
