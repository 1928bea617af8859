/** Wire constants: one list (the runtime's protocol.json), generated into src/generated/protocol.ts. */
import { HELPER, PROTOCOL, type HelperName } from '../generated/protocol.js';

export { HELPER, type HelperName };
export const PROTOCOL_VERSION = PROTOCOL.version;
export const OP = PROTOCOL.op;
export const READ = PROTOCOL.read;
export const STATUS = PROTOCOL.status;
export const EXT = PROTOCOL.ext;
export const CONTROL = PROTOCOL.control;
/** Payloads up to this many bytes travel inside the message; larger ones via shared memory, or in chunks. */
export const INLINE_MAX_BYTES = PROTOCOL.inline_max_bytes;
export const SHM_PREFIX = PROTOCOL.shm_prefix;
/** Chunked bulk data (a served runtime without shared memory): message kinds, chunk size, window. */
export const STREAM = PROTOCOL.stream;
export const CHUNK_BYTES = PROTOCOL.chunk_bytes;
export const WINDOW_BYTES = PROTOCOL.chunk_bytes * PROTOCOL.window_chunks;
