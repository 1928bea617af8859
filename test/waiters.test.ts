/**
 * Every reply the client waits for settles exactly once (answer, error, runtime death,
 * shutdown, or an op refused before it was queued), and no promise the library makes for
 * itself can crash Node when nobody awaits it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import torch, { ArgumentError, RuntimeDiedError, TorchBridgeError, TorchError } from '../src/index.js';
import { currentSession } from '../src/session/current.js';
import type { Session } from '../src/session/session.js';
import { OP, READ } from '../src/transport/protocol.js';
import { runFixture } from './fixtures/run_child.js';

afterAll(() => torch.shutdown());

const waiting = (s: Session) => {
  const w = s as unknown as { waiters: Map<number, unknown>; controlWaiters: Map<number, unknown> };
  return w.waiters.size + w.controlWaiters.size;
};

describe('waiters', () => {
  it('answered and failed replies leave no waiter behind', async () => {
    await torch.init();
    const s = currentSession();
    const failing = torch.call('no_such_function', [torch.ones(2)]);
    await expect(failing.ready()).rejects.toBeInstanceOf(TorchError);
    await expect(torch.sync()).rejects.toBeInstanceOf(TorchError); // reported at the next sync too
    expect(await torch.ones(2).sum().item()).toBe(2);
    await torch.runtime.ping();
    expect(waiting(s)).toBe(0);
  });

  it('an op refused at its call settles the waiter it had registered', async () => {
    const s = currentSession();
    const reply = s.expectReply();
    expect(() => s.call(s.newHandle(), 'add', [1, Symbol('s')], null, reply.id, true)).toThrow(ArgumentError);
    await expect(reply.promise).rejects.toBeInstanceOf(ArgumentError);
    expect(waiting(s)).toBe(0);
    expect(await torch.ones(3).sum().item()).toBe(3); // and nothing is still awaited on the channel
  });

  it('a request on a dead session rejects at once and registers nothing', async () => {
    await torch.init();
    const s = currentSession();
    s.kill('SIGKILL');
    await expect(s.sync()).rejects.toBeInstanceOf(RuntimeDiedError);
    await expect(s.read(1, READ.ITEM)).rejects.toBeInstanceOf(RuntimeDiedError);
    expect(waiting(s)).toBe(0);
  });

  it('runtime death rejects every waiter (ops and control) once, with RuntimeDiedError', async () => {
    await torch.init();
    const s = currentSession();
    const a = torch.randn(1200, 1200);
    let y = a;
    for (let i = 0; i < 60; i++) y = y.matmul(a).div(1200);
    const pending = torch.call('relu', [y]); // pending metadata
    const reads = [y.sum().item(), torch.sync(), pending.ready(), s.expectReply().promise];
    await new Promise((r) => setTimeout(r, 50));
    expect(waiting(s)).toBeGreaterThanOrEqual(reads.length);
    s.kill('SIGKILL');
    const settled = await Promise.allSettled([...reads, torch.runtime.ping()]);
    for (const r of settled) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(RuntimeDiedError);
    }
    expect(waiting(s)).toBe(0);
  });

  it('shutdown answers what was queued before it and rejects later waiters', async () => {
    await torch.init();
    const s = currentSession();
    const pending = torch.call('abs', [torch.ones(2).neg()]);
    const ready = pending.ready();
    const late = s.expectReply(); // a reply that can never come: its op is never queued
    await torch.shutdown();
    expect((await ready).shape).toEqual([2]);
    await expect(late.promise).rejects.toBeInstanceOf(TorchBridgeError);
    expect(waiting(s)).toBe(0);
  });
});

describe('promises nobody awaits', () => {
  it.each(['socket', 'zmq'])('do not crash Node, nor keep it waiting (TORCHBRIDGE_TRANSPORT=%s, strict mode)', async (transport) => {
    const r = await runFixture('unobserved.ts', { TORCHBRIDGE_TRANSPORT: transport, TORCHBRIDGE_STRICT: '1' }, 45_000);
    expect(r.stderr).not.toMatch(/unhandled/i);
    expect(r.stdout).toContain('good [1,2,3,4]');
    expect(r.stdout).toContain('alive object');
    expect(r.stdout).toContain('done');
    expect(r.signal).toBeNull(); // not killed at the timeout: it ended by itself
    expect(r.code).toBe(0);
  });
});
