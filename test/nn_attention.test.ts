/**
 * nn.MultiheadAttention, nn.TransformerEncoderLayer and nn.TransformerEncoder against their
 * Python twins (the same torch in the venv): with the same seed the TS module starts from
 * exactly Python's weights under Python's state_dict keys, and outputs, attention weights and
 * gradients equal Python's. Python runs its standard (training or grad-enabled) path, as TS
 * always does. Strict mode checks every shape and autograd flag the mirror predicts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import torch, { Tensor, TorchError } from '../src/index.js';
import type { Module } from '../src/nn/module.js';
import { MultiheadAttention } from '../src/nn/modules/multihead_attention.js';
import { python } from './fixtures/python_twin.js';
// Tensor.backward and .grad (installed by this import until src/index.ts wires autograd in)

afterAll(async () => {
  await torch.shutdown();
});

type Nested = number | Nested[];

/** Every number of a and b agrees to 1e-6 relative (1e-6 absolute near zero). */
function expectClose(a: Nested, b: Nested, path = ''): void {
  if (Array.isArray(a) || Array.isArray(b)) {
    expect(Array.isArray(a) && Array.isArray(b) && a.length === b.length, path).toBe(true);
    (a as Nested[]).forEach((x, i) => expectClose(x, (b as Nested[])[i]!, `${path}[${i}]`));
    return;
  }
  expect(Math.abs(a - b), `${path}: ${a} vs ${b}`).toBeLessThanOrEqual(1e-6 * Math.max(Math.abs(a), Math.abs(b)) + 1e-6);
}

async function stateValues(m: Module): Promise<unknown[]> {
  return Promise.all(Object.values(m.state_dict()).map((t) => t.tolist()));
}

interface Twin {
  keys: string[];
  init: Nested[];
  outs: (Nested | null)[];
  grads: Nested[];
  xgrad: Nested;
}

interface MhaCase {
  name: string;
  make: () => MultiheadAttention;
  py: string;
  /** shapes of query, key, value; key/value null: self-attention (the query itself) */
  q: number[];
  kv: [number[], number[]] | null;
  /** TS forward keyword arguments and the same in Python (masks are built on both sides from code) */
  kwargs: (x: { q: Tensor }) => Record<string, unknown>;
  pyKwargs: string;
}

const causal = (n: number) => torch.ones(n, n, { dtype: torch.bool }).triu(1);

const MHA_CASES: MhaCase[] = [
  { name: 'self-attention, defaults', make: () => new MultiheadAttention(8, 2), py: 'nn.MultiheadAttention(8, 2)', q: [5, 3, 8], kv: null, kwargs: () => ({}), pyKwargs: '' },
  {
    name: 'batch_first, kdim/vdim, bias_kv, zero attn, per-head weights, padding mask',
    make: () => new MultiheadAttention(6, 3, { kdim: 4, vdim: 5, add_bias_kv: true, add_zero_attn: true, batch_first: true }),
    py: 'nn.MultiheadAttention(6, 3, kdim=4, vdim=5, add_bias_kv=True, add_zero_attn=True, batch_first=True)',
    q: [2, 3, 6],
    kv: [[2, 4, 4], [2, 4, 5]],
    kwargs: () => ({ key_padding_mask: torch.tensor([[false, false, true, false], [false, true, false, false]]), average_attn_weights: false }),
    pyKwargs: 'key_padding_mask=torch.tensor([[False, False, True, False], [False, True, False, False]]), average_attn_weights=False',
  },
  {
    name: 'causal bool mask without weights, no bias',
    make: () => new MultiheadAttention(8, 4, { bias: false }),
    py: 'nn.MultiheadAttention(8, 4, bias=False)',
    q: [4, 2, 8],
    kv: null,
    kwargs: () => ({ attn_mask: causal(4), need_weights: false, is_causal: true }),
    pyKwargs: 'attn_mask=torch.ones(4, 4, dtype=torch.bool).triu(1), need_weights=False, is_causal=True',
  },
  {
    name: 'unbatched query with a float mask',
    make: () => new MultiheadAttention(4, 2),
    py: 'nn.MultiheadAttention(4, 2)',
    q: [3, 4],
    kv: [[5, 4], [5, 4]],
    kwargs: () => ({ attn_mask: torch.arange(15, { dtype: torch.float32 }).reshape(3, 5).div(10) }),
    pyKwargs: 'attn_mask=torch.arange(15, dtype=torch.float32).reshape(3, 5) / 10',
  },
];

