/** torch.nn.Module: discovery, traversal, state_dict, modes, conversion, compared with Python. */
import { afterAll, describe, expect, it } from 'vitest';
import torch, { nn, Tensor, TorchError, ArgumentError } from '../src/index.js';
import { python } from './fixtures/python_twin.js';


afterAll(async () => {
  await torch.shutdown();
});

async function lists(ts: Tensor[]): Promise<unknown[]> {
  return Promise.all(ts.map((t) => t.tolist()));
}

describe('nn.Linear', () => {
  it('starts from the same weights as Python for the same seed', async () => {
    torch.manual_seed(0);
    const fc = new nn.Linear(5, 3);
    const fc2 = new nn.Linear(3, 2, { bias: false });
    const py = python<unknown[]>(`
      torch.manual_seed(0)
      fc = torch.nn.Linear(5, 3); fc2 = torch.nn.Linear(3, 2, bias=False)
      print(json.dumps([fc.weight.tolist(), fc.bias.tolist(), fc2.weight.tolist()]))
    `);
    expect(await lists([fc.weight, fc.bias!, fc2.weight])).toEqual(py);
    expect(fc2.bias).toBeNull();
    expect(fc.weight).toBeInstanceOf(nn.Parameter);
    expect(fc.weight.requires_grad).toBe(true);
    expect(fc.weight.is_leaf).toBe(true);
    expect(String(fc)).toBe('Linear(in_features=5, out_features=3, bias=True)');
  });

  it('forward equals Python for the same weights and input', async () => {
    torch.manual_seed(1);
    const fc = new nn.Linear(4, 2);
    const x = torch.randn(3, 4);
    const y = fc.forward(x);
    expect(y.shape).toEqual([3, 2]);
    expect(y.requires_grad).toBe(true);
    const py = python<number[][]>(`
      torch.manual_seed(1)
      fc = torch.nn.Linear(4, 2); x = torch.randn(3, 4)
      print(json.dumps(fc(x).tolist()))
    `);
    expect(await y.tolist()).toEqual(py);
  });

  it('checks its arguments like Python', () => {
    expect(() => new nn.Linear(2, 3, { bogus: 1 } as never)).toThrow(ArgumentError);
    expect(() => new nn.Linear(2, 'x' as never)).toThrow(/out_features/);
  });
});

/** A user model: layers and tensors as fields, no registration calls. */
class Net extends nn.Module {
  conv = new nn.Conv2d(1, 4, 3);
  bn = new nn.BatchNorm2d(4);
  layers = new nn.ModuleList([new nn.Linear(4, 4), new nn.Linear(4, 2)]);
  heads = new nn.ModuleDict({ b: new nn.Linear(2, 1), a: new nn.Linear(2, 3) });
  scale = new nn.Parameter(torch.ones(2));
  steps = torch.zeros(1);
  _cache: unknown = torch.zeros(3); // '_' fields are not members
  constructor() {
    super();
    this.register_buffer('scratch', torch.zeros(2), false);
  }
  override forward(x: Tensor): Tensor {
    let h = this.bn.forward(this.conv.forward(x)).relu().mean([2, 3]);
    for (const l of this.layers) h = l.forward(h);
    return this.heads.get('a').forward(h.mul(this.scale));
  }
}

const PY_NET = `
from torch import nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.layers = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 2)])
        self.heads = nn.ModuleDict({'b': nn.Linear(2, 1), 'a': nn.Linear(2, 3)})
        self.scale = nn.Parameter(torch.ones(2))
        self.register_buffer('steps', torch.zeros(1))
        self.register_buffer('scratch', torch.zeros(2), persistent=False)
    def forward(self, x):
        h = self.bn(self.conv(x)).relu().mean([2, 3])
        for l in self.layers:
            h = l(h)
        return self.heads['a'](h * self.scale)
`;

/** PY_NET then code (dedented), as one program. */
function withNet<T>(code: string): T {
  const lines = code.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return python<T>(PY_NET + '\n' + lines.map((l) => l.slice(indent)).join('\n'));
}

