/**
 * torch.interrupt() and AbortSignal on reads: the running op stops (KeyboardInterrupt in the
 * runtime's main thread, as Jupyter's interrupt), what was queued before the interrupt fails
 * with it, and the runtime, the session and its tensors stay.
 */
import { describe, expect, it } from 'vitest';
import torch, { TorchError } from '../src/index.js';

/** One Python call that runs for a long time: a loop of big matmuls (~10 s if never stopped). */
function longPythonCall(): void {
  const code = 'import torch\na = torch.randn(700, 700)\nfor _ in range(4000):\n    a = (a @ a).div_(700)';
  torch.py.import('builtins').exec(code, {});
}

const settleMs = async (p: Promise<unknown>) => {
  const t0 = performance.now();
  const r = await p.then(
    (v) => ({ v, e: undefined as unknown }),
    (e: unknown) => ({ v: undefined, e }),
  );
  return { ...r, ms: performance.now() - t0 };
};

describe('torch.interrupt()', () => {
  it('stops a long op within 1 s; the next op runs; earlier tensors survive', async () => {
    await torch.init();
    const kept = torch.arange(5).mul(2);
    await torch.sync();
    longPythonCall();
    const done = torch.sync();
    await new Promise((r) => setTimeout(r, 300)); // the loop is running now
    const t0 = performance.now();
    expect(await torch.interrupt()).toBe(true);
    const r = await settleMs(done);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(r.e).toBeInstanceOf(TorchError);
    expect((r.e as TorchError).pyType).toBe('KeyboardInterrupt');
    // the session goes on: old tensors, new ops
    expect(await kept.tolist()).toEqual([0, 2, 4, 6, 8]);
    expect(await torch.ones(3).sum().item()).toBe(3);
    await torch.sync();
  });

  it('ops queued before the interrupt do not run; ops after it do', async () => {
    const x = torch.ones(4);
    await torch.sync();
    longPythonCall();
    const before = x.add(1); // queued behind the long call
    await new Promise((r) => setTimeout(r, 300));
    await torch.interrupt();
    const after = x.add(2);
    const r = await settleMs(before.tolist());
    expect(r.e).toBeInstanceOf(TorchError);
    expect((r.e as TorchError).pyType).toBe('KeyboardInterrupt');
    expect(await after.tolist()).toEqual([3, 3, 3, 3]);
    expect(await x.tolist()).toEqual([1, 1, 1, 1]);
    await torch.sync(); // the interrupt's error was surfaced already: nothing left to report
  });

  it('with nothing running it stops nothing and poisons nothing', async () => {
    const x = torch.ones(2).mul(3);
    await torch.sync();
    expect(await torch.interrupt()).toBe(false);
    expect(await x.add(1).tolist()).toEqual([4, 4]);
    await torch.sync();
  });

  it('an AbortSignal on a read interrupts and rejects the read at once with its reason', async () => {
    longPythonCall();
    const t = torch.ones(2).add(1); // queued after the long call
    const ac = new AbortController();
    const read = t.tolist({ signal: ac.signal });
    setTimeout(() => ac.abort(new Error('user gave up')), 300);
    const r = await settleMs(read);
    expect(r.ms).toBeLessThan(1000);
    expect((r.e as Error).message).toBe('user gave up');
    // the runtime stopped the loop: a new read is answered promptly
    const next = await settleMs(torch.ones(1).add(1).item());
    expect(next.v).toBe(2);
    expect(next.ms).toBeLessThan(1000);
    await torch.sync().catch(() => {}); // the interrupted call's error, if not yet surfaced
  });

  it('an already aborted signal interrupts before the read waits', async () => {
    const ac = new AbortController();
    ac.abort();
    const r = await settleMs(torch.sync({ signal: ac.signal }));
    expect((r.e as Error).name).toBe('AbortError');
    expect(await torch.ones(2).sum().item()).toBe(2);
  });

  it("a terminal's SIGINT does not stop the runtime (its client decides)", async () => {
    const pid = (await torch.init()).pid;
    process.kill(pid, 'SIGINT');
    await new Promise((r) => setTimeout(r, 200));
    expect(await torch.ones(2).sum().item()).toBe(2);
    expect((await torch.init()).pid).toBe(pid);
  });
});

describe('torch.interrupt() after a poisoned op', () => {
  it('with nothing running it stops nothing, even right after an op skipped for a failed input', async () => {
    const bad = torch.call('index_select', [torch.ones(3), 0, torch.tensor([9])]);
    const dep = bad.add(1); // skipped in the runtime: its input is poisoned
    await expect(dep.tolist()).rejects.toBeInstanceOf(TorchError);
    expect(await torch.interrupt()).toBe(false);
    expect(await torch.ones(2).sum().item()).toBe(2);
    await torch.sync();
  });
});
