/** Strict mode: every mirrored result is checked against torch's (the suite runs with it on). */
import { afterAll, describe, expect, it } from 'vitest';
import torch, { MirrorMismatchError } from '../src/index.js';
import { strict } from '../src/ops/dispatch.js';
import { RULES } from '../src/ops/rules.js';
import { float64 } from '../src/tensor/dtype.js';

afterAll(async () => {
  await torch.shutdown();
});

describe('strict mode', () => {
  it('is on for the test suite', () => {
    expect(process.env.TORCHBRIDGE_STRICT).toBe('1');
    expect(strict.enabled).toBe(true);
  });

  it('a result whose metadata torch refuses to report (no_grad view modified in place) does not stop the runtime', async () => {
    const x = torch.randn(3, 2, { requires_grad: true });
    const pid = torch.runtime.pid;
    const r = torch.no_grad(() => x.select(0, 1));
    torch.no_grad(() => r.zero_());
    await torch.sync();
    // Python raises on r.requires_grad here; the runtime kept going and x holds the write
    expect(((await x.tolist()) as number[][])[1]).toEqual([0, 0]);
    expect(torch.runtime.pid).toBe(pid);
  });

  it('agreement passes silently', async () => {
    const x = torch.randn(3, 4, { requires_grad: true });
    const y = x.matmul(x.transpose(0, 1)).exp().sum(1, true).div(2);
    await expect(y.tolist()).resolves.toHaveLength(3);
  });

  it('a wrong prediction is reported at the next sync point, naming the op and both answers', async () => {
    const real = RULES.get('neg')!;
    // A deliberately broken rule: claim float64 where torch gives float32.
    RULES.set('neg', (a) => ({ shape: [...(a.input as { shape: number[] }).shape], dtype: float64, device: 'cpu' }));
    try {
      const y = torch.ones(2).neg();
      expect(String(y.dtype)).toBe('torch.float64'); // what the broken mirror says
      torch.ones(2).neg(); // the same disagreement again: listed once, counted
      const err = (await torch.sync().catch((e: unknown) => e)) as MirrorMismatchError;
      expect(err).toBeInstanceOf(MirrorMismatchError);
      expect(err.message).toContain('Tensor.neg output 0');
      expect(err.message).toContain('torch.float64');
      expect(err.message).toContain('torch gave shape [2], torch.float32');
      expect(err.message).toContain('(2 times)');
      expect(err.message.split('\n')).toHaveLength(2);
    } finally {
      RULES.set('neg', real);
    }
    await torch.sync(); // reported once
  });
});
