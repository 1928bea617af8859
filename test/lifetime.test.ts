/**
 * Lifetime: dispose and `using`, tidy (sync, nested, async, concurrent), keep, a long tidy
 * loop that must not leak, the FinalizationRegistry backstop (in a child with --expose-gc),
 * and torch.memory()'s numbers.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import torch, { DisposedError, Tensor } from '../src/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/gc_backstop.ts', import.meta.url));

/** The runtime's live tensor count once everything queued (frees included) has run. */
async function liveTensors(): Promise<number> {
  await torch.sync(); // flushes pending frees ahead of the stats request
  return (await torch.memory()).tensors;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

beforeAll(async () => {
  await torch.init();
});

afterAll(async () => {
  await torch.shutdown();
});

describe('dispose', () => {
  it('frees the runtime tensor', async () => {
    const base = await liveTensors();
    const t = torch.ones(1000);
    expect(await liveTensors()).toBe(base + 1);
    expect(t.isDisposed).toBe(false);
    t.dispose();
    expect(t.isDisposed).toBe(true);
    expect(await liveTensors()).toBe(base);
    t.dispose(); // twice is fine
    expect(await liveTensors()).toBe(base);
  });

  it('torch.memory() right after dispose() already reflects it', async () => {
    const base = await liveTensors();
    const t = torch.ones(10);
    await torch.sync();
    t.dispose();
    expect((await torch.memory()).tensors).toBe(base);
  });

  it('use after dispose throws DisposedError (methods, reads, as an argument)', async () => {
    const t = torch.ones(2, 3);
    const other = torch.ones(3);
    t.dispose();
    expect(() => t.add(1)).toThrow(DisposedError);
    expect(() => t.sum()).toThrow(DisposedError);
    expect(() => other.add(t)).toThrow(DisposedError);
    expect(() => torch.matmul(t, other)).toThrow(DisposedError);
    expect(() => torch.call('nn.functional.relu', [t])).toThrow(DisposedError);
    expect(() => t.call('relu')).toThrow(DisposedError);
    await expect(t.item()).rejects.toThrow(DisposedError);
    await expect(t.tolist()).rejects.toThrow(DisposedError);
    await expect(t.data()).rejects.toThrow(DisposedError);
    await expect(t.str()).rejects.toThrow(DisposedError);
    await expect(t.ready()).rejects.toThrow(DisposedError);
    await expect(torch.runtime.meta(t)).rejects.toThrow(DisposedError);
    const err = await t.item().catch((e: Error) => e);
    expect((err as Error).message).toMatch(/disposed/);
    expect(String(t)).toBe('Tensor(disposed)');
    // other tensors are unaffected
    const s = other.sum();
    expect(await s.item()).toBe(3);
    s.dispose();
    other.dispose();
  });

  it('disposing an input after queuing ops on it is safe (ops run in order)', async () => {
    const base = await liveTensors();
    const a = torch.arange(4, { dtype: torch.float32 });
    const b = a.mul(2);
    a.dispose();
    const p = torch.call('nn.functional.relu', [b]);
    b.dispose(); // pending output still being computed
    expect(await liveTensors()).toBe(base + 1); // only p is left
    expect(await p.tolist()).toEqual([0, 2, 4, 6]);
    p.dispose();
    expect(await liveTensors()).toBe(base);
  });

  it('`using` disposes at the end of the block', async () => {
    const base = await liveTensors();
    let seen: Tensor | undefined;
    {
      using t = torch.ones(2);
      using u = t.add(1);
      seen = u;
      expect(await liveTensors()).toBe(base + 2);
      expect(await u.tolist()).toEqual([2, 2]);
    }
    expect(seen.isDisposed).toBe(true);
    expect(await liveTensors()).toBe(base);
    // explicit Symbol.dispose, and disposal when the block throws
    let kept: Tensor | undefined;
    expect(() => {
      using t = torch.zeros(3);
      kept = t;
      throw new Error('boom');
    }).toThrow('boom');
    expect(kept!.isDisposed).toBe(true);
    const v = torch.ones(1);
    v[Symbol.dispose]();
    expect(v.isDisposed).toBe(true);
    expect(await liveTensors()).toBe(base);
  });
});

describe('tidy', () => {
  it('sync: intermediates disposed, the result kept', async () => {
    const base = await liveTensors();
    let a!: Tensor;
    let b!: Tensor;
    const out = torch.tidy(() => {
      a = torch.ones(3);
      b = a.add(1);
      return b.mul(2);
    });
    expect(a.isDisposed).toBe(true);
    expect(b.isDisposed).toBe(true);
    expect(out.isDisposed).toBe(false);
    expect(await out.tolist()).toEqual([4, 4, 4]);
    expect(await liveTensors()).toBe(base + 1);
    out.dispose();
    expect(await liveTensors()).toBe(base);
  });

  it('keeps tensors inside returned arrays, objects and Maps', async () => {
    const base = await liveTensors();
    let tmp!: Tensor;
    const res = torch.tidy(() => {
      tmp = torch.zeros(2);
      const x = tmp.add(1);
      const y = tmp.add(2);
      const z = tmp.add(3);
      const w = tmp.add(4);
      return { list: [x, [y]], nested: { z }, map: new Map([['w', w]]), n: 1 };
    });
    expect(tmp.isDisposed).toBe(true);
    const kept = [res.list[0] as Tensor, (res.list[1] as Tensor[])[0]!, res.nested.z, res.map.get('w')!];
    for (const t of kept) expect(t.isDisposed).toBe(false);
    expect(await Promise.all(kept.map((t) => t.tolist()))).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
    ]);
    expect(await liveTensors()).toBe(base + 4);
    kept.forEach((t) => t.dispose());
    expect(await liveTensors()).toBe(base);
  });

  it('nested: the inner result belongs to the outer scope', async () => {
    const base = await liveTensors();
    let inner!: Tensor;
    let innerTmp!: Tensor;
    let outerTmp!: Tensor;
    const out = torch.tidy(() => {
      outerTmp = torch.ones(2);
      inner = torch.tidy(() => {
        innerTmp = torch.ones(2).mul(3);
        return innerTmp.add(1);
      });
      expect(innerTmp.isDisposed).toBe(true);
      expect(inner.isDisposed).toBe(false); // still alive inside the outer scope
      return outerTmp.add(inner);
    });
    expect(inner.isDisposed).toBe(true); // not returned by the outer tidy
    expect(outerTmp.isDisposed).toBe(true);
    expect(await out.tolist()).toEqual([5, 5]);
    out.dispose();
    expect(await liveTensors()).toBe(base);
  });

  it('torch.keep exempts a tensor from every enclosing scope', async () => {
    const base = await liveTensors();
    let kept!: Tensor;
    let dropped!: Tensor;
    torch.tidy(() => {
      torch.tidy(() => {
        kept = torch.keep(torch.full([2], 9));
        dropped = torch.full([2], 1);
      });
    });
    expect(dropped.isDisposed).toBe(true);
    expect(kept.isDisposed).toBe(false);
    expect(await kept.tolist()).toEqual([9, 9]);
    kept.dispose();
    expect(await liveTensors()).toBe(base);
  });

  it('disposes intermediates when fn throws', async () => {
    const base = await liveTensors();
    let a!: Tensor;
    expect(() =>
      torch.tidy(() => {
        a = torch.ones(2);
        a.add(1);
        throw new Error('inside tidy');
      }),
    ).toThrow('inside tidy');
    expect(a.isDisposed).toBe(true);
    expect(await liveTensors()).toBe(base);
  });

  it('async: disposes only after the promise settles', async () => {
    const base = await liveTensors();
    let a!: Tensor;
    let b!: Tensor;
    const out = await torch.tidy(async () => {
      a = torch.arange(3, { dtype: torch.float32 });
      const s = await a.sum().item(); // an await inside the scope
      expect(a.isDisposed).toBe(false);
      await new Promise((r) => setTimeout(r, 5));
      b = a.add(s as number); // created after the awaits: still in this scope
      expect(a.isDisposed).toBe(false);
      return b.mul(2);
    });
    expect(a.isDisposed).toBe(true);
    expect(b.isDisposed).toBe(true);
    expect(await out.tolist()).toEqual([6, 8, 10]);
    out.dispose();
    expect(await liveTensors()).toBe(base);

    // a rejected async tidy disposes too
    let c!: Tensor;
    await expect(
      torch.tidy(async () => {
        c = torch.ones(2);
        await torch.sync();
        throw new Error('async boom');
      }),
    ).rejects.toThrow('async boom');
    expect(c.isDisposed).toBe(true);
    expect(await liveTensors()).toBe(base);
  });

  it('two concurrent async tidies do not dispose each other\'s tensors', async () => {
    const base = await liveTensors();
    const gateA = deferred();
    const started = deferred();
    let a1!: Tensor;
    let b1!: Tensor;
    const pa = torch.tidy(async () => {
      a1 = torch.full([2], 1);
      started.resolve();
      await gateA.promise; // B runs and finishes meanwhile
      expect(a1.isDisposed).toBe(false);
      const a2 = a1.add(10); // created after B ended: belongs to A
      return a2;
    });
    await started.promise;
    const pb = torch.tidy(async () => {
      b1 = torch.full([2], 2);
      await torch.sync();
      return b1.add(20);
    });
    const rb = await pb;
    expect(b1.isDisposed).toBe(true);
    expect(a1.isDisposed).toBe(false); // B's end must not touch A's tensors
    expect(await a1.tolist()).toEqual([1, 1]);
    gateA.resolve();
    const ra = await pa;
    expect(a1.isDisposed).toBe(true);
    expect(ra.isDisposed).toBe(false);
    expect(rb.isDisposed).toBe(false);
    expect(await ra.tolist()).toEqual([11, 11]);
    expect(await rb.tolist()).toEqual([22, 22]);
    ra.dispose();
    rb.dispose();
    expect(await liveTensors()).toBe(base);

    // many interleaved at once
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, k) =>
        torch.tidy(async () => {
          const x = torch.full([1], k);
          await new Promise((r) => setTimeout(r, (8 - k) * 2));
          const y = x.mul(k);
          await torch.sync();
          return y.add(1);
        }),
      ),
    );
    expect(await Promise.all(results.map((t) => t.item()))).toEqual(Array.from({ length: 8 }, (_, k) => k * k + 1));
    results.forEach((t) => t.dispose());
    expect(await liveTensors()).toBe(base);
  });

  it('100,000 ops in a tidy loop leave nothing behind', async () => {
    const base = await torch.memory();
    await torch.sync();
    const baseTensors = await liveTensors();
    const x = torch.zeros(8);
    let last!: Tensor;
    for (let i = 0; i < 100; i++) {
      const r = torch.tidy(() => {
        let acc = x;
        for (let j = 0; j < 1000; j++) acc = acc.add(1);
        return acc;
      });
      if (i < 99) r.dispose();
      else last = r;
    }
    expect(await last.tolist()).toEqual(new Array(8).fill(1000));
    last.dispose();
    x.dispose();
    expect(await liveTensors()).toBe(baseTensors);
    const after = await torch.memory();
    expect(after.bytes).toBe(base.bytes);
    expect(after.handles).toBe(base.handles);
  });
});

