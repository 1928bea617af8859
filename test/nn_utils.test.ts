/** torch.nn.utils against Python: clipping numbers and vector conversions. */
import { afterAll, describe, expect, it } from 'vitest';
import torch, { nn, TorchError, type Tensor } from '../src/index.js';
import { python } from './fixtures/python_twin.js';
import { close } from './fixtures/nn_twin.js';


afterAll(async () => {
  await torch.shutdown();
});

/** A small model whose gradients are set from the seed (the same on both sides). */
function model(seed: number): nn.Sequential {
  torch.manual_seed(seed);
  const m = new nn.Sequential(new nn.Linear(3, 4), new nn.Linear(4, 2));
  for (const p of m.parameters()) p.grad = torch.randn(p.shape as number[]).mul(3);
  return m;
}
const PY_MODEL = (seed: number) => `
from torch import nn
torch.manual_seed(${seed})
m = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
for p in m.parameters():
    p.grad = torch.randn(p.shape) * 3
`;

async function grads(m: nn.Module): Promise<unknown[]> {
  return Promise.all(m.parameters().map((p) => (p.grad as Tensor).tolist()));
}

describe('nn.utils', () => {
  it('clip_grad_norm_ returns the total norm and scales gradients like Python (2, 1, inf norms)', async () => {
    const out: unknown[] = [];
    for (const [i, norm] of [2, 1, Infinity].entries()) {
      const m = model(i);
      const total = nn.utils.clip_grad_norm_(m.parameters(), 1.5, norm);
      out.push({ total: await total.item(), grads: await grads(m) });
    }
    const py = python<unknown[]>(`
      out = []
      for i, norm in enumerate([2.0, 1.0, math.inf]):
      ${PY_MODEL(0).replace('(0)', '(i)').split('\n').join('\n          ')}
          total = nn.utils.clip_grad_norm_(m.parameters(), 1.5, norm)
          out.append({'total': total.item(), 'grads': [p.grad.tolist() for p in m.parameters()]})
      print(json.dumps(out))
    `);
    expect(close(out, py)).toBeNull();
  });

  it('clip_grad_norm_ with error_if_nonfinite raises Python\'s error at the next read', async () => {
    const m = model(0);
    m.parameters()[0]!.grad = torch.full([4, 3], Number.NaN);
    const total = nn.utils.clip_grad_norm_(m.parameters(), 1, { error_if_nonfinite: true });
    const err = await total.item().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TorchError);
    expect((err as TorchError).pyMessage).toMatch(/The total norm of order 2.0 for gradients from `parameters` is non-finite/);
  });

  it("clip_grad_norm_'s total norm has its metadata at once, as the runtime reports it (strict)", async () => {
    torch.set_strict(true);
    try {
      const total = nn.utils.clip_grad_norm_(model(0).parameters(), 1.5);
      expect([total.shape, String(total.dtype), total.device, total.requires_grad, total.grad_fn]).toEqual([[], 'torch.float32', 'cpu', false, null]);
      // no gradient at all: torch.tensor(0.0)
      const none = nn.utils.clip_grad_norm_([torch.zeros(2, { requires_grad: true })], 1.0);
      expect([none.shape, String(none.dtype)]).toEqual([[], 'torch.float32']);
      const w = torch.ones(3, { dtype: torch.float64, requires_grad: true });
      w.sum().backward();
      expect(String(nn.utils.clip_grad_norm_(w, 1.0).dtype)).toBe('torch.float64');
      // gradients of two dtypes: torch promotes; the runtime says so
      const a = torch.ones(3, { requires_grad: true });
      const b = torch.ones(2, { dtype: torch.float64, requires_grad: true });
      a.sum().add(b.sum()).backward();
      const mixed = await nn.utils.clip_grad_norm_([a, b], 1.0).ready();
      expect(String(mixed.dtype)).toBe('torch.float64');
      await torch.sync(); // strict mode throws here if the mirror disagreed
    } finally {
      torch.set_strict(false);
    }
  });

  it('clip_grad_value_ clamps every gradient like Python', async () => {
    const m = model(5);
    nn.utils.clip_grad_value_(m.parameters(), 0.8);
    const py = python<unknown[]>(`
      ${PY_MODEL(5).split('\n').join('\n      ')}
      nn.utils.clip_grad_value_(m.parameters(), 0.8)
      print(json.dumps([p.grad.tolist() for p in m.parameters()]))
    `);
    expect(await grads(m)).toEqual(py);
  });

  it('parameters_to_vector / vector_to_parameters round trip like Python', async () => {
    const m = model(2);
    const v = nn.utils.parameters_to_vector(m.parameters());
    expect(v.shape).toEqual([3 * 4 + 4 + 4 * 2 + 2]);
    expect(v.requires_grad).toBe(true);
    const py = python<{ v: number[]; after: unknown[] }>(`
      ${PY_MODEL(2).split('\n').join('\n      ')}
      v = nn.utils.parameters_to_vector(m.parameters())
      nn.utils.vector_to_parameters(torch.arange(v.numel(), dtype=torch.float32), m.parameters())
      print(json.dumps({'v': v.tolist(), 'after': [p.tolist() for p in m.parameters()]}))
    `);
    expect(await v.tolist()).toEqual(py.v);
    nn.utils.vector_to_parameters(torch.arange(v.numel(), { dtype: torch.float32 }), m.parameters());
    expect(await Promise.all(m.parameters().map((p) => p.tolist()))).toEqual(py.after);
    expect(m.parameters()[0]!.requires_grad).toBe(true);
  });
});
