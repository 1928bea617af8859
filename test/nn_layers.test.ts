/**
 * Every layer against its Python twin: same seed → identical initial parameters (exact), same
 * input → same output, buffers and gradients of sum(y²) (≤1e-6 relative), same state_dict keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import torch from '../src/index.js';
import { runPy, runTs, close, type LayerRun, type TwinCase } from './fixtures/nn_twin.js';
import { python as runPython } from './fixtures/python_twin.js';

const nn = torch.nn;

afterAll(async () => {
  await torch.shutdown();
});

const CASES: Record<string, TwinCase> = {
  Linear: { ts: () => new nn.Linear(5, 3), py: 'nn.Linear(5, 3)', shape: [4, 5] },
  'Linear without bias': { ts: () => new nn.Linear(5, 3, false), py: 'nn.Linear(5, 3, False)', shape: [2, 7, 5] },
  Conv1d: { ts: () => new nn.Conv1d(3, 4, 3, { stride: 2, padding: 1 }), py: 'nn.Conv1d(3, 4, 3, stride=2, padding=1)', shape: [2, 3, 10] },
  Conv2d: { ts: () => new nn.Conv2d(3, 4, [3, 2], 1, 1), py: 'nn.Conv2d(3, 4, (3, 2), 1, 1)', shape: [2, 3, 6, 5] },
  "Conv2d padding='same', groups, reflect": {
    ts: () => new nn.Conv2d(4, 6, 3, { padding: 'same', groups: 2, padding_mode: 'reflect', bias: false }),
    py: "nn.Conv2d(4, 6, 3, padding='same', groups=2, padding_mode='reflect', bias=False)",
    shape: [2, 4, 5, 5],
  },
  'Conv2d circular, dilation': {
    ts: () => new nn.Conv2d(2, 3, 3, { padding: 2, dilation: 2, padding_mode: 'circular' }),
    py: "nn.Conv2d(2, 3, 3, padding=2, dilation=2, padding_mode='circular')",
    shape: [1, 2, 6, 6],
  },
  ConvTranspose2d: {
    ts: () => new nn.ConvTranspose2d(4, 2, 3, { stride: 2, padding: 1, output_padding: 1 }),
    py: 'nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)',
    shape: [2, 4, 5, 5],
  },
  MaxPool2d: { ts: () => new nn.MaxPool2d(2), py: 'nn.MaxPool2d(2)', shape: [2, 3, 6, 6] },
  'MaxPool2d ceil_mode': { ts: () => new nn.MaxPool2d(3, { stride: 2, padding: 1, ceil_mode: true }), py: 'nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True)', shape: [1, 2, 7, 7] },
  AvgPool2d: { ts: () => new nn.AvgPool2d(2, 1, 1, false, false), py: 'nn.AvgPool2d(2, 1, 1, False, False)', shape: [2, 3, 5, 5] },
  AdaptiveAvgPool2d: { ts: () => new nn.AdaptiveAvgPool2d([3, null]), py: 'nn.AdaptiveAvgPool2d((3, None))', shape: [2, 3, 7, 5] },
  'BatchNorm1d (training)': { ts: () => new nn.BatchNorm1d(4), py: 'nn.BatchNorm1d(4)', shape: [8, 4] },
  'BatchNorm1d 3D, momentum, no affine': {
    ts: () => new nn.BatchNorm1d(3, { momentum: 0.3, affine: false }),
    py: 'nn.BatchNorm1d(3, momentum=0.3, affine=False)',
    shape: [4, 3, 5],
  },
  'BatchNorm2d (training)': { ts: () => new nn.BatchNorm2d(3), py: 'nn.BatchNorm2d(3)', shape: [4, 3, 5, 5] },
  'BatchNorm2d (eval)': { ts: () => new nn.BatchNorm2d(3), py: 'nn.BatchNorm2d(3)', shape: [2, 3, 4, 4], eval: true },
  'BatchNorm2d without running stats': {
    ts: () => new nn.BatchNorm2d(3, { track_running_stats: false }),
    py: 'nn.BatchNorm2d(3, track_running_stats=False)',
    shape: [2, 3, 4, 4],
    eval: true,
  },
  LayerNorm: { ts: () => new nn.LayerNorm([4, 5]), py: 'nn.LayerNorm([4, 5])', shape: [3, 4, 5] },
  'LayerNorm without affine': { ts: () => new nn.LayerNorm(5, 1e-3, false), py: 'nn.LayerNorm(5, 1e-3, False)', shape: [3, 5] },
  'LayerNorm without bias': { ts: () => new nn.LayerNorm(5, { bias: false }), py: 'nn.LayerNorm(5, bias=False)', shape: [3, 5] },
  GroupNorm: { ts: () => new nn.GroupNorm(2, 4), py: 'nn.GroupNorm(2, 4)', shape: [3, 4, 5] },
  'Dropout (training)': { ts: () => new nn.Dropout(0.3), py: 'nn.Dropout(0.3)', shape: [4, 10] },
  'Dropout (eval)': { ts: () => new nn.Dropout(), py: 'nn.Dropout()', shape: [4, 10], eval: true },
  Embedding: { ts: () => new nn.Embedding(10, 4, { padding_idx: 0 }), py: 'nn.Embedding(10, 4, padding_idx=0)', shape: [3, 5], long: { high: 10 } },
  'Embedding max_norm': { ts: () => new nn.Embedding(6, 3, null, 1.0), py: 'nn.Embedding(6, 3, None, 1.0)', shape: [4], long: { high: 6 } },
  Flatten: { ts: () => new nn.Flatten(), py: 'nn.Flatten()', shape: [2, 3, 4] },
  Unflatten: { ts: () => new nn.Unflatten(1, [2, 6]), py: 'nn.Unflatten(1, (2, 6))', shape: [2, 12] },
  Identity: { ts: () => new nn.Identity(3, { unused: 1 }), py: 'nn.Identity(3, unused=1)', shape: [2, 3] },
  ReLU: { ts: () => new nn.ReLU(), py: 'nn.ReLU()', shape: [3, 4] },
  GELU: { ts: () => new nn.GELU(), py: 'nn.GELU()', shape: [3, 4] },
  'GELU tanh': { ts: () => new nn.GELU('tanh'), py: "nn.GELU('tanh')", shape: [3, 4] },
  SiLU: { ts: () => new nn.SiLU(), py: 'nn.SiLU()', shape: [3, 4] },
  Tanh: { ts: () => new nn.Tanh(), py: 'nn.Tanh()', shape: [3, 4] },
  Sigmoid: { ts: () => new nn.Sigmoid(), py: 'nn.Sigmoid()', shape: [3, 4] },
  LeakyReLU: { ts: () => new nn.LeakyReLU(0.2), py: 'nn.LeakyReLU(0.2)', shape: [3, 4] },
  Softmax: { ts: () => new nn.Softmax(1), py: 'nn.Softmax(1)', shape: [3, 4] },
  LogSoftmax: { ts: () => new nn.LogSoftmax({ dim: -1 }), py: 'nn.LogSoftmax(dim=-1)', shape: [2, 3, 4] },
  'Sequential CNN': {
    ts: () =>
      new nn.Sequential(
        new nn.Conv2d(3, 8, 3, { padding: 1 }),
        new nn.BatchNorm2d(8),
        new nn.ReLU(),
        new nn.MaxPool2d(2),
        new nn.Flatten(),
        new nn.Linear(8 * 4 * 4, 10),
        new nn.LogSoftmax(1),
      ),
    py: 'nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 4 * 4, 10), nn.LogSoftmax(1))',
    shape: [2, 3, 8, 8],
  },
};

const names = Object.keys(CASES);
let python: LayerRun[];

beforeAll(() => {
  python = runPy(names.map((n) => CASES[n]!));
}, 120_000);

describe('layers equal their Python twins', () => {
  names.forEach((name, i) => {
    it(name, async () => {
      const mine = await runTs(CASES[name]!);
      const theirs = python[i]!;
      expect(mine.keys).toEqual(theirs.keys);
      // identical initialisation: the same RNG calls in the same order
      expect(mine.params).toEqual(theirs.params);
      expect(close(mine.y, theirs.y)).toBeNull();
      expect(close(mine.buffers, theirs.buffers)).toBeNull();
      expect(close(mine.grads, theirs.grads)).toBeNull();
      expect(close(mine.xgrad, theirs.xgrad)).toBeNull();
    });
  });
});

describe('BatchNorm with momentum=None (cumulative moving average)', () => {
  it('running statistics after several training passes, then eval, equal Python', async () => {
    torch.manual_seed(7);
    const bn = new nn.BatchNorm1d(3, { momentum: null });
    const xs = [torch.randn(5, 3), torch.randn(4, 3).mul(3), torch.randn(6, 3).add(1)];
    for (const x of xs) bn.forward(x);
    // the output's metadata is mirrored as F.batch_norm's
    const y = bn.forward(xs[0]!);
    expect([y.shape, y.requires_grad]).toEqual([[5, 3], true]);
    bn.eval();
    const z = bn.forward(xs[1]!);
    const mine = {
      mean: await bn.running_mean!.tolist(),
      var: await bn.running_var!.tolist(),
      n: await bn.num_batches_tracked!.item(),
      eval: await z.tolist(),
      repr: String(bn),
    };
    const py = runPython<typeof mine>(`
      from torch import nn
      torch.manual_seed(7)
      bn = nn.BatchNorm1d(3, momentum=None)
      xs = [torch.randn(5, 3), torch.randn(4, 3) * 3, torch.randn(6, 3) + 1]
      for x in xs: bn(x)
      bn(xs[0])
      bn.eval()
      z = bn(xs[1])
      print(json.dumps({"mean": bn.running_mean.tolist(), "var": bn.running_var.tolist(), "n": bn.num_batches_tracked.item(),
                        "eval": z.tolist(), "repr": repr(bn)}))
    `);
    expect(mine.n).toBe(py.n);
    expect(mine.repr).toBe(py.repr);
    expect(close([mine.mean, mine.var, mine.eval], [py.mean, py.var, py.eval])).toBeNull();
  });
});
