/**
 * grad_fn names and metadata on every device the runtime has (cpu, and cuda where present), in
 * strict mode: the runtime reports each mirrored result's metadata and the mirror must agree.
 * Results whose grad_fn depends on what the mirror cannot see (cuDNN's batch norm, CUDA's
 * attention backends, CPU flash attention on inputs of unknown strides) must not guess: their
 * metadata is known at once, and the runtime's reply names the node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import torch, { nn, type DType, type Tensor } from '../src/index.js';

const F = nn.functional;
const info = await torch.init();
const devices = info.cuda_available ? ['cpu', 'cuda'] : ['cpu'];
/** cases whose grad_fn depends on the backend torch picks at run time: the runtime names it */
const NAMED_BY_RUNTIME = new Set(['sdpa of transposed q, k, v']);
const NAMED_BY_RUNTIME_ON_CUDA = new Set(['batch_norm running', 'batch_norm eval', 'sdpa float32', 'sdpa float16', 'sdpa causal']);

beforeAll(() => torch.set_strict(true));
afterAll(async () => {
  torch.set_strict(false);
  await torch.shutdown();
});

function casesOn(d: string) {
  const r = (...s: number[]) => torch.randn(s, { device: d }).requires_grad_(true);
  const rd = (dtype: DType, ...s: number[]) => torch.randn(s, { device: d, dtype }).requires_grad_(true);
  const nl = (...s: number[]) => r(...s).mul(1);
  const long = (vals: number[]) => torch.tensor(vals, { device: d, dtype: torch.int64 });
const cases: Record<string, () => Tensor> = {
    'dropout p=0.5': () => F.dropout(r(4, 5), 0.5),
    'dropout p=1': () => F.dropout(r(4, 5), 1.0),
    'dropout p=0': () => F.dropout(r(4, 5), 0.0),
    'dropout inplace': () => F.dropout(nl(4, 5), 0.5, true, true),
    'dropout eval': () => F.dropout(r(4, 5), 0.5, false),
    'dropout2d': () => F.dropout2d(r(2, 3, 4, 4), 0.5),
    'alpha_dropout': () => F.alpha_dropout(r(4, 5), 0.5, true),
    'feature_alpha_dropout': () => F.feature_alpha_dropout(r(2, 3, 4), 0.5, true),
    'conv2d bias': () => F.conv2d(r(2, 3, 5, 5), r(4, 3, 2, 2), r(4)),
    'conv2d stride pad': () => F.conv2d(r(2, 3, 7, 7), r(4, 3, 3, 3), null, 2, 1),
    'conv1d': () => F.conv1d(r(3, 5), r(4, 3, 2)),
    'conv1d batched': () => F.conv1d(r(2, 3, 9), r(4, 3, 3), r(4)),
    'conv3d': () => F.conv3d(r(1, 2, 4, 4, 4), r(3, 2, 2, 2, 2)),
    'conv_transpose2d': () => F.conv_transpose2d(r(2, 3, 5, 5), r(3, 4, 2, 2), r(4)),
    'conv2d groups': () => F.conv2d(r(2, 4, 5, 5), r(4, 2, 3, 3), null, 1, 0, 1, 2),
    'conv2d depthwise': () => F.conv2d(r(2, 4, 5, 5), r(4, 1, 3, 3), null, 1, 1, 1, 4),
    'conv2d half': () => F.conv2d(rd(torch.float16, 2, 3, 5, 5), rd(torch.float16, 4, 3, 2, 2)),
    'layer_norm': () => F.layer_norm(r(4, 3), [3], r(3), r(3)),
    'layer_norm no affine': () => F.layer_norm(r(4, 3), [3]),
  'layer_norm of a transposed input, then linear': () => F.linear(F.layer_norm(r(5, 2, 3).transpose(0, 1), [3]), r(4, 3)),
    'group_norm': () => F.group_norm(r(4, 6, 5), 2, r(6), r(6)),
    'instance_norm': () => F.instance_norm(r(4, 6, 5)),
    'batch_norm train affine': () => F.batch_norm(r(4, 3), null, null, r(3), r(3), true),
    'batch_norm train 3d': () => F.batch_norm(r(4, 3, 5), null, null, null, null, true),
    'batch_norm running': () => F.batch_norm(r(4, 3, 5), torch.zeros(3, { device: d }), torch.ones(3, { device: d }), r(3), r(3), true),
    'batch_norm eval': () => F.batch_norm(r(4, 3, 5), torch.zeros(3, { device: d }), torch.ones(3, { device: d }), r(3), r(3), false),
    'linear': () => F.linear(r(2, 3), r(4, 3), r(4)),
    'linear 3d': () => F.linear(r(5, 2, 3), r(4, 3), r(4)),
    'linear 3d nobias': () => F.linear(r(5, 2, 3), r(4, 3)),
    'matmul batched': () => r(2, 3).matmul(r(5, 3, 4)),
    'matmul dot': () => r(3).matmul(r(3)),
    'cross_entropy': () => F.cross_entropy(r(4, 3), long([0, 1, 2, 0])),
    'cross_entropy none 3d': () => F.cross_entropy(r(4, 3, 5), torch.zeros([4, 5], { device: d, dtype: torch.int64 }), { reduction: 'none' }),
    'cross_entropy smoothing': () => F.cross_entropy(r(4, 3), long([0, 1, 2, 0]), { label_smoothing: 0.1 }),
    'nll_loss 2d': () => F.nll_loss(r(2, 3, 4, 4), torch.zeros([2, 4, 4], { device: d, dtype: torch.int64 })),
    'mse_loss': () => F.mse_loss(r(4, 3), r(4, 3)),
    'l1_loss': () => F.l1_loss(r(4, 3), r(4, 3)),
    'smooth_l1': () => F.smooth_l1_loss(r(4, 3), r(4, 3)),
    'bce_with_logits': () => F.binary_cross_entropy_with_logits(r(4, 3), torch.rand([4, 3], { device: d })),
    'bce': () => F.binary_cross_entropy(r(4, 3).sigmoid(), torch.rand([4, 3], { device: d })),
    'kl_div': () => F.kl_div(r(4, 3), r(4, 3), { reduction: 'batchmean' }),
    'max_pool2d': () => F.max_pool2d(r(2, 3, 5, 5), 2),
    'max_pool1d': () => F.max_pool1d(r(2, 3, 5), 2),
    'avg_pool2d': () => F.avg_pool2d(r(2, 3, 5, 5), 2),
    'adaptive_avg_pool2d 1': () => F.adaptive_avg_pool2d(r(2, 3, 5, 5), 1),
    'adaptive_avg_pool2d 2': () => F.adaptive_avg_pool2d(r(2, 3, 5, 5), 2),
    'embedding': () => F.embedding(long([0, 1]), r(3, 4)),
    'pad reflect': () => F.pad(r(2, 3, 4), [1, 1], 'reflect'),
    'pad replicate': () => F.pad(r(2, 3, 4, 4), [1, 1, 1, 1], 'replicate'),
    'interpolate bilinear': () => F.interpolate(r(1, 2, 4, 4), null, 2.0, 'bilinear'),
    'interpolate nearest': () => F.interpolate(r(1, 2, 4, 4), null, 2.0),
    'gelu': () => F.gelu(r(3)),
    'softmax': () => F.softmax(r(3, 4), 1),
    'log_softmax': () => F.log_softmax(r(3, 4), 1),
    'relu inplace': () => F.relu(nl(3), true),
    'elu inplace': () => F.elu(nl(3), 1.0, true),
    'sdpa float32': () => F.scaled_dot_product_attention(r(2, 2, 4, 8), r(2, 2, 4, 8), r(2, 2, 4, 8)),
    'sdpa float16': () => F.scaled_dot_product_attention(rd(torch.float16, 2, 2, 4, 8), rd(torch.float16, 2, 2, 4, 8), rd(torch.float16, 2, 2, 4, 8)),
    'sdpa causal': () => F.scaled_dot_product_attention(r(2, 2, 4, 8), r(2, 2, 4, 8), r(2, 2, 4, 8), { is_causal: true }),
  'sdpa of transposed q, k, v': () => F.scaled_dot_product_attention(r(2, 4, 2, 8).transpose(1, 2), r(2, 4, 2, 8).transpose(1, 2), r(2, 4, 2, 8).transpose(1, 2)),
  };
  return cases;
}

