/**
 * grad_fn: the mirror names the autograd node of every result the way torch does, without a
 * round trip. Each case is compared with the runtime's own answer (torch.runtime.meta).
 */
import { afterAll, describe, expect, it } from 'vitest';
import torch, { Tensor } from '../src/index.js';

afterAll(() => torch.shutdown());

/** The runtime's grad_fn name for t (what Python's type(t.grad_fn).__name__ gives). */
async function real(t: Tensor): Promise<string | null> {
  const m = (await torch.runtime.meta(t)) as { grad_fn: string | null };
  return m.grad_fn;
}

describe('grad_fn', () => {
  it('names the node like torch, for overloads picked by the arguments', async () => {
    const x = torch.randn(3, 4, { requires_grad: true });
    const cases: [string, Tensor][] = [
      ['x.add(2)', x.add(2)],
      ['x.mul(x)', x.mul(x)],
      ['x.div(2, rounding_mode)', x.div(2, { rounding_mode: 'floor' })],
      ['x.pow(2)', x.pow(2)],
      ['x.pow(x)', x.pow(x)],
      ['x.sum()', x.sum()],
      ['x.sum(1)', x.sum(1)],
      ['x.max()', x.max()],
      ['x.max(x)', x.max(x)],
      ['x.clamp(0)', x.clamp(0)],
      ['x.reshape(12)', x.reshape(12)],
      ['x.t()', x.t()],
      ['x.double()', x.double()],
      ['x.softmax(1)', x.softmax(1)],
      ['x.mm(x.t())', x.mm(x.t())],
    ];
    for (const [what, t] of cases) {
      expect({ what, grad_fn: t.grad_fn?.name() ?? null }).toEqual({ what, grad_fn: await real(t) });
    }
  });

  it('is null for leaves, detached results and under no_grad', async () => {
    const x = torch.randn(2, { requires_grad: true });
    expect(x.grad_fn).toBeNull();
    expect(x.detach().grad_fn).toBeNull();
    expect(torch.no_grad(() => x.mul(2)).grad_fn).toBeNull();
    expect(await real(x)).toBeNull();
  });

  it('an in-place op renames self, as torch does', async () => {
    const x = torch.randn(3, { requires_grad: true });
    const y = x.mul(2);
    y.add_(1);
    expect(y.grad_fn?.name()).toBe(await real(y));
    const z = torch.zeros(3);
    z.mul_(x);
    expect(z.grad_fn?.name()).toBe(await real(z));
  });

  it('prints like Python: <AddBackward0 object>, and grad_fn=<...> in the tensor', () => {
    const y = torch.randn(2, { requires_grad: true }).add(1);
    expect(String(y.grad_fn)).toBe('<AddBackward0 object>');
    expect(String(y)).toContain('grad_fn=<AddBackward0>');
  });
});
