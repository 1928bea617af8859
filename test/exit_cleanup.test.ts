/**
 * However a client ends without torch.shutdown(), on either child transport, nothing is left:
 * no socket directory (/tmp/torchbridge-<pid>-*), no shared-memory segment (/dev/shm/tb-<pid>-*),
 * no runtime process.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alive, startFixture, waitForLine, waitUntil } from './fixtures/run_child.js';
import { sweepStaleIpcDirs } from '../src/runtime/ipc_dir.js';

const dirsOf = (pid: number) => readdirSync(tmpdir()).filter((n) => n.startsWith(`torchbridge-${pid}-`));
const segmentsOf = (pid: number) => readdirSync('/dev/shm').filter((n) => n.startsWith(`tb-${pid}-`));

type Ending = 'end' | 'exit' | 'throw' | 'SIGTERM' | 'SIGKILL';
const ENDINGS: Ending[] = ['end', 'exit', 'throw', 'SIGTERM', 'SIGKILL'];

async function endClient(transport: string, ending: Ending): Promise<{ pid: number; runtimePid: number; code: number | null; signal: string | null; sawDir: boolean }> {
  const mode = ending.startsWith('SIG') ? 'wait' : ending;
  const child = startFixture('exits.ts', { TORCHBRIDGE_TRANSPORT: transport }, [mode]);
  const exited = new Promise<[number | null, string | null]>((r) => child.on('exit', (code, signal) => r([code, signal])));
  const m = await waitForLine(child, /ready runtime-pid=(\d+) dirs=(\d+)/);
  const pid = child.pid!;
  const sawDir = Number(m[2]) > 0;
  if (ending.startsWith('SIG')) child.kill(ending as NodeJS.Signals);
  const [code, signal] = await exited;
  return { pid, runtimePid: Number(m[1]), code, signal, sawDir };
}

describe.each(['socket', 'zmq'])('TORCHBRIDGE_TRANSPORT=%s: a client that ends without shutdown() leaves nothing', (transport) => {
  // the five clients run at once: each is mostly waiting (for torch to import, for a process to go)
  it.concurrent.for(ENDINGS)('%s', async (ending, { expect }) => {
    const r = await endClient(transport, ending);
    if (ending === 'end' || ending === 'exit') expect(r.code).toBe(0);
    if (ending === 'throw') expect(r.code).toBe(1);
    if (ending.startsWith('SIG')) expect(r.signal).toBe(ending);
    expect(r.sawDir).toBe(transport === 'zmq'); // the zmq child's sockets live in one while it runs
    // the runtime notices its client is gone (its stdin closes) and cleans up as it exits
    expect(await waitUntil(() => !alive(r.runtimePid), 5000)).toBe(true);
    expect(dirsOf(r.pid)).toEqual([]);
    expect(segmentsOf(r.pid)).toEqual([]);
  });
});

describe('socket directories of dead clients', () => {
  it('are swept when a client starts a zmq runtime; those of live clients are kept', async () => {
    // a pid that is surely dead: a child that has exited
    const child = startFixture('exits.ts', {}, ['no-such-mode-exit-at-once']);
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    const dead = join(tmpdir(), `torchbridge-${child.pid}-stale01`);
    const mine = join(tmpdir(), `torchbridge-${process.pid}-live01`);
    const unrelated = join(tmpdir(), 'torchbridge-notapid');
    for (const d of [dead, mine, unrelated]) mkdirSync(join(d, 'sub'), { recursive: true });
    try {
      sweepStaleIpcDirs();
      expect(existsSync(dead)).toBe(false);
      expect(existsSync(mine)).toBe(true);
      expect(existsSync(unrelated)).toBe(true);
    } finally {
      const { rmSync } = await import('node:fs');
      for (const d of [dead, mine, unrelated]) rmSync(d, { recursive: true, force: true });
    }
  });
});