function mhaTwin(c: MhaCase, seed: number): Twin {
  const kv = c.kv ? `torch.randn(${c.kv[0].join(', ')}), torch.randn(${c.kv[1].join(', ')})` : 'x, x';
  return python(`
    from torch import nn
    torch.manual_seed(${seed})
    m = ${c.py}
    sd = m.state_dict()
    init = [v.tolist() for v in sd.values()]
    x = torch.randn(${c.q.join(', ')}, requires_grad=True)
    k, v = ${kv}
    out, w = m(x, k, v, ${c.pyKwargs})
    loss = out.sum() + (0 if w is None else (w * torch.arange(w.numel()).reshape(w.shape)).sum())
    loss.backward()
    print(json.dumps({"keys": list(sd.keys()), "init": init, "outs": [out.tolist(), None if w is None else w.tolist()],
      "grads": [p.grad.tolist() for p in m.parameters()], "xgrad": x.grad.tolist()}))
  `);
}

describe('MultiheadAttention equals its Python twin', () => {
  for (const [i, c] of MHA_CASES.entries()) {
    it(c.name, async () => {
      const seed = 200 + i;
      const py = mhaTwin(c, seed);
      torch.manual_seed(seed);
      const m = c.make();
      expect(Object.keys(m.state_dict())).toEqual(py.keys);
      expect(await stateValues(m)).toEqual(py.init);

      const x = torch.randn(...c.q, { requires_grad: true });
      const [k, v] = c.kv ? [torch.randn(...c.kv[0]), torch.randn(...c.kv[1])] : [x, x];
      const [out, w] = m.forward(x, k, v, c.kwargs({ q: x }));
      // the mirror knows the shapes at once; strict mode has the runtime confirm them
      expect([...out.shape]).toEqual(shapeOf(py.outs[0]!));
      expect(w === null ? null : [...w.shape]).toEqual(py.outs[1] === null ? null : shapeOf(py.outs[1]!));
      expectClose((await out.tolist()) as Nested, py.outs[0]!, 'attn_output');
      if (w !== null) expectClose((await w.tolist()) as Nested, py.outs[1]!, 'attn_weights');

      let loss = out.sum();
      if (w !== null) loss = loss.add(w.mul(torch.arange(w.numel()).reshape(w.shape)).sum());
      loss.backward();
      for (const [j, p] of m.parameters().entries()) expectClose((await p.grad!.tolist()) as Nested, py.grads[j]!, `grad ${j}`);
      expectClose((await x.grad!.tolist()) as Nested, py.xgrad, 'grad of the query');
    });
  }

  it('predicts metadata without a round trip, also under no_grad', async () => {
    const m = new MultiheadAttention(8, 2, { batch_first: true });
    const x = torch.randn(2, 5, 8);
    const [out, w] = torch.no_grad(() => m.forward(x, x, x, { average_attn_weights: false }));
    expect([out.shape, w!.shape, out.requires_grad, w!.requires_grad]).toEqual([[2, 5, 8], [2, 2, 5, 5], false, false]);
    const [o2, w2] = m.forward(x, x, x, { need_weights: false });
    expect([o2.shape, o2.requires_grad, o2.is_leaf, w2]).toEqual([[2, 5, 8], true, false, null]);
    await torch.sync();
  });

  it('bad shapes throw at the call site with torch messages', () => {
    const m = new MultiheadAttention(8, 2);
    const err = (() => {
      try {
        m.forward(torch.randn(5, 3, 6), torch.randn(5, 3, 6), torch.randn(5, 3, 6));
      } catch (e) {
        return e as TorchError;
      }
      throw new Error('no error');
    })();
    const py = python<[string, string]>(`
      from torch import nn
      try:
          nn.MultiheadAttention(8, 2)(torch.randn(5, 3, 6), torch.randn(5, 3, 6), torch.randn(5, 3, 6))
      except Exception as e:
          print(json.dumps([type(e).__name__, str(e)]))
    `);
    expect(err).toBeInstanceOf(TorchError);
    expect([err.pyType, err.pyMessage]).toEqual(py);
    expect(() => new MultiheadAttention(6, 4)).toThrow('embed_dim must be divisible by num_heads');
  });
});

function shapeOf(v: Nested): number[] {
  const s: number[] = [];
  let cur: Nested = v;
  while (Array.isArray(cur)) {
    s.push(cur.length);
    cur = cur[0]!;
  }
  return s;
}