describe.each(devices)('on %s', (d) => {
  for (const [name, make] of Object.entries(casesOn(d))) {
    it(name, async () => {
      const out = make();
      const shape = out.shape; // known at once in every case, without a reply
      let mirrored: string | undefined;
      try {
        mirrored = out.grad_fn?.name() ?? 'None';
      } catch {
        mirrored = undefined; // the runtime names the node: its reply is awaited below
      }
      await torch.sync(); // strict mode throws here if the mirror disagreed
      if (mirrored === undefined) {
        expect(NAMED_BY_RUNTIME.has(name) || (d === 'cuda' && NAMED_BY_RUNTIME_ON_CUDA.has(name)), `${name}: grad_fn named by the runtime on ${d}`).toBe(true);
        await out.ready();
        expect(out.grad_fn?.name()).toMatch(/Backward/);
      } else {
        expect(mirrored).toBe(out.grad_fn?.name() ?? 'None');
      }
      expect(out.shape).toEqual(shape);
    });
  }

  it.skipIf(d === 'cpu')('an LSTM moved to the device repacks its weights and computes what it computes on cpu', async () => {
    torch.manual_seed(0);
    const make = () => new nn.LSTM(8, 16, { num_layers: 2, batch_first: true, bidirectional: true });
    const here = make();
    const there = make();
    there.load_state_dict(here.state_dict());
    there.to(d); // flatten_parameters: cuDNN gets one weight buffer instead of rebuilding it each call
    const x = torch.randn(4, 5, 8);
    const [a] = here.forward(x);
    const [b] = there.forward(x.to(d));
    a.pow(2).sum().backward();
    b.pow(2).sum().backward();
    const largest = async (t: Tensor) => (await t.abs().max().item()) as number;
    expect(await largest(b.to('cpu').sub(a))).toBeLessThan(1e-3);
    const [p, q] = [here.parameters(), there.parameters()];
    for (let i = 0; i < p.length; i++) {
      // cuDNN and the CPU kernels differ in rounding only
      expect((await largest(q[i]!.grad!.to('cpu').sub(p[i]!.grad!))) / (await largest(p[i]!.grad!))).toBeLessThan(1e-3);
    }
  });

  it("the digits CNN's layers train 20 SGD steps, every op checked", async () => {
    torch.manual_seed(0);
    const model = new nn.Sequential(
      new nn.Conv2d(1, 16, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(16, 32, 3, { padding: 1 }), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(128, 64), new nn.ReLU(), new nn.Linear(64, 10),
    ).to(d);
    const opt = new torch.optim.SGD(model.parameters(), 0.01, 0.9);
    const x = torch.randn([64, 1, 8, 8], { device: d });
    const y = torch.randint(0, 10, [64], { device: d });
    const lossFn = new nn.CrossEntropyLoss();
    const losses: number[] = [];
    for (let i = 0; i < 20; i++) {
      const loss = lossFn.forward(model.forward(x) as Tensor, y);
      opt.zero_grad();
      loss.backward();
      opt.step();
      losses.push((await loss.item()) as number);
    }
    expect(losses[19]!).toBeLessThan(losses[0]!);
  });
});
