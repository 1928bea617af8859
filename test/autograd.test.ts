/** The autograd API against Python twins: backward, .grad, retain_grad, autograd.grad, grad modes. */
import { afterAll, describe, expect, it } from 'vitest';
import torch, { Tensor, TorchError } from '../src/index.js';
import { python } from './fixtures/python_twin.js';

afterAll(async () => {
  await torch.shutdown();
});

const values = (t: Tensor | null) => (t === null ? null : t.tolist());

describe('backward and .grad', () => {
  it('scalar backward: every leaf reached has a .grad whose metadata is known at once', async () => {
    torch.manual_seed(0);
    const x = torch.randn(3, 2, { requires_grad: true });
    const w = torch.randn(2, 4, { requires_grad: true });
    const c = torch.randn(3, 4); // no grad
    x.matmul(w).add(c).tanh().pow(2).sum().backward();
    const gx = x.grad!;
    // no await needed for the mirror's view of the gradient
    expect(gx.shape).toEqual([3, 2]);
    expect(String(gx.dtype)).toBe('torch.float32');
    expect(gx.requires_grad).toBe(false);
    expect(gx.is_leaf).toBe(true);
    expect(w.grad!.shape).toEqual([2, 4]);
    expect(c.grad).toBeNull();
    expect(x.grad).toBe(gx); // the same handle each read, like Python's same object
    const py = python<unknown[]>(`
      torch.manual_seed(0)
      x = torch.randn(3, 2, requires_grad=True); w = torch.randn(2, 4, requires_grad=True); c = torch.randn(3, 4)
      (x @ w + c).tanh().pow(2).sum().backward()
      print(json.dumps([x.grad.tolist(), w.grad.tolist()]))
    `);
    expect([await gx.tolist(), await w.grad!.tolist()]).toEqual(py);
  });

  it('gradient= for non-scalar roots, retain_graph, and accumulation across calls', async () => {
    torch.manual_seed(1);
    const x = torch.randn(4, { requires_grad: true });
    const y = x.exp().mul(x);
    const g = torch.randn(4);
    y.backward(g, true);
    y.backward(g, { retain_graph: true });
    x.sum().mul(3).backward();
    const py = python<unknown>(`
      torch.manual_seed(1)
      x = torch.randn(4, requires_grad=True); y = x.exp() * x; g = torch.randn(4)
      y.backward(g, True); y.backward(g, retain_graph=True); (x.sum() * 3).backward()
      print(json.dumps(x.grad.tolist()))
    `);
    expect(await x.grad!.tolist()).toEqual(py);
  });

  it("torch's errors: non-scalar without gradient (at the call), a second pass through a freed graph (at the next sync)", async () => {
    const x = torch.randn(3, { requires_grad: true });
    expect(() => x.mul(2).backward()).toThrow('grad can be implicitly created only for scalar outputs');
    expect(() => torch.ones(2).sum().backward()).toThrow('element 0 of tensors does not require grad and does not have a grad_fn');
    const y = x.exp().sum();
    y.backward();
    y.backward();
    const err = await torch.sync().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TorchError);
    expect((err as Error).message).toContain('Trying to backward through the graph a second time');
    // the runtime is fine afterwards and x's first grad is intact
    expect(await x.grad!.tolist()).toEqual(await x.exp().detach().tolist());
  });

  it('in-place accumulation in a long loop: every input reached gets its grad, as in Python', async () => {
    const w = torch.ones(3, { requires_grad: true });
    const xs = [torch.full([3], 2, { dtype: torch.float32, requires_grad: true }), torch.ones(3, { requires_grad: true })];
    const acc = w.mul(1);
    for (let i = 0; i < 2000; i++) acc.add_(xs[i < 1000 ? 0 : 1]!.mul(i % 3));
    acc.sum().backward();
    expect(xs[1]!.grad!.shape).toEqual([3]);
    const py = python<unknown>(`
      w = torch.ones(3, requires_grad=True)
      xs = [torch.full([3], 2.0, requires_grad=True), torch.ones(3, requires_grad=True)]
      acc = w * 1
      for i in range(2000): acc.add_(xs[0 if i < 1000 else 1] * (i % 3))
      acc.sum().backward()
      print(json.dumps([w.grad.tolist(), xs[0].grad.tolist(), xs[1].grad.tolist()]))
    `);
    expect([await w.grad!.tolist(), await xs[0]!.grad!.tolist(), await xs[1]!.grad!.tolist()]).toEqual(py);
  });

  it('retain_grad keeps a non-leaf grad; without it a non-leaf has none', async () => {
    torch.manual_seed(2);
    const x = torch.randn(2, 3, { requires_grad: true });
    const h = x.sigmoid();
    const k = h.mul(2);
    h.retain_grad();
    expect(h.retains_grad).toBe(true);
    expect(x.retains_grad).toBe(false);
    k.pow(2).mean().backward();
    expect(h.grad!.shape).toEqual([2, 3]);
    expect(k.grad).toBeNull();
    const py = python<unknown>(`
      torch.manual_seed(2)
      x = torch.randn(2, 3, requires_grad=True); h = x.sigmoid(); k = h * 2
      h.retain_grad(); k.pow(2).mean().backward()
      print(json.dumps([h.grad.tolist(), x.grad.tolist()]))
    `);
    expect([await h.grad!.tolist(), await x.grad!.tolist()]).toEqual(py);
  });

  it('requires_grad_, the requires_grad setter, detach, and .grad assignment follow torch', async () => {
    const a = torch.ones(2);
    expect(a.requires_grad_().requires_grad).toBe(true);
    a.requires_grad = false;
    expect(a.requires_grad).toBe(false);
    expect(() => torch.arange(3).requires_grad_()).toThrow('only Tensors of floating point dtype can require gradients');
    const b = torch.ones(2, { requires_grad: true }).mul(2);
    expect(() => b.requires_grad_(false)).toThrow("you can only change requires_grad flags of leaf variables");
    const d = b.detach();
    expect([d.requires_grad, d.is_leaf, d.grad_fn]).toEqual([false, true, null]);

    const p = torch.zeros(2, 2, { requires_grad: true });
    p.grad = torch.full([2, 2], 5, { dtype: torch.float32 });
    expect(p.grad!.shape).toEqual([2, 2]);
    expect(await p.grad!.tolist()).toEqual([[5, 5], [5, 5]]);
    expect(() => (p.grad = torch.ones(3))).toThrow("attempting to assign a gradient of size '[3]' to a tensor of size '[2, 2]'");
    p.sum().backward(); // accumulates into the assigned grad, as in Python
    expect(await p.grad!.tolist()).toEqual([[6, 6], [6, 6]]);
    p.grad = null;
    expect(p.grad).toBeNull();
  });
});

