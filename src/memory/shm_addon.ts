/**
 * Loader for torchbridge's own POSIX shared-memory addon (`native/shm.cc`, see DESIGN.md §4).
 *
 * Each ArrayBuffer it returns is an external buffer over an `mmap` of the segment; the mapping
 * is unmapped only by that buffer's finalizer, so a view can never outlive it. There is no
 * explicit unmap on purpose.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The native module `build/Release/torchbridge_shm.node`. */
export interface ShmAddon {
  /**
   * Creates the segment `name` ("/" + up to 255 characters, no other "/") with
   * `O_CREAT | O_EXCL` and mode 0600, sizes it to `byteLength` (> 0) bytes and maps it.
   * Throws an Error whose `code` is the errno name (e.g. `'EEXIST'`) when a system call fails.
   */
  create(name: string, byteLength: number): ArrayBuffer;
  /** Maps the first `byteLength` (> 0) bytes of the existing segment `name` read-write. */
  open(name: string, byteLength: number): ArrayBuffer;
  /** Removes the name `name`; true if it was removed, false if it did not exist. */
  unlink(name: string): boolean;
}

/** `src/memory/` and `dist/memory/` are both two levels below the package root. */
const addonUrl = new URL('../../build/Release/torchbridge_shm.node', import.meta.url);

let cached: ShmAddon | undefined;

/** Loads (once) and returns the shared-memory addon; throws if it has not been built. */
export function loadShmAddon(): ShmAddon {
  if (cached !== undefined) return cached;
  const path = fileURLToPath(addonUrl);
  if (!existsSync(path)) {
    throw new Error(
      "torchbridge's shared-memory addon is not built: run `npm run setup` " +
        '(or `node scripts/build-addon.mjs`)',
    );
  }
  const require = createRequire(import.meta.url);
  try {
    cached = require(path) as ShmAddon;
  } catch (cause) {
    throw new Error(
      `torchbridge's shared-memory addon at ${path} failed to load; rebuild it with ` +
        '`node scripts/build-addon.mjs --force`',
      { cause },
    );
  }
  return cached;
}