describe('TransformerEncoderLayer and TransformerEncoder equal their Python twins', () => {
  // Dropout is 0 so that both sides compute the same function (dropout masks come from separate streams).
  const CASES = [
    {
      name: 'encoder layer, post-norm, relu, causal mask',
      ts: 'layer',
      kwargs: { dim_feedforward: 16, dropout: 0.0 },
      py: 'nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0)',
      x: [5, 3, 8],
      forward: "src_mask=nn.Transformer.generate_square_subsequent_mask(5)",
    },
    {
      name: 'encoder layer, pre-norm, gelu, batch_first, padding mask',
      ts: 'layer',
      kwargs: { dim_feedforward: 12, dropout: 0.0, activation: 'gelu', norm_first: true, batch_first: true, layer_norm_eps: 1e-6 },
      py: "nn.TransformerEncoderLayer(8, 4, dim_feedforward=12, dropout=0.0, activation='gelu', norm_first=True, batch_first=True, layer_norm_eps=1e-6)",
      x: [2, 4, 8],
      forward: 'src_key_padding_mask=torch.tensor([[False, False, False, True], [False, True, False, False]])',
    },
    {
      name: 'encoder of 3 deep-copied layers with a final LayerNorm',
      ts: 'encoder',
      kwargs: { dim_feedforward: 16, dropout: 0.0 },
      py: 'nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0), 3, norm=nn.LayerNorm(8), enable_nested_tensor=False)',
      x: [4, 2, 8],
      forward: '',
    },
  ] as const;

  for (const [i, c] of CASES.entries()) {
    it(c.name, async () => {
      const { TransformerEncoderLayer, TransformerEncoder } = await import('../src/nn/modules/transformer.js');
      const { LayerNorm } = await import('../src/nn/modules/normalization.js');
      const seed = 300 + i;
      const py = python<Twin>(`
        from torch import nn
        torch.manual_seed(${seed})
        m = ${c.py}
        sd = m.state_dict()
        init = [v.tolist() for v in sd.values()]
        x = torch.randn(${c.x.join(', ')}, requires_grad=True)
        out = m(x${c.forward ? ', ' + c.forward : ''})
        out.sum().backward()
        print(json.dumps({"keys": list(sd.keys()), "init": init, "outs": [out.tolist()],
          "grads": [p.grad.tolist() for p in m.parameters()], "xgrad": x.grad.tolist()}))
      `);
      torch.manual_seed(seed);
      const heads = c.py.includes('(8, 4') ? 4 : 2;
      const m: Module =
        c.ts === 'layer'
          ? new TransformerEncoderLayer(8, heads, c.kwargs as never)
          : new TransformerEncoder(new TransformerEncoderLayer(8, heads, c.kwargs as never), 3, { norm: new LayerNorm(8), enable_nested_tensor: false });
      expect(Object.keys(m.state_dict())).toEqual(py.keys);
      expect(await stateValues(m)).toEqual(py.init);

      const x = torch.randn(...c.x, { requires_grad: true });
      const kw: Record<string, unknown> =
        i === 0
          ? { src_mask: torch.full([5, 5], -Infinity).triu(1) }
          : i === 1
            ? { src_key_padding_mask: torch.tensor([[false, false, false, true], [false, true, false, false]]) }
            : {};
      const out = (m as InstanceType<typeof TransformerEncoderLayer>).forward(x, kw);
      // every op of the layer is mirrored in grad mode too: the shape is known before any reply
      expect([...out.shape]).toEqual(c.x);
      expectClose((await out.tolist()) as Nested, py.outs[0]!, 'output');
      out.sum().backward();
      for (const [j, p] of m.parameters().entries()) expectClose((await p.grad!.tolist()) as Nested, py.grads[j]!, `grad ${j}`);
      expectClose((await x.grad!.tolist()) as Nested, py.xgrad, 'grad of the input');
    });
  }

  it('the copies in an encoder start equal but are separate parameters', async () => {
    const { TransformerEncoderLayer, TransformerEncoder } = await import('../src/nn/modules/transformer.js');
    const layer = new TransformerEncoderLayer(4, 2, { dim_feedforward: 8 });
    const enc = new TransformerEncoder(layer, 2);
    const [a, b] = enc.layers.children() as InstanceType<typeof TransformerEncoderLayer>[];
    expect(a!.linear1.weight).not.toBe(b!.linear1.weight);
    expect(a!.linear1.weight).not.toBe(layer.linear1.weight);
    expect(await a!.linear1.weight.tolist()).toEqual(await b!.linear1.weight.tolist());
    expect(await a!.self_attn.in_proj_weight!.tolist()).toEqual(await layer.self_attn.in_proj_weight!.tolist());
  });
});