describe('torch.autograd.grad', () => {
  it('first and second derivatives (create_graph) equal Python', async () => {
    torch.manual_seed(3);
    const x = torch.randn(5, { requires_grad: true });
    const y = x.pow(3).sin().sum();
    const [g1] = torch.autograd.grad(y, x, { create_graph: true });
    // with create_graph the result's autograd state depends on the functions: the runtime reports it
    expect((await g1!.ready()).requires_grad).toBe(true);
    const [g2] = torch.autograd.grad(g1!.sum(), x);
    expect(g2!.shape).toEqual([5]);
    expect(x.grad).toBeNull(); // autograd.grad does not accumulate
    const py = python<unknown>(`
      torch.manual_seed(3)
      x = torch.randn(5, requires_grad=True)
      y = x.pow(3).sin().sum()
      (g1,) = torch.autograd.grad(y, x, create_graph=True)
      (g2,) = torch.autograd.grad(g1.sum(), x)
      print(json.dumps([g1.tolist(), g2.tolist()]))
    `);
    expect([await g1!.tolist(), await g2!.tolist()]).toEqual(py);
  });

  it('backward(create_graph=True): the grad is differentiable and a second backward accumulates like Python', async () => {
    torch.manual_seed(4);
    const x = torch.randn(4, { requires_grad: true });
    x.pow(3).sum().backward({ create_graph: true });
    const first = x.grad!;
    expect((await first.ready()).requires_grad).toBe(true);
    const firstValues = await first.tolist();
    first.mul(x).sum().backward();
    const py = python<unknown>(`
      torch.manual_seed(4)
      x = torch.randn(4, requires_grad=True)
      x.pow(3).sum().backward(create_graph=True)
      first = x.grad.tolist()
      (x.grad * x).sum().backward()
      print(json.dumps([first, x.grad.tolist()]))
    `);
    expect([firstValues, await x.grad!.tolist()]).toEqual(py);
  });

  it('unused inputs: torch\'s error, or null with allow_unused', async () => {
    const x = torch.randn(2, { requires_grad: true });
    const z = torch.randn(2, { requires_grad: true });
    const y = x.mul(2).sum();
    expect(() => torch.autograd.grad(y, [x, z], { retain_graph: true })).toThrow('One of the differentiated Tensors appears to not have been used in the graph');
    const [gx, gz] = torch.autograd.grad(y, [x, z], { allow_unused: true, retain_graph: true });
    expect(gz).toBeNull();
    expect(await values(gx!)).toEqual([2, 2]);
    // Python's positional order: grad_outputs, retain_graph, create_graph, only_inputs, allow_unused
    const [, gz2] = torch.autograd.grad(y, [x, z], null, null, false, true, true);
    expect(gz2).toBeNull();
    expect(() => torch.autograd.grad(y, x, { retain_grpah: true })).toThrow('retain_grpah');
  });
});

describe('grad modes', () => {
  it('no_grad, enable_grad, set_grad_enabled and inference_mode, as callbacks and with using', async () => {
    const x = torch.ones(2, { requires_grad: true });
    expect(torch.no_grad(() => x.mul(2)).requires_grad).toBe(false);
    expect(torch.no_grad(() => torch.enable_grad(() => x.mul(2))).requires_grad).toBe(true);
    {
      using _g = torch.no_grad();
      expect(x.mul(2).requires_grad).toBe(false);
      expect(torch.is_grad_enabled()).toBe(false);
    }
    expect(torch.is_grad_enabled()).toBe(true);
    {
      using _g = torch.set_grad_enabled(false);
      expect(x.add(1).requires_grad).toBe(false);
    }
    {
      using _g = torch.inference_mode();
      expect(x.add(1).requires_grad).toBe(false);
    }
    const y = x.mul(3);
    expect(y.requires_grad).toBe(true);
    // the runtime agrees (strict mode checks every result above too)
    expect(((await torch.runtime.meta(y)) as { requires_grad: boolean }).requires_grad).toBe(true);
  });
});
