/**
 * The connection file a served runtime writes (`torchbridge-runtime serve`), read and checked
 * before anything is sent: a missing file or a missing key is a clear error, not a hang.
 */
import { readFileSync } from 'node:fs';
import { RuntimeConnectError } from '../errors.js';

export interface ConnectionInfo {
  /** the file it was read from */
  path: string;
  ops: string;
  control: string;
  /** Z85 CURVE keys; all absent for a runtime without CURVE (loopback or ipc:// only) */
  serverPublicKey?: string;
  clientPublicKey?: string;
  clientSecretKey?: string;
  /** the runtime frees a session after this long without a message or ping */
  graceS: number;
  pid?: number;
}

const START_HINT = 'Start one with `torchbridge-runtime serve --connection-file FILE` and connect with the FILE it prints.';

export function readConnectionFile(path: string): ConnectionInfo {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RuntimeConnectError(`cannot read the connection file ${path}: ${(err as Error).message}. ${START_HINT}`);
  }
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(raw) as Record<string, unknown>;
  } catch (err) {
    throw new RuntimeConnectError(`the connection file ${path} is not JSON (${(err as Error).message}). ${START_HINT}`);
  }
  const bad = (what: string) => new RuntimeConnectError(`the connection file ${path} ${what}. ${START_HINT}`);
  if (j.transport !== 'zmq') throw bad(`names transport ${JSON.stringify(j.transport)}; this client speaks "zmq"`);
  for (const k of ['ops', 'control'] as const) {
    if (typeof j[k] !== 'string' || !/^(tcp|ipc):\/\//.test(j[k] as string)) throw bad(`has no "${k}" endpoint (tcp://HOST:PORT or ipc://PATH)`);
  }
  const keys = ['server_public_key', 'client_public_key', 'client_secret_key'] as const;
  const present = keys.filter((k) => j[k] !== undefined && j[k] !== null);
  for (const k of present) {
    if (typeof j[k] !== 'string' || (j[k] as string).length !== 40) throw bad(`has a malformed "${k}" (40 Z85 characters expected)`);
  }
  if (present.length !== 0 && present.length !== keys.length) {
    throw bad(`lacks ${keys.filter((k) => !present.includes(k)).join(', ')}: a CURVE client needs all three keys`);
  }
  const grace = typeof j.session_grace_s === 'number' && j.session_grace_s > 0 ? j.session_grace_s : 30;
  return {
    path,
    ops: j.ops as string,
    control: j.control as string,
    serverPublicKey: j.server_public_key as string | undefined,
    clientPublicKey: j.client_public_key as string | undefined,
    clientSecretKey: j.client_secret_key as string | undefined,
    graceS: grace,
    pid: typeof j.pid === 'number' ? j.pid : undefined,
  };
}
