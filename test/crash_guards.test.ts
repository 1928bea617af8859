/** torch calls that would kill the runtime process (a signal) are refused with torch's error instead. */
import { afterAll, describe, expect, it } from 'vitest';
import torch, { TorchError } from '../src/index.js';

afterAll(() => torch.shutdown());

describe('calls that crash torch itself', () => {
  it('int64 Tensor.mvlgamma_ (SIGFPE in torch 2.9) raises what int32 raises; the runtime and its tensors live on', async () => {
    const { pid } = await torch.init();
    const keep = torch.arange(4).add(1);
    const x = torch.ones([2, 2], { dtype: torch.int64 });
    x.call('mvlgamma_', [2]);
    const err = await torch.sync().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TorchError);
    expect((err as TorchError).pyType).toBe('RuntimeError');
    expect((err as TorchError).pyMessage).toBe("result type Float can't be cast to the desired output type Long");
    expect(((await torch.runtime.ping()) as { pid: number }).pid).toBe(pid);
    expect(await keep.tolist()).toEqual([1, 2, 3, 4]);
    // the guard lets every other dtype through to torch
    expect(await torch.ones([2], { dtype: torch.float64 }).call('mvlgamma_', [1]).tolist()).toEqual([0, 0]);
  });

  it('torch.lu_unpack with pivots whose last dim is empty (SIGSEGV in torch 2.9) raises what other bad pivots raise', async () => {
    const { pid } = await torch.init();
    const keep = torch.arange(4).add(1);
    const [p, l, u] = torch.call('lu_unpack', [torch.ones(3, 2), torch.zeros([2, 0], { dtype: torch.int32 })], {}, { outputs: 3 });
    const err = await p!.ready().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TorchError);
    expect((err as TorchError).pyMessage).toMatch(/^pivots passed to lu_unpack must be between 1 and LU.size\(-2\) inclusive/);
    await torch.sync().catch(() => {});
    expect(((await torch.runtime.ping()) as { pid: number }).pid).toBe(pid);
    expect(await keep.tolist()).toEqual([1, 2, 3, 4]);
    for (const t of [p, l, u]) t!.dispose();
    // real pivots still unpack: P @ L @ U gives the matrix back
    const a = torch.tensor([[4, 3], [6, 3]], { dtype: torch.float64 });
    const [lu, piv] = torch.call('linalg.lu_factor', [a], {}, { outputs: 2 });
    const [P, L, U] = torch.call('lu_unpack', [lu!, piv!], {}, { outputs: 3 });
    expect(await torch.call('matmul', [torch.call('matmul', [P!, L!]), U!]).tolist()).toEqual([[4, 3], [6, 3]]);
  });

  it('torch.arange / torch.range of an integer dtype with a step below 1 (SIGFPE in torch 2.9) raise that the step is 0', async () => {
    const { pid } = await torch.init();
    const keep = torch.arange(4).add(1);
    for (const name of ['arange', 'range']) {
      const t = torch.call(name, [0, 2, 0.5], { dtype: torch.int64 });
      const err = await t.ready().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TorchError);
      expect((err as TorchError).pyMessage).toBe('step must be nonzero (step 0.5 is 0 as torch.int64)');
      await torch.sync().catch(() => {});
    }
    expect(((await torch.runtime.ping()) as { pid: number }).pid).toBe(pid);
    expect(await keep.tolist()).toEqual([1, 2, 3, 4]);
    // steps that stay nonzero as ints, and float dtypes, are torch's as before
    expect(await torch.call('arange', [0, 4, 1.5], { dtype: torch.int64 }).tolist()).toEqual([0, 1, 2, 3]);
    expect(await torch.call('arange', [0, 2, 0.5], { dtype: torch.float32 }).tolist()).toEqual([0, 0.5, 1, 1.5]);
  });
});

