/**
 * Reads answered as soon as their value exists (python/torchbridge_runtime/early_reads.py):
 * a read may overtake queued work that cannot write what it reads, and must wait for work that
 * can. Every value is compared with what Python's program order gives for the same program.
 */
import { describe, expect, it } from 'vitest';
import torch, { nn, type Tensor } from '../src/index.js';
import { python } from './fixtures/python_twin.js';

const F = torch.nn.functional;

/** Queue ~1 s of matmuls on tensors of their own (they touch nothing the tests read). */
function longUnrelatedWork(): Tensor {
  const a = torch.randn(1200, 1200);
  let y = a;
  for (let i = 0; i < 25; i++) y = y.matmul(a).div(1200);
  return y.sum();
}

/** Resolve each promise and note when: [value, ms since t0]. */
async function timed<T>(p: Promise<T>, t0: number): Promise<[T, number]> {
  const v = await p;
  return [v, performance.now() - t0];
}

describe('early reads', () => {
  it('a read overtakes queued work that cannot write it: answered while that work still runs', async () => {
    await torch.init();
    const x = torch.arange(6, { dtype: torch.float32 });
    const loss = x.mul(x).sum();
    const long = longUnrelatedWork();
    const t0 = performance.now();
    const [[value, readMs], [, syncMs]] = await Promise.all([timed(loss.item(), t0), timed(torch.sync(), t0)]);
    expect(value).toBe(55);
    // the read came back while the matmuls were still running, well before they ended
    expect(syncMs - readMs).toBeGreaterThan(300);
    long.dispose();
  });

  it('loss.item() after backward and step is the loss before the step; a parameter read after step() waits for it', async () => {
    torch.manual_seed(0);
    const model = new nn.Linear(4, 2);
    const opt = new torch.optim.SGD(model.parameters(), 0.1, 0.9);
    const x = torch.arange(8, { dtype: torch.float32 }).reshape(2, 4).div(8);
    const losses: Promise<unknown>[] = [];
    const weights: Promise<unknown>[] = [];
    for (let step = 0; step < 3; step++) {
      const loss = (model.forward(x) as Tensor).pow(2).mean();
      opt.zero_grad();
      loss.backward();
      opt.step();
      losses.push(loss.item()); // queued after step: may overtake backward and step
      weights.push(model.weight.tolist()); // queued after step: must see the update
      weights.push(model.weight.grad!.tolist()); // and the gradient backward wrote
    }
    const got = { losses: await Promise.all(losses), weights: await Promise.all(weights) };
    const want = python<typeof got>(`
      torch.manual_seed(0)
      model = torch.nn.Linear(4, 2)
      opt = torch.optim.SGD(model.parameters(), 0.1, 0.9)
      x = torch.arange(8, dtype=torch.float32).reshape(2, 4) / 8
      losses, weights = [], []
      for step in range(3):
          loss = model(x).pow(2).mean()
          opt.zero_grad(); loss.backward(); opt.step()
          losses.append(loss.item()); weights.append(model.weight.tolist()); weights.append(model.weight.grad.tolist())
      print(json.dumps({"losses": losses, "weights": weights}))
    `);
    expect(got).toEqual(want);
  });

  it('each write hazard holds the read back to program order (same values as Python)', async () => {
    const reads: Promise<unknown>[] = [];
    // in place on the tensor itself
    const a = torch.ones(3);
    let long = longUnrelatedWork();
    a.add_(1);
    reads.push(a.tolist());
    // in place through a view of the same storage
    const b = torch.ones(2, 3);
    const row = b.select(0, 1);
    row.mul_(3);
    reads.push(b.tolist());
    // out= writes its argument
    const c = torch.zeros(3);
    torch.call('add', [a, a], { out: c });
    reads.push(c.tolist());
    // __setitem__
    const d = torch.zeros(4);
    d.setitem(2, 7);
    reads.push(d.tolist());
    // batch_norm in training updates its running stats in place
    const rm = torch.zeros(2);
    const rv = torch.ones(2);
    F.batch_norm(torch.arange(8, { dtype: torch.float32 }).reshape(4, 2), rm, rv, { training: true, momentum: 0.5 });
    reads.push(rm.tolist(), rv.tolist());
    // backward accumulates into an existing .grad in place
    const w = torch.ones(2, { requires_grad: true });
    w.mul(3).sum().backward();
    const g = w.grad!;
    long.dispose();
    long = longUnrelatedWork();
    w.mul(5).sum().backward();
    reads.push(g.tolist());
    // any Python call may write anything it can reach
    const e = torch.ones(2);
    const builtins = torch.py.import('builtins');
    builtins.exec('e.mul_(4)', builtins.dict({ e }));
    reads.push(e.tolist());
    // a view's own read waits for a write to its base
    const f = torch.arange(4, { dtype: torch.float32 });
    const fv = f.view(2, 2);
    f.add_(10);
    reads.push(fv.tolist());
    const got = await Promise.all(reads);
    long.dispose();
    const want = python(`
      out = []
      a = torch.ones(3); a.add_(1); out.append(a.tolist())
      b = torch.ones(2, 3); row = b.select(0, 1); row.mul_(3); out.append(b.tolist())
      c = torch.zeros(3); torch.add(a, a, out=c); out.append(c.tolist())
      d = torch.zeros(4); d[2] = 7; out.append(d.tolist())
      rm = torch.zeros(2); rv = torch.ones(2)
      torch.nn.functional.batch_norm(torch.arange(8, dtype=torch.float32).reshape(4, 2), rm, rv, training=True, momentum=0.5)
      out.append(rm.tolist()); out.append(rv.tolist())
      w = torch.ones(2, requires_grad=True); w.mul(3).sum().backward(); g = w.grad; w.mul(5).sum().backward(); out.append(g.tolist())
      e = torch.ones(2); exec('e.mul_(4)', {'e': e}); out.append(e.tolist())
      f = torch.arange(4, dtype=torch.float32); fv = f.view(2, 2); f.add_(10); out.append(fv.tolist())
      print(json.dumps(out))
    `);
    expect(got).toEqual(want);
  });

  it('an error in the work a read overtook surfaces at the next sync point', async () => {
    const x = torch.ones(2).mul(2);
    const s = x.sum();
    // a failure only Python finds (torch.call is not checked by the mirror), queued after the
    // read's value exists, on a tensor of its own, behind work that takes a while
    const long = longUnrelatedWork();
    torch.call('nn.functional.gelu', [torch.ones(2)], { approximate: 'bogus' });
    const v = await s.item();
    expect(v).toBe(4);
    await expect(torch.sync()).rejects.toThrow(/approximate argument/);
    long.dispose();
  });
});
