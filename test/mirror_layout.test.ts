/**
 * Layout: torch names some autograd nodes by the input's strides (reshape of a transpose records
 * UnsafeViewBackward0 or ReshapeAliasBackward0, not ViewBackward0). The mirror tracks whether a
 * tensor may be non-contiguous and takes the pending path there instead of guessing. Strict mode
 * (on for all tests) fails torch.sync() on any wrong prediction; every tensor the mirror calls
 * contiguous is also checked against torch's is_contiguous().
 */
import { afterAll, describe, expect, it } from 'vitest';
import torch, { Tensor } from '../src/index.js';
import { int, mulberry32, pick, type Rng } from './fixtures/differential.js';

afterAll(() => torch.shutdown());

/** Tensors the mirror calls contiguous must be contiguous in torch. Returns how many were checked. */
async function checkLayoutClaims(ts: readonly Tensor[]): Promise<number> {
  let checked = 0;
  for (const t of ts) {
    const m = t._m;
    if (m === undefined || m.maybeNoncontiguous) continue;
    const real = await torch.callValue('Tensor.is_contiguous', [t]);
    expect({ op: t._op, shape: m.shape, contiguous: real }).toEqual({ op: t._op, shape: m.shape, contiguous: true });
    checked++;
  }
  return checked;
}

const grad = (t: Tensor | null | undefined) => t?.grad_fn?.name() ?? null;

describe('layout-dependent grad_fn names', () => {
  it('reshapes of non-contiguous tensors are named as torch names them (repro)', async () => {
    const x = torch.randn(3, 4, { requires_grad: true });
    const x3 = torch.randn(2, 3, 4, { requires_grad: true });
    const cases: [string, Tensor][] = [
      ['x.t().reshape(-1)', x.t().reshape(-1)],
      ['x.t().flatten()', x.t().flatten()],
      ['x.t()[0:2].reshape(-1)', x.t().index(torch.slice(0, 2)).reshape(-1)],
      ['x[0].expand(2, 4).reshape(-1)', x.index(0).expand(2, 4).reshape(-1)],
      ['x3.permute(2, 0, 1).reshape(4, 6)', x3.permute(2, 0, 1).reshape(4, 6)],
      ['x3.transpose(1, 2).reshape(2, 12)', x3.transpose(1, 2).reshape(2, 12)],
      ['x.t().reshape(4, 1, 3)', x.t().reshape(4, 1, 3)],
      ['x.t().contiguous()', x.t().contiguous()],
      ['x.t().mul(2).reshape(-1)', x.t().mul(2).reshape(-1)],
      ['linear(x3.transpose(0, 1), w, b)', torch.nn.functional.linear(x3.transpose(0, 1), torch.randn(5, 4), torch.randn(5))],
      ['x3.transpose(0, 1).matmul(m)', x3.transpose(0, 1).matmul(torch.randn(4, 2))],
    ];
    await torch.sync();
    const names = cases.map(([what, t]) => ({ what, grad_fn: grad(t) }));
    expect(names).toEqual([
      { what: 'x.t().reshape(-1)', grad_fn: 'UnsafeViewBackward0' },
      { what: 'x.t().flatten()', grad_fn: 'UnsafeViewBackward0' },
      { what: 'x.t()[0:2].reshape(-1)', grad_fn: 'UnsafeViewBackward0' },
      { what: 'x[0].expand(2, 4).reshape(-1)', grad_fn: 'UnsafeViewBackward0' },
      { what: 'x3.permute(2, 0, 1).reshape(4, 6)', grad_fn: 'ReshapeAliasBackward0' },
      { what: 'x3.transpose(1, 2).reshape(2, 12)', grad_fn: 'UnsafeViewBackward0' },
      { what: 'x.t().reshape(4, 1, 3)', grad_fn: 'ReshapeAliasBackward0' },
      { what: 'x.t().contiguous()', grad_fn: 'CloneBackward0' },
      { what: 'x.t().mul(2).reshape(-1)', grad_fn: 'UnsafeViewBackward0' },
      { what: 'linear(x3.transpose(0, 1), w, b)', grad_fn: 'AddBackward0' },
      { what: 'x3.transpose(0, 1).matmul(m)', grad_fn: 'UnsafeViewBackward0' },
    ]);
    // each of these is what torch records for the same Python
    for (const [what, t] of cases) {
      const m = (await torch.runtime.meta(t)) as { grad_fn: string | null };
      expect({ what, grad_fn: grad(t) }).toEqual({ what, grad_fn: m.grad_fn });
    }
  });

  it('keeps contiguous inputs mirrored: no round trip, contiguous() returns the tensor itself', async () => {
    const x = torch.randn(3, 4, { requires_grad: true });
    const y = x.mul(2);
    const r = y.reshape(-1);
    expect(r._m).toBeDefined();
    expect(grad(r)).toBe('ViewBackward0');
    const c = y.contiguous();
    expect(c._m).toBeDefined();
    expect(grad(c)).toBe('MulBackward0');
    expect(x.contiguous().is_leaf).toBe(true);
    // slicing the leading dim keeps a tensor contiguous
    const s = y.index(torch.slice(1, 3)).reshape(-1);
    expect(grad(s)).toBe('ViewBackward0');
    const t = x.t().contiguous().reshape(-1); // pending contiguous(), then reshape of its result
    await torch.sync();
    expect(grad(t)).toBe((((await torch.runtime.meta(t)) as { grad_fn: string }).grad_fn));
    expect(await checkLayoutClaims([y, r, c, s])).toBe(4);
  });

  it('is free without grad: every result of a layout-changing chain stays mirrored', async () => {
    const x = torch.randn(2, 3, 4);
    const outs = [x.transpose(0, 2), x.permute(1, 2, 0).reshape(-1), x.transpose(1, 2).flatten(1), x.transpose(0, 1).contiguous()];
    outs.push(torch.nn.functional.linear(x.transpose(0, 1), torch.randn(5, 4), torch.randn(5)));
    const g = torch.randn(3, 4, { requires_grad: true });
    outs.push(torch.no_grad(() => g.t().reshape(4, 1, 3))); // only size-1 dims change: a view either way
    for (const t of outs) expect(t._m).toBeDefined();
    await torch.sync();
  });
});

