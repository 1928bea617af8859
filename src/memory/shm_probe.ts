/**
 * Whether a served runtime can map this client's shared memory: it may run on another host, or
 * in a container without a shared /dev/shm. The client makes a small 0600 segment named with
 * its session prefix holding random bytes; HELLO names it; the runtime reads it back (and
 * unlinks it) and answers whether it could. Where it cannot, bulk data travels inline.
 */
import { randomBytes } from 'node:crypto';
import { createSegment, unlinkSegment } from './shm.js';

export interface ShmProbe {
  name: string;
  nonce: Buffer;
}

/** A probe segment, or null where this client cannot make one (no /dev/shm, no addon). */
export function makeProbe(prefix: string): ShmProbe | null {
  const name = `${prefix}probe`;
  const nonce = randomBytes(16);
  try {
    new Uint8Array(createSegment(name, nonce.length)).set(nonce);
  } catch {
    return null;
  }
  return { name, nonce };
}

/** Remove the probe where the runtime did not (it could not see it). */
export function dropProbe(probe: ShmProbe | null): void {
  if (!probe) return;
  try {
    unlinkSegment(probe.name);
  } catch {
    /* the runtime unlinked it */
  }
}
