/**
 * Python modules as TS modules (nn.Module.fromPython), optimizers across the language line, and
 * the mirror after Python touches a tensor. The team's model file is
 * test/fixtures/pipeline/mypipeline/models.py; every expected value comes from the same calls
 * run in Python (one twin run, test/fixtures/python_twin.ts), never typed in by hand.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import torch, { Tensor, TorchError, ArgumentError, PendingMetadataError } from '../src/index.js';
import type { Module } from '../src/nn/module.js';
import { python } from './fixtures/python_twin.js';

const { nn } = torch;
const F = torch.nn.functional;
const PIPELINE = fileURLToPath(new URL('./fixtures/pipeline', import.meta.url));

afterAll(() => torch.shutdown());

// The same programs as the TS tests below, step for step.
const TWIN = `
import sys
sys.path.insert(0, ${JSON.stringify(PIPELINE)})
from mypipeline import models
from torch import nn
import torch.nn.functional as F
out = {}
sd = lambda m: {k: v.tolist() for k, v in m.state_dict().items()}

# TS optimizer and scheduler training the Python CNN
torch.manual_seed(0)
model = models.SmallCNN()
x = torch.randn(16, 1, 8, 8); y = torch.randint(0, 10, (16,))
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
sched = torch.optim.lr_scheduler.StepLR(opt, 2, gamma=0.5)
losses = []
for _ in range(5):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward(); opt.step(); sched.step()
    losses.append(loss.item())
out['train'] = {'losses': losses, 'state': sd(model), 'lr': sched.get_last_lr()}

# the Python optimizer, driven from TS, under a TS StepLR
torch.manual_seed(1)
model = models.SmallCNN()
x = torch.randn(8, 1, 8, 8); y = torch.randint(0, 10, (8,))
opt = models.make_optimizer(model, 0.2)
sched = torch.optim.lr_scheduler.StepLR(opt, 2, gamma=0.1)
losses, lrs = [], []
for _ in range(4):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), y)
    loss.backward(); opt.step(); sched.step()
    losses.append(loss.item()); lrs.append(sched.get_last_lr())
out['pyopt'] = {'losses': losses, 'lrs': lrs, 'state': sd(model)}
opt.zero_grad()
out['pyopt']['grads_none'] = [p.grad is None for p in model.parameters()]

# a Python scheduler over the optimizer a TS program made
torch.manual_seed(2)
w = torch.zeros(3, requires_grad=True)
opt = torch.optim.SGD([w], lr=1.0)
sched = torch.optim.lr_scheduler.MultiStepLR(opt, [1, 3], gamma=0.5)
lrs = []
for _ in range(4):
    opt.step(); sched.step(); lrs.append(opt.param_groups[0]['lr'])
out['pysched'] = lrs

# a TS Sequential holding the Python CNN between TS layers
torch.manual_seed(3)
model = models.SmallCNN()
lin = nn.Linear(64, 64)
seq = nn.Sequential(lin, nn.Unflatten(1, (1, 8, 8)), model, nn.LogSoftmax(1))
x = torch.randn(5, 64)
o = seq(x)
o.sum().backward()
out['seq'] = {'out': o.tolist(), 'keys': list(seq.state_dict().keys()),
              'grads': [p.grad.sum().item() for p in seq.parameters()]}

# state_dict round trip, eval, to(float64)
torch.manual_seed(4)
a = models.SmallCNN(); b = models.SmallCNN()
x = torch.randn(3, 1, 8, 8)
b.load_state_dict(a.state_dict())
a.eval(); b.eval()
out['roundtrip'] = {'a': a(x).tolist(), 'b': b(x).tolist(), 'keys': list(a.state_dict().keys())}
b.to(torch.float64)
out['double'] = b(x.double()).tolist()

# Python code changes the tensors TS holds
torch.manual_seed(5)
model = models.SmallCNN()
F.cross_entropy(model(torch.randn(4, 1, 8, 8)), torch.tensor([0, 1, 2, 3])).backward()
models.freeze_features(model)
out['frozen'] = [[k, p.requires_grad, p.grad is None] for k, p in model.named_parameters()]
torch.manual_seed(6)
tagger = models.Tagger()
tagger(torch.randn(2, 4)).sum().backward()
out['unused'] = [[k, p.grad is None] for k, p in tagger.named_parameters()]
t = torch.arange(6.0)
t.resize_(2, 3)
out['resized'] = list(t.shape)
print(json.dumps(out))
`;

let expected: Record<string, any>;
let models: any;
beforeAll(async () => {
  expected = python(TWIN);
  torch.py.import('sys').path.insert(0, PIPELINE);
  models = torch.py.import('mypipeline.models');
}, 240_000);

const stateOf = async (m: Module): Promise<Record<string, unknown>> =>
  Object.fromEntries(await Promise.all(Object.entries(m.state_dict()).map(async ([k, v]) => [k, await (v as Tensor).tolist()] as const)));

describe('nn.Module.fromPython', () => {
  it('wraps a Python CNN: Parameters by handle with Python names, metadata known, forward in Python', async () => {
    torch.manual_seed(0);
    const model = await nn.Module.fromPython(models.SmallCNN());
    expect(model).toBeInstanceOf(nn.Module);
    const names = model.named_parameters().map(([k]) => k);
    expect(names).toEqual(['conv.weight', 'conv.bias', 'bn.weight', 'bn.bias', 'head.1.weight', 'head.1.bias', 'head.4.weight', 'head.4.bias']);
    for (const p of model.parameters()) expect(p).toBeInstanceOf(nn.Parameter);
    expect(model.parameters()[0]!.shape).toEqual([8, 1, 3, 3]); // known at once, no read
    expect(model.get_submodule('head.1')).toBe((model.head as Module).children()[1]);
    const out = model.forward(torch.randn(2, 1, 8, 8));
    await out.ready();
    expect(out.shape).toEqual([2, 10]);
    expect(out.requires_grad).toBe(true);
  });

  it('trains with a TS optimizer, scheduler and loop exactly as the same loop does in Python', async () => {
    torch.manual_seed(0);
    const model = await nn.Module.fromPython(models.SmallCNN());
    const x = torch.randn(16, 1, 8, 8);
    const y = torch.randint(0, 10, [16]);
    const opt = new torch.optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const sched = new torch.optim.lr_scheduler.StepLR(opt, 2, { gamma: 0.5 });
    const losses: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      opt.zero_grad();
      const loss = F.cross_entropy(model.forward(x), y);
      loss.backward();
      opt.step();
      sched.step();
      losses.push(await loss.item());
    }
    expect(losses).toEqual(expected.train.losses);
    expect(await stateOf(model)).toEqual(expected.train.state);
    expect(await sched.get_last_lr()).toEqual(expected.train.lr);
  });

  it('sits in a TS Sequential next to TS layers: forward, state_dict keys and gradients as in Python', async () => {
    torch.manual_seed(3);
    const model = await nn.Module.fromPython(models.SmallCNN());
    const seq = new nn.Sequential(new nn.Linear(64, 64), new nn.Unflatten(1, [1, 8, 8]), model, new nn.LogSoftmax(1));
    const o = seq.forward(torch.randn(5, 64));
    o.sum().backward();
    expect(await o.tolist()).toEqual(expected.seq.out);
    expect(Object.keys(seq.state_dict())).toEqual(expected.seq.keys);
    const grads = await Promise.all(seq.parameters().map((p) => p.grad!.sum().item()));
    expect(grads).toEqual(expected.seq.grads);
  });

  it('state_dict / load_state_dict round trip, eval() and to(float64) act on the Python module', async () => {
    torch.manual_seed(4);
    const a = await nn.Module.fromPython(models.SmallCNN());
    const b = await nn.Module.fromPython(models.SmallCNN());
    const x = torch.randn(3, 1, 8, 8);
    expect(Object.keys(a.state_dict())).toEqual(expected.roundtrip.keys);
    expect(b.load_state_dict(a.state_dict())).toEqual({ missing_keys: [], unexpected_keys: [] });
    a.eval();
    b.eval();
    expect(a.training).toBe(false);
    expect(await a.py.training).toBe(false);
    expect(await a.py.bn.training).toBe(false); // Python's eval() recursed
    expect(await a.forward(x).tolist()).toEqual(expected.roundtrip.a);
    expect(await b.forward(x).tolist()).toEqual(expected.roundtrip.b);
    b.to(torch.float64);
    expect(b.parameters().every((p) => p.dtype === torch.float64)).toBe(true);
    expect(String(await b.py.conv.weight.dtype)).toBe('torch.float64');
    const d = b.forward(x.double());
    expect(await d.tolist()).toEqual(expected.double);
    expect(d.dtype).toBe(torch.float64);
    a.train();
    expect(await a.py.bn.training).toBe(true);
    expect(() => b.load_state_dict({})).toThrow(TorchError);
  });
});

describe('optimizers across the language line', () => {
  it('a Python optimizer drives the TS loop under a TS StepLR, and its zero_grad() leaves TS reading p.grad as null', async () => {
    torch.manual_seed(1);
    const model = await nn.Module.fromPython(models.SmallCNN());
    const x = torch.randn(8, 1, 8, 8);
    const y = torch.randint(0, 10, [8]);
    const pyOpt = models.make_optimizer(model, 0.2); // the wrapped model arrives as the Python module
    const sched = new torch.optim.lr_scheduler.StepLR(pyOpt, 2, { gamma: 0.1 }); // a proxy: accepted
    const opt = torch.optim.Optimizer.fromPython(pyOpt);
    expect(sched.optimizer).toBe(opt);
    const losses: unknown[] = [];
    const lrs: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      opt.zero_grad();
      const loss = F.cross_entropy(model.forward(x), y);
      loss.backward();
      opt.step();
      sched.step();
      losses.push(await loss.item());
      lrs.push(await sched.get_last_lr());
    }
    expect(losses).toEqual(expected.pyopt.losses);
    expect(lrs).toEqual(expected.pyopt.lrs);
    await torch.sync();
    expect(await stateOf(model)).toEqual(expected.pyopt.state);
    // Python's own zero_grad, through the proxy: the grads it set to None read as null
    const p0 = model.parameters()[0]!;
    expect(p0.grad).not.toBeNull();
    pyOpt.zero_grad();
    expect(() => p0.grad).toThrow(PendingMetadataError); // re-read, not guessed
    await torch.sync();
    expect(model.parameters().map((p) => p.grad === null)).toEqual(expected.pyopt.grads_none);
  });

  it('a TS optimizer goes to a Python scheduler as the torch optimizer it stands for', async () => {
    const w = torch.zeros(3, { requires_grad: true });
    const opt = new torch.optim.SGD([w], { lr: 1.0 });
    const sched = torch.py.import('torch.optim.lr_scheduler').MultiStepLR(opt, [1, 3], { gamma: 0.5 });
    const lrs: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      opt.step();
      sched.step();
      lrs.push((await opt.param_groups_value())[0]!.lr);
    }
    expect(lrs).toEqual(expected.pysched);
  });
});

describe('the mirror after Python touches a tensor', () => {
  it('re-reads requires_grad and .grad that Python code changed', async () => {
    torch.manual_seed(5);
    const model = await nn.Module.fromPython(models.SmallCNN());
    F.cross_entropy(model.forward(torch.randn(4, 1, 8, 8)), torch.tensor([0, 1, 2, 3])).backward();
    models.freeze_features(model);
    await torch.sync();
    const seen = model.named_parameters().map(([k, p]) => [k, p.requires_grad, p.grad === null]);
    expect(seen).toEqual(expected.frozen);
  });

  it('a parameter the Python forward does not use gets no .grad, as in Python', async () => {
    torch.manual_seed(6);
    const tagger = await nn.Module.fromPython(models.Tagger());
    tagger.forward(torch.randn(2, 4)).sum().backward();
    await torch.sync();
    for (const p of tagger.parameters()) await p.ready();
    expect(tagger.named_parameters().map(([k, p]) => [k, p.grad === null])).toEqual(expected.unused);
  });

  it("a tensor resized by a Python call has the runtime's shape", async () => {
    const t = torch.arange(6.0);
    expect(t.shape).toEqual([6]);
    torch.py.import('torch').Tensor.resize_(t, 2, 3);
    expect(() => t.shape).toThrow(PendingMetadataError);
    await t.ready();
    expect(t.shape).toEqual(expected.resized);
  });
});

describe('bad input', () => {
  it('fromPython of something that is not a Python module: a typed error naming the call', async () => {
    await expect(nn.Module.fromPython(42 as never)).rejects.toThrow(ArgumentError);
    const err = await nn.Module.fromPython(torch.py.import('builtins').dict()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TorchError);
    expect((err as TorchError).pyType).toBe('TypeError');
    expect((err as TorchError).message).toContain('nn.Module.fromPython() needs a torch.nn.Module');
  });

  it("a forward that fails in Python surfaces torch's error at the read, and the session goes on", async () => {
    const model = await nn.Module.fromPython(models.SmallCNN());
    const bad = model.forward(torch.randn(2, 3, 8, 8)); // 3 channels for a 1-channel conv
    const err = await bad.ready().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TorchError);
    expect((err as TorchError).pyType).toBe('RuntimeError');
    const ok = model.forward(torch.randn(1, 1, 8, 8));
    await ok.ready();
    expect(ok.shape).toEqual([1, 10]);
    expect(Tensor).toBeDefined();
  });
});
