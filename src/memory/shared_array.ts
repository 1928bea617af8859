/**
 * TypedArrays allocated in shared memory. Wrapped as tensors (torch.frombuffer) they share
 * memory with the runtime both ways, like torch.from_numpy; data() of such a tensor is a view
 * of the same bytes.
 */
import { createSegment, unlinkSegment } from './shm.js';
import type { Session } from '../session/session.js';

interface SharedInfo {
  name: string;
  nbytes: number;
  session: Session;
  /** The runtime has mapped it (so the name is unlinked and the runtime must be told to let go). */
  mapped: boolean;
}

const infos = new WeakMap<ArrayBuffer, SharedInfo>();
const byName = new Map<string, WeakRef<ArrayBuffer>>();
let counter = 0;

const collected = new FinalizationRegistry<SharedInfo>((info) => {
  byName.delete(info.name);
  if (info.mapped) {
    if (info.session.alive) info.session.releaseShared([info.name]);
  } else {
    try {
      unlinkSegment(info.name);
    } catch {
      /* swept already */
    }
  }
});

/** A fresh shared segment of at least `nbytes` (tied to the session whose runtime will map it). */
export function allocShared(session: Session, nbytes: number): ArrayBuffer {
  const info: SharedInfo = { name: `${session.shmPrefix}c${++counter}`, nbytes: Math.max(1, nbytes), session, mapped: false };
  const buf = createSegment(info.name, info.nbytes);
  infos.set(buf, info);
  byName.set(info.name, new WeakRef(buf));
  collected.register(buf, info);
  return buf;
}

/** The shared segment behind a TypedArray, if it has one. */
export function sharedInfoOf(view: ArrayBufferView): SharedInfo | undefined {
  return view.buffer instanceof ArrayBuffer ? infos.get(view.buffer) : undefined;
}

/** Mark that the runtime maps this segment from now on (it unlinks the name). */
export function markMapped(info: SharedInfo): void {
  info.mapped = true;
}

/** The client's own mapping of a shared segment a tensor lives in, if it is still alive. */
export function aliasBuffer(name: string): ArrayBuffer | undefined {
  return byName.get(name)?.deref();
}
