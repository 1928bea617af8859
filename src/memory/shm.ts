/**
 * Shared-memory segments for bulk data (DESIGN §4). Every segment of a session is named
 * `tb-<client pid>-<session>-…`, created 0600, and unlinked as soon as both sides have it
 * mapped; whatever a crash leaves behind is swept by prefix (by the survivor, or by the
 * next client that finds the owning pid dead).
 */
import { readdirSync } from 'node:fs';
import { loadShmAddon } from './shm_addon.js';
import { SHM_PREFIX } from '../transport/protocol.js';

const SHM_DIR = '/dev/shm';

export function sessionPrefix(sessionId: string): string {
  return `${SHM_PREFIX}${process.pid}-${sessionId}-`;
}

/** Map a brand-new segment of `nbytes` (the runtime unlinks the name once it has mapped it). */
export function createSegment(name: string, nbytes: number): ArrayBuffer {
  return loadShmAddon().create('/' + name, nbytes);
}

/** Map a segment the runtime made, then remove its name at once. */
export function openAndUnlink(name: string, nbytes: number): ArrayBuffer {
  const addon = loadShmAddon();
  try {
    return addon.open('/' + name, nbytes);
  } finally {
    addon.unlink('/' + name);
  }
}

export function unlinkSegment(name: string): void {
  loadShmAddon().unlink('/' + name);
}

function listSegments(): string[] {
  try {
    return readdirSync(SHM_DIR);
  } catch {
    return [];
  }
}

/** Unlink every segment whose name starts with `prefix`. */
export function sweep(prefix: string): number {
  let n = 0;
  for (const name of listSegments()) {
    if (name.startsWith(prefix)) {
      try {
        unlinkSegment(name);
        n++;
      } catch {
        /* already gone */
      }
    }
  }
  return n;
}

/** Remove segments left by torchbridge clients that no longer exist (SIGKILL of both sides). */
export function sweepStale(): void {
  for (const name of listSegments()) {
    if (!name.startsWith(SHM_PREFIX)) continue;
    const pid = Number(name.slice(SHM_PREFIX.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (err) {
      if ((err as { code?: string }).code === 'ESRCH') {
        try {
          unlinkSegment(name);
        } catch {
          /* raced with another sweeper */
        }
      }
    }
  }
}

/** Bytes of client-mapped shared memory currently alive (best effort, for torch.memory()). */
export const sharedStats = { clientBytes: 0 };