/** One random layout-changing or layout-following step on x (kept at 1-4 dims, a few elements). */
function step(r: Rng, x: Tensor): Tensor {
  const n = x.ndim;
  const dtype = x.dtype;
  const dim = () => int(r, 0, n - 1);
  const ops: (() => Tensor | undefined)[] = [
    () => (n <= 2 ? x.t() : undefined),
    () => x.transpose(dim(), dim()),
    () => {
      const p = [...Array(n).keys()].sort(() => r() - 0.5);
      return x.permute(p);
    },
    () => (n < 4 ? x.unsqueeze(0).expand(2, ...x.shape) : undefined),
    () => {
      const d = dim();
      const size = x.shape[d]!;
      return size > 1 ? x.narrow(d, int(r, 0, 1), size - 1) : undefined;
    },
    () => (n > 1 ? x.select(dim(), 0) : undefined),
    () => (n > 1 ? x.diagonal() : undefined),
    () => x.movedim(0, n - 1),
    () => x.chunk(2, dim())[0],
    () => (n > 1 ? x.unbind(dim())[0] : undefined),
    () => x.index(pick(r, [torch.slice(null, null, 2), torch.slice(1, null), 0, '...'] as const) as never),
    () => (n > 1 ? x.index(torch.slice(null), pick(r, [0, torch.slice(0, 1)] as const) as never) : undefined),
    () => (n < 4 ? x.unsqueeze(dim()) : undefined),
    () => x.squeeze(),
    () => x.mul(2),
    () => x.add(torch.randn(x.shape as number[], { dtype })),
    () => x.exp(),
    () => x.relu(),
    () => x.to(pick(r, [torch.float64, torch.float32])),
    () => x.clone(),
    () => (n > 1 ? x.sum(dim()) : undefined),
    () => x.softmax(-1),
    () => x.reshape(-1),
    () => x.flatten(),
    () => (n > 2 ? x.flatten(1) : undefined),
    () => x.contiguous(),
    () => x.matmul(torch.randn([x.shape[n - 1]!, 2], { dtype })),
    () => (n === 3 ? torch.nn.functional.linear(x, torch.randn([2, x.shape[2]!], { dtype }), torch.randn([2], { dtype })) : undefined),
    () => x.reshape_as(torch.empty(x.numel())),
    () => x.unflatten(0, [1, x.shape[0]!]),
  ];
  for (;;) {
    const out = pick(r, ops)();
    if (out === undefined) continue;
    if (out._m === undefined || (out.numel() > 0 && out.ndim >= 1 && out.ndim <= 4)) return out;
  }
}

function chain(seed: number, requiresGrad: boolean, length: number): Tensor[] {
  const r = mulberry32(seed);
  const shape = Array.from({ length: int(r, 1, 3) }, () => int(r, 1, 4));
  let x = torch.randn(shape, { requires_grad: requiresGrad });
  const all = [x];
  for (let i = 0; i < length; i++) {
    // a pending result (the mirror asked the runtime) has no shape yet: the chain waits for it
    if (x._m === undefined) break;
    x = step(r, x);
    all.push(x);
  }
  return all;
}

describe('randomized chains of views, pointwise ops and reshapes', () => {
  it('predicts no wrong grad_fn (strict mode) and no wrong layout, with grad', async () => {
    let pending = 0;
    let checked = 0;
    for (let seed = 1; seed <= 60; seed++) {
      // a pending result ends its chain early (see chain())
      const ts = chain(seed, true, 10);
      pending += ts.filter((t) => t._m === undefined).length;
      await torch.sync(); // rejects with MirrorMismatchError on any wrong prediction
      checked += await checkLayoutClaims(ts);
      for (const t of ts) t.dispose();
    }
    expect(checked).toBeGreaterThan(100);
    expect(pending).toBeGreaterThan(0); // the layout-dependent cases did take the pending path
  });

  it('stays mirrored without grad: metadata is readable synchronously all along', async () => {
    let checked = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const ts = chain(seed, false, 10);
      expect(ts.length).toBe(11);
      for (const t of ts) expect(t._m).toBeDefined();
      await torch.sync();
      checked += await checkLayoutClaims(ts);
      for (const t of ts) t.dispose();
    }
    expect(checked).toBeGreaterThan(100);
  });
});
