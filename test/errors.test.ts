/** Errors: Python exceptions reaching TS, poisoning, call-site errors, bad arguments, dispose. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import torch, { ArgumentError, DisposedError, Tensor, TorchError } from '../src/index.js';
import { syncError, pythonError } from './fixtures/errors.js';

beforeAll(async () => {
  await torch.init();
});
afterAll(async () => {
  await torch.shutdown();
});

describe('Python exceptions', () => {
  it("carry Python's type, message and traceback plus the TS call site of the failing op", async () => {
    const x = torch.ones(3);
    const bad = torch.call('index_select', [x, 0, torch.tensor([5])]); // line of the call site
    const err = (await bad.sum().item().catch((e: unknown) => e)) as TorchError;
    expect(err).toBeInstanceOf(TorchError);
    expect(err.pyType).toBe('IndexError');
    expect(err.pyMessage).toBe('index out of range in self');
    expect(err.message).toBe('IndexError: index out of range in self');
    expect(err.pyTraceback).toMatch(/^Traceback \(most recent call last\):/);
    expect(err.pyTraceback).toContain('IndexError: index out of range in self');
    expect(err.op).toBe('index_select');
    expect(err.callSite).toContain('errors.test.ts');
    expect(err.stack).toContain('torch.index_select was queued at');
  });

  it('poison the failed op and every op that depends on it; independent work goes on', async () => {
    const x = torch.ones(3);
    const bad = torch.call('index_select', [x, 0, torch.tensor([7])]);
    const dep1 = bad.add(1);
    const dep2 = dep1.mul(dep1);
    const independent = x.mul(5);
    await expect(torch.sync()).rejects.toMatchObject({ pyType: 'IndexError', op: 'index_select' });
    // the report is consumed once; the handles stay poisoned with the original error
    await torch.sync();
    for (const t of [bad, dep1, dep2]) {
      const err = (await t.tolist().catch((e: unknown) => e)) as TorchError;
      expect(err).toBeInstanceOf(TorchError);
      expect(err.pyType).toBe('IndexError');
      expect(err.op).toBe('index_select');
    }
    expect(await independent.tolist()).toEqual([5, 5, 5]);
    expect(await x.add(1).sum().item()).toBe(6); // the session keeps working
  });

  it('an unreported failure surfaces at the next sync point, whichever tensor it reads', async () => {
    const x = torch.ones(2);
    void torch.call('index_select', [x, 0, torch.tensor([9])]);
    const other = torch.ones(2).add(1);
    await expect(other.item().catch((e: unknown) => e)).resolves.toMatchObject({ pyType: 'IndexError' });
    expect(await other.tolist()).toEqual([2, 2]);
  });

  it('a failing op without a mirror rule still names where it was queued (auto call sites)', async () => {
    const x = torch.ones(2);
    const y = x.to('mps'); // not available on this platform: fails in the runtime
    const err = (await y.sum().item().catch((e: unknown) => e)) as TorchError;
    expect(err).toBeInstanceOf(TorchError);
    expect(err.op).toBe('.to');
    expect(err.callSite).toContain('errors.test.ts');
  });
});

describe('errors the mirror predicts are thrown at the call site with torch\'s text', () => {
  it('broadcast mismatch', async () => {
    const a = torch.ones(2, 3);
    const b = torch.ones(4);
    const mine = syncError(() => a.add(b));
    const theirs = await pythonError('add', [a, b]);
    expect(mine.pyType).toBe(theirs.pyType);
    expect(mine.pyMessage).toBe(theirs.pyMessage);
  });

  it('matmul shapes', async () => {
    const a = torch.ones(2, 3);
    const b = torch.ones(4, 5);
    const mine = syncError(() => a.matmul(b));
    const theirs = await pythonError('matmul', [a, b]);
    expect(mine.pyMessage).toBe(theirs.pyMessage);
  });

  it('reshape to an impossible shape', async () => {
    const a = torch.ones(2, 3);
    const mine = syncError(() => a.reshape(4, 2));
    const theirs = await pythonError('reshape', [a, [4, 2]]);
    expect(mine.pyMessage).toBe(theirs.pyMessage);
  });

  it('dim out of range', async () => {
    const a = torch.ones(2, 3);
    const mine = syncError(() => a.sum(2));
    const theirs = await pythonError('sum', [a, 2]);
    expect(mine.pyType).toBe(theirs.pyType);
    expect(mine.pyMessage).toBe(theirs.pyMessage);
  });

  it('negative sizes', async () => {
    for (const name of ['zeros', 'ones', 'empty', 'randn'] as const) {
      const mine = syncError(() => torch[name](2, -1));
      const theirs = await pythonError(name, [[2, -1]]);
      expect(mine.pyMessage).toBe(theirs.pyMessage);
    }
    const mine = syncError(() => torch.ones(4).reshape(-2, 2));
    const theirs = await pythonError('reshape', [torch.ones(4), [-2, 2]]);
    expect(mine.pyMessage).toBe(theirs.pyMessage);
  });

  it('mean of an integer tensor', async () => {
    const a = torch.arange(4);
    const mine = syncError(() => a.mean());
    const theirs = await pythonError('mean', [a]);
    expect(mine.pyMessage).toBe(theirs.pyMessage);
  });

  it('negating a bool tensor', async () => {
    const a = torch.tensor([true, false]);
    const mine = syncError(() => a.neg());
    const theirs = await pythonError('neg', [a]);
    expect(mine.pyMessage).toBe(theirs.pyMessage);
  });
});

describe('bad arguments', () => {
  it('wrong types, unknown keywords, unknown dtypes and too many arguments are ArgumentErrors naming the op', () => {
    const a = torch.ones(2);
    expect(() => a.add('x' as never)).toThrow(ArgumentError);
    expect(() => a.add('x' as never)).toThrow(/add\(\): argument 'other' must be Tensor\|Scalar, not string/);
    expect(() => a.add(1, { alpah: 2 } as never)).toThrow(/unexpected keyword argument 'alpah'/);
    expect(() => torch.zeros(2, { dtype: 'float32' } as never)).toThrow(/argument 'dtype' must be dtype or null, not string/);
    expect(() => (a.transpose as (...a: number[]) => unknown)(0, 1, 2)).toThrow(/takes 3 positional argument\(s\) but 4 were given/);
    expect(() => torch.ones(2.5)).toThrow(ArgumentError);
    expect(() => torch.tensor([1, 'a' as never])).toThrow(ArgumentError);
  });

  it('use after dispose throws DisposedError, synchronously for ops and as a rejection for reads', async () => {
    const a = torch.ones(2);
    a.dispose();
    expect(a.isDisposed).toBe(true);
    expect(() => a.add(1)).toThrow(DisposedError);
    expect(() => torch.add(torch.ones(2), a)).toThrow(DisposedError);
    await expect(a.item()).rejects.toBeInstanceOf(DisposedError);
    a.dispose(); // idempotent
  });
});
