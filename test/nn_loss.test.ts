/** Loss modules against Python: same inputs → same loss and same input gradients. */
import { afterAll, describe, expect, it } from 'vitest';
import torch, { type Tensor } from '../src/index.js';
import { python } from './fixtures/python_twin.js';
import { close } from './fixtures/nn_twin.js';

const nn = torch.nn;

afterAll(async () => {
  await torch.shutdown();
});

interface LossCase {
  ts: () => { forward(a: Tensor, b: Tensor): Tensor };
  py: string;
  /** input and target, as Python expressions also valid in TS after translation below */
  input: [number[], 'randn' | 'rand' | 'log_softmax'];
  target: [number[], 'randn' | 'rand' | 'class' | 'binary' | 'softmax'];
}

const CASES: Record<string, LossCase> = {
  MSELoss: { ts: () => new nn.MSELoss(), py: 'nn.MSELoss()', input: [[4, 3], 'randn'], target: [[4, 3], 'randn'] },
  'MSELoss sum': { ts: () => new nn.MSELoss({ reduction: 'sum' }), py: "nn.MSELoss(reduction='sum')", input: [[4, 3], 'randn'], target: [[4, 3], 'randn'] },
  'L1Loss none': { ts: () => new nn.L1Loss(null, null, 'none'), py: "nn.L1Loss(None, None, 'none')", input: [[4, 3], 'randn'], target: [[4, 3], 'randn'] },
  'L1Loss legacy size_average=False': { ts: () => new nn.L1Loss(false), py: 'nn.L1Loss(False)', input: [[4, 3], 'randn'], target: [[4, 3], 'randn'] },
  SmoothL1Loss: { ts: () => new nn.SmoothL1Loss({ beta: 0.5 }), py: 'nn.SmoothL1Loss(beta=0.5)', input: [[5], 'randn'], target: [[5], 'randn'] },
  HuberLoss: { ts: () => new nn.HuberLoss('sum', 0.7), py: "nn.HuberLoss('sum', 0.7)", input: [[5, 2], 'randn'], target: [[5, 2], 'randn'] },
  CrossEntropyLoss: { ts: () => new nn.CrossEntropyLoss(), py: 'nn.CrossEntropyLoss()', input: [[6, 4], 'randn'], target: [[6], 'class'] },
  'CrossEntropyLoss smoothing, ignore_index': {
    ts: () => new nn.CrossEntropyLoss({ ignore_index: 1, label_smoothing: 0.1 }),
    py: 'nn.CrossEntropyLoss(ignore_index=1, label_smoothing=0.1)',
    input: [[6, 4], 'randn'],
    target: [[6], 'class'],
  },
  'CrossEntropyLoss probabilities': { ts: () => new nn.CrossEntropyLoss(), py: 'nn.CrossEntropyLoss()', input: [[3, 4], 'randn'], target: [[3, 4], 'softmax'] },
  NLLLoss: { ts: () => new nn.NLLLoss(), py: 'nn.NLLLoss()', input: [[6, 4], 'log_softmax'], target: [[6], 'class'] },
  BCELoss: { ts: () => new nn.BCELoss(), py: 'nn.BCELoss()', input: [[5, 2], 'rand'], target: [[5, 2], 'binary'] },
  BCEWithLogitsLoss: { ts: () => new nn.BCEWithLogitsLoss(), py: 'nn.BCEWithLogitsLoss()', input: [[5, 2], 'randn'], target: [[5, 2], 'binary'] },
  KLDivLoss: { ts: () => new nn.KLDivLoss({ reduction: 'batchmean' as never }), py: "nn.KLDivLoss(reduction='batchmean')", input: [[3, 4], 'log_softmax'], target: [[3, 4], 'softmax'] },
  'KLDivLoss log_target': { ts: () => new nn.KLDivLoss({ reduction: 'sum', log_target: true }), py: "nn.KLDivLoss(reduction='sum', log_target=True)", input: [[3, 4], 'log_softmax'], target: [[3, 4], 'log_softmax' as never] },
};