describe('nn.Module', () => {
  it('discovers members in assignment order: the same names and state_dict keys as PyTorch', async () => {
    torch.manual_seed(3);
    const net = new Net();
    const py = withNet<{ params: string[]; buffers: string[]; keys: string[]; modules: string[]; children: string[]; values: unknown[]; repr: string }>(`
      torch.manual_seed(3)
      net = Net()
      sd = net.state_dict()
      print(json.dumps({'params': [n for n, _ in net.named_parameters()], 'buffers': [n for n, _ in net.named_buffers()],
                        'keys': list(sd.keys()), 'modules': [n for n, _ in net.named_modules()],
                        'children': [n for n, _ in net.named_children()], 'values': [v.tolist() for v in sd.values()],
                        'repr': repr(net)}))
    `);
    expect(net.named_parameters().map(([n]) => n)).toEqual(py.params);
    expect(net.named_buffers().map(([n]) => n)).toEqual(py.buffers);
    const sd = net.state_dict();
    expect(Object.keys(sd)).toEqual(py.keys);
    expect(net.named_modules().map(([n]) => n)).toEqual(py.modules);
    expect(net.named_children().map(([n]) => n)).toEqual(py.children);
    expect(await lists(Object.values(sd))).toEqual(py.values);
    expect(String(net)).toBe(py.repr);
  });

  it('forward matches Python, in train and eval mode', async () => {
    const run = async (mode: 'train' | 'eval') => {
      torch.manual_seed(4);
      const net = new Net();
      if (mode === 'eval') net.eval();
      return net.forward(torch.randn(2, 1, 6, 6)).tolist();
    };
    const py = withNet<unknown[]>(`
      out = []
      for mode in ['train', 'eval']:
          torch.manual_seed(4)
          net = Net()
          if mode == 'eval': net.eval()
          out.append(net(torch.randn(2, 1, 6, 6)).tolist())
      print(json.dumps(out))
    `);
    expect([await run('train'), await run('eval')]).toEqual(py);
  });

  it('train()/eval() set training everywhere; requires_grad_ and apply reach every submodule', () => {
    const net = new Net();
    net.eval();
    expect(net.modules().every((m) => !m.training)).toBe(true);
    net.train();
    expect(net.modules().every((m) => m.training)).toBe(true);
    net.requires_grad_(false);
    expect(net.parameters().every((p) => !p.requires_grad)).toBe(true);
    const seen: string[] = [];
    net.apply((m) => seen.push(m.constructor.name));
    expect(seen[seen.length - 1]).toBe('Net');
    expect(seen).toContain('BatchNorm2d');
  });

  it('load_state_dict copies in place and reports keys like Python', async () => {
    torch.manual_seed(5);
    const a = new Net();
    torch.manual_seed(6);
    const b = new Net();
    const w = b.conv.weight;
    expect(b.load_state_dict(a.state_dict())).toEqual({ missing_keys: [], unexpected_keys: [] });
    expect(b.conv.weight).toBe(w); // same handle
    expect(await b.conv.weight.tolist()).toEqual(await a.conv.weight.tolist());
    expect(await b.bn.num_batches_tracked!.tolist()).toEqual(0);

    const partial = a.state_dict();
    delete partial['bn.running_mean'];
    partial['extra.weight'] = torch.zeros(1);
    partial['conv.other'] = torch.zeros(1);
    // the root module is checked before its children, so 'extra.weight' comes first (as in Python)
    expect(b.load_state_dict(partial, { strict: false })).toEqual({ missing_keys: ['bn.running_mean'], unexpected_keys: ['extra.weight', 'conv.other'] });
    const msg = withNet<string>(`
      sd = Net().state_dict(); del sd['bn.running_mean']; sd['extra.weight'] = torch.zeros(1); sd['conv.other'] = torch.zeros(1)
      sd['layers.1.bias'] = torch.zeros(5)
      try:
          Net().load_state_dict(sd)
      except RuntimeError as e:
          print(json.dumps(str(e)))
    `);
    partial['layers.1.bias'] = torch.zeros(5);
    const err = (() => {
      try {
        b.load_state_dict(partial);
      } catch (e) {
        return e as TorchError;
      }
    })();
    expect(err).toBeInstanceOf(TorchError);
    expect(err!.pyMessage).toBe(msg);
  });

  it('to(dtype) converts floating parameters and buffers in place, keeping handles', async () => {
    torch.manual_seed(7);
    const net = new Net();
    const w = net.conv.weight;
    net.to(torch.float64);
    expect(net.conv.weight).toBe(w);
    expect(String(w.dtype)).toBe('torch.float64');
    expect(w).toBeInstanceOf(nn.Parameter);
    expect(String(net.bn.num_batches_tracked!.dtype)).toBe('torch.int64');
    expect(String(((await torch.runtime.meta(w)) as { dtype: unknown }).dtype)).toBe('torch.float64');
    const y = await (net.forward(torch.randn(1, 1, 5, 5, { dtype: torch.float64 })) as Tensor).ready();
    expect(String(y.dtype)).toBe('torch.float64');
    await y.tolist();
    net.float();
    expect(String(w.dtype)).toBe('torch.float32');
    expect(() => net.to(torch.int32)).toThrow(ArgumentError);
  });

  it('Sequential and ModuleList index like Python lists; shared modules count once', () => {
    const l = new nn.Linear(2, 2);
    const seq = new nn.Sequential(l, new nn.ReLU(), l);
    expect(seq[0]).toBe(l);
    expect(seq.at(-1)).toBe(l);
    expect(seq.length).toBe(3);
    expect(seq.parameters()).toHaveLength(2);
    // like Python, state_dict lists a shared module under each of its names
    expect(Object.keys(seq.state_dict())).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    const named = new nn.Sequential(new Map<string, nn.Module>([['conv', new nn.Conv1d(1, 1, 1)], ['act', new nn.Tanh()]]));
    expect(named.named_children().map(([n]) => n)).toEqual(['conv', 'act']);
    const list = new nn.ModuleList(Array.from({ length: 12 }, () => new nn.Identity()));
    expect(list.named_children().map(([n]) => n)).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
    list.pop(0);
    expect(list.length).toBe(11);
    expect(Object.keys(list).filter((k) => /^\d+$/.test(k))).toEqual([]); // not enumerable fields
  });

  it('zero_grad sets gradients to None by default, or zeroes them in place', async () => {
    const fc = new nn.Linear(2, 3);
    for (const p of fc.parameters()) p.grad = torch.ones(p.shape as number[]);
    fc.zero_grad(false);
    expect(await fc.weight.grad!.tolist()).toEqual([[0, 0], [0, 0], [0, 0]]);
    fc.zero_grad();
    expect(fc.parameters().map((p) => p.grad)).toEqual([null, null]);
  });

  it('register_* checks names; forward without an implementation raises NotImplementedError', () => {
    const m = new nn.Module();
    expect(() => m.register_buffer('a.b', torch.zeros(1))).toThrow(/can't contain "."/);
    expect(() => m.register_parameter('w', torch.zeros(1) as never)).toThrow(/torch.nn.Parameter or None required/);
    expect(() => m.add_module('train', new nn.ReLU())).toThrow(/already exists/);
    expect(() => m.forward()).toThrow(/missing the required "forward" function/);
  });
});