interface ChildResult {
  code: number | null;
  signal: string | null;
  hung: boolean;
  stdout: string;
  stderr: string;
}

/** Run the GC fixture in a child node with --expose-gc; kill it if it has not exited in time. */
function runFixture(env: Record<string, string>, timeoutMs: number): Promise<ChildResult> {
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fixture], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: null, signal: 'SIGKILL', hung: true, stdout, stderr });
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // let the pipes drain
      setImmediate(() => resolve({ code, signal, hung: false, stdout, stderr }));
    });
  });
}

/** Whether pid is a live (not zombie) process. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('FinalizationRegistry backstop', () => {
  it('tensors dropped without dispose are freed in the runtime after GC; the child exits by itself', async () => {
    const [withShutdown, without] = await Promise.all([
      runFixture({}, 30_000),
      runFixture({ TB_FIXTURE_NO_SHUTDOWN: '1' }, 30_000),
    ]);
    for (const res of [withShutdown, without]) {
      expect(res.hung, `child hung; stderr:\n${res.stderr}`).toBe(false);
      expect(res.code, res.stderr).toBe(0);
      const line = res.stdout.trim().split('\n').pop()!;
      const r = JSON.parse(line) as { base: number; peak: number; after: number; created: number; check: number; runtimePid: number };
      expect(r.check).toBe(80); // the work really ran
      expect(r.peak - r.base).toBe(r.created); // all alive while referenced
      expect(r.after - r.base).toBeLessThanOrEqual(r.created / 20); // back near the baseline
      // the runtime does not outlive its client
      const deadline = Date.now() + 5000;
      while (running(r.runtimePid) && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 50));
      expect(running(r.runtimePid)).toBe(false);
    }
  }, 40_000);
});

describe('torch.memory()', () => {
  it('reports numbers; bytes grow by the tensor\'s storage size', async () => {
    const m0 = await torch.memory();
    for (const k of ['handles', 'tensors', 'bytes', 'shared_bytes'] as const) {
      expect(typeof m0[k], k).toBe('number');
      expect(Number.isInteger(m0[k])).toBe(true);
      expect(m0[k]).toBeGreaterThanOrEqual(0);
    }
    await torch.sync();
    const base = await torch.memory();
    const z = torch.zeros(1000);
    const m1 = await torch.memory();
    expect(m1.bytes - base.bytes).toBe(4000);
    expect(m1.tensors - base.tensors).toBe(1);
    expect(m1.handles - base.handles).toBe(1);

    const d = torch.zeros(10, 10, { dtype: torch.float64 });
    expect((await torch.memory()).bytes - base.bytes).toBe(4000 + 800);

    // a view shares its base's storage: one more tensor, no more bytes
    const v = z.reshape(10, 100);
    const m2 = await torch.memory();
    expect(m2.tensors - base.tensors).toBe(3);
    expect(m2.bytes - base.bytes).toBe(4800);

    v.dispose();
    z.dispose();
    d.dispose();
    await torch.sync();
    const m3 = await torch.memory();
    expect(m3.bytes).toBe(base.bytes);
    expect(m3.tensors).toBe(base.tensors);
  });

  it('shared_bytes counts shared arrays the runtime has mapped', async () => {
    const base = await torch.memory();
    const arr = torch.shared_array(1024, torch.float32);
    const t = torch.frombuffer(arr);
    const m = await torch.memory();
    expect(m.shared_bytes - base.shared_bytes).toBe(4096);
    expect(m.tensors - base.tensors).toBe(1);
    arr[0] = 1;
    expect(await t.sum().item()).toBe(1);
    t.dispose();
  });
});