/** The same data on both sides: made from the seed by the same torch calls. */
function makeTs(kind: string, shape: number[], grad: boolean): Tensor {
  switch (kind) {
    case 'randn':
      return torch.randn(shape, { requires_grad: grad });
    case 'rand':
      return torch.rand(shape, { requires_grad: grad });
    case 'class':
      return torch.randint(0, 4, shape);
    case 'binary':
      return torch.randint(0, 2, shape).to(torch.float32);
    case 'softmax':
      return torch.randn(shape).softmax(-1);
    default: {
      const leaf = torch.randn(shape, { requires_grad: grad });
      return leaf.log_softmax(-1);
    }
  }
}
const PY_MAKE = `
def make(kind, shape, grad):
    if kind == 'randn': return torch.randn(shape, requires_grad=grad)
    if kind == 'rand': return torch.rand(shape, requires_grad=grad)
    if kind == 'class': return torch.randint(0, 4, shape)
    if kind == 'binary': return torch.randint(0, 2, shape).to(torch.float32)
    if kind == 'softmax': return torch.randn(shape).softmax(-1)
    return torch.randn(shape, requires_grad=grad).log_softmax(-1)
`;

const names = Object.keys(CASES);

describe('losses equal their Python twins', () => {
  const specs = names.map((n) => ({ py: CASES[n]!.py, input: CASES[n]!.input, target: CASES[n]!.target }));
  let py: { loss: unknown; grad: unknown; keys: string[] }[] = [];
  it('Python reference', () => {
    py = python(`
      from torch import nn
      ${PY_MAKE.trim().split('\n').join('\n      ')}
      out = []
      for i, s in enumerate(json.loads(${JSON.stringify(JSON.stringify(specs))})):
          torch.manual_seed(i)
          m = eval(s['py'])
          x = make(s['input'][1], s['input'][0], True)
          t = make(s['target'][1], s['target'][0], False)
          x.retain_grad()
          loss = m(x, t)
          loss.sum().backward()
          out.append({'loss': loss.tolist(), 'grad': x.grad.tolist(), 'keys': list(m.state_dict().keys())})
      print(json.dumps(out))
    `);
    expect(py).toHaveLength(names.length);
  });
  names.forEach((name, i) => {
    it(name, async () => {
      const c = CASES[name]!;
      torch.manual_seed(i);
      const m = c.ts();
      const x = makeTs(c.input[1], c.input[0], true);
      const t = makeTs(c.target[1], c.target[0], false);
      x.retain_grad();
      const loss = m.forward(x, t);
      loss.sum().backward();
      expect(close(await loss.tolist(), py[i]!.loss)).toBeNull();
      expect(close(await x.grad!.tolist(), py[i]!.grad)).toBeNull();
    });
  });
});

describe('loss weights', () => {
  it('weight and pos_weight are buffers (state_dict keys as in Python) and change the result like Python', async () => {
    torch.manual_seed(0);
    const w = torch.rand(4);
    const ce = new nn.CrossEntropyLoss(w);
    const bce = new nn.BCEWithLogitsLoss({ pos_weight: torch.tensor([2.0, 0.5], { dtype: torch.float32 }) });
    const x = torch.randn(5, 4);
    const y = torch.randint(0, 4, [5]);
    const xb = torch.randn(3, 2);
    const yb = torch.randint(0, 2, [3, 2]).to(torch.float32);
    const py = python<{ keys: string[][]; ce: number; bce: number }>(`
      from torch import nn
      torch.manual_seed(0)
      w = torch.rand(4)
      ce = nn.CrossEntropyLoss(w)
      bce = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0, 0.5]))
      x = torch.randn(5, 4); y = torch.randint(0, 4, [5])
      xb = torch.randn(3, 2); yb = torch.randint(0, 2, [3, 2]).to(torch.float32)
      print(json.dumps({'keys': [list(ce.state_dict().keys()), list(bce.state_dict().keys())], 'ce': ce(x, y).item(), 'bce': bce(xb, yb).item()}))
    `);
    expect([Object.keys(ce.state_dict()), Object.keys(bce.state_dict())]).toEqual(py.keys);
    expect(close(await ce.forward(x, y).item(), py.ce)).toBeNull();
    expect(close(await bce.forward(xb, yb).item(), py.bce)).toBeNull();
  });
});
