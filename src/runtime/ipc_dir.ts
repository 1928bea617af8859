/**
 * The private directory (0700, from mkdtemp) that holds a zmq child runtime's ipc:// socket
 * files: `<tmpdir>/torchbridge-<client pid>-XXXXXX`. It must not outlive the client, however the
 * client ends: removed when the runtime exits while the client lives, at the client's exit where
 * Node runs exit handlers (a script that ends, process.exit(), an uncaught throw), by the runtime
 * itself when it finds its client gone (SIGTERM, SIGKILL: see the runtime's ZmqLink), and should
 * both be killed, by the next client that starts one: a directory whose pid is dead is swept, as
 * memory/shm.ts does for shared-memory segments.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'torchbridge-';
const OWNED = /^torchbridge-(\d+)-/;

/** This process's directories still in use. */
const live = new Set<string>();
let exitHook = false;

/** A fresh directory for one runtime's sockets (sweeping dead clients' first). */
export function makeIpcDir(): string {
  sweepStaleIpcDirs();
  const dir = mkdtempSync(join(tmpdir(), `${PREFIX}${process.pid}-`));
  live.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const d of live) remove(d);
    });
  }
  return dir;
}

/** The runtime is gone: its directory goes too. */
export function removeIpcDir(dir: string): void {
  live.delete(dir);
  remove(dir);
}

function remove(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    /* raced with the runtime removing its own files: what is left is swept later */
  }
}

/** Remove the directories of torchbridge clients that no longer exist. */
export function sweepStaleIpcDirs(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const m = OWNED.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || pidAlive(pid)) continue;
    remove(join(tmpdir(), name));
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code !== 'ESRCH'; // EPERM: alive, another user's
  }
}
