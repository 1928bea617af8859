/** Wire constants, read from the runtime's protocol.json: one list shared by both sides. */
import { readFileSync } from 'node:fs';
import { packageRoot } from '../runtime/paths.js';
import { join } from 'node:path';

interface ProtocolSpec {
  version: number;
  op: Record<'CALL' | 'FREE' | 'READ' | 'FROM_DATA' | 'SYNC' | 'STATS' | 'RELEASE_SHM' | 'HELLO' | 'SHUTDOWN', number>;
  read: Record<'ITEM' | 'TOLIST' | 'DATA' | 'STR' | 'META' | 'VALUE' | 'DATA_COPY' | 'CONVERT', number>;
  status: Record<'OK' | 'ERROR', number>;
  ext: Record<'REF' | 'DTYPE' | 'SLICE' | 'TUPLE' | 'ELLIPSIS' | 'COMPLEX' | 'REMOTE', number>;
  control: Record<'PING' | 'STATS' | 'INTERRUPT' | 'SHUTDOWN', string>;
  inline_max_bytes: number;
  shm_prefix: string;
}

const spec = JSON.parse(
  readFileSync(join(packageRoot, 'python', 'torchbridge_runtime', 'protocol.json'), 'utf8'),
) as ProtocolSpec;

export const PROTOCOL_VERSION = spec.version;
export const OP = spec.op;
export const READ = spec.read;
export const STATUS = spec.status;
export const EXT = spec.ext;
export const CONTROL = spec.control;
/** Payloads up to this many bytes travel inside the message; larger ones via shared memory. */
export const INLINE_MAX_BYTES = spec.inline_max_bytes;
export const SHM_PREFIX = spec.shm_prefix;
