/**
 * nn.RNN, nn.LSTM and nn.GRU against their Python twins (the same torch in the venv): with the
 * same seed the TS module starts from exactly Python's weights under exactly Python's
 * state_dict keys, and the forward pass (outputs, final states) and the gradients of every
 * parameter and of the input equal Python's. Strict mode checks every predicted shape.
 */
import { afterAll, describe, expect, it } from 'vitest';
import torch, { Tensor, TorchError } from '../src/index.js';
import { RNN, LSTM, GRU, type RNNBase } from '../src/nn/modules/rnn.js';
import { python } from './fixtures/python_twin.js';
// Tensor.backward and .grad (installed by this import until src/index.ts wires autograd in)

afterAll(async () => {
  await torch.shutdown();
});

type Nested = number | Nested[];

/** One recurrent configuration: how TS builds it, and the same constructor call in Python. */
interface Case {
  name: string;
  make: () => RNNBase;
  py: string;
  /** input shape */
  input: number[];
  /** initial state shapes (none: zeros) */
  hx?: number[][];
}

const CASES: Case[] = [
  { name: 'RNN tanh', make: () => new RNN(3, 5), py: 'nn.RNN(3, 5)', input: [4, 2, 3] },
  {
    name: 'RNN relu, 2 layers, bidirectional, batch_first, given h0',
    make: () => new RNN(3, 4, 2, 'relu', { batch_first: true, bidirectional: true }),
    py: "nn.RNN(3, 4, 2, 'relu', batch_first=True, bidirectional=True)",
    input: [2, 5, 3],
    hx: [[4, 2, 4]],
  },
  { name: 'GRU without bias, unbatched', make: () => new GRU(3, 4, { bias: false }), py: 'nn.GRU(3, 4, bias=False)', input: [6, 3] },
  {
    name: 'GRU 3 layers bidirectional',
    make: () => new GRU(2, 3, 3, true, false, 0.0, true),
    py: 'nn.GRU(2, 3, 3, True, False, 0.0, True)',
    input: [5, 2, 2],
  },
  { name: 'LSTM', make: () => new LSTM(3, 4), py: 'nn.LSTM(3, 4)', input: [5, 2, 3] },
  {
    name: 'LSTM 2 layers bidirectional with projections, given (h0, c0)',
    make: () => new LSTM(3, 5, { num_layers: 2, bidirectional: true, proj_size: 2 }),
    py: 'nn.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2)',
    input: [4, 3, 3],
    hx: [[4, 3, 2], [4, 3, 5]],
  },
  { name: 'LSTM batch_first, unbatched input', make: () => new LSTM(2, 3, { batch_first: true }), py: 'nn.LSTM(2, 3, batch_first=True)', input: [4, 2] },
];

/** The states of a forward result as a flat list: [output, h_n] or [output, h_n, c_n]. */
function flat(result: [Tensor, Tensor] | [Tensor, [Tensor, Tensor]]): Tensor[] {
  const [out, h] = result;
  return Array.isArray(h) ? [out, ...h] : [out, h];
}

/** Python: the same module and data under the same seed; init, outputs, grads as JSON. */
function twin(c: Case, seed: number): { keys: string[]; init: Nested[]; outs: Nested[]; shapes: number[][]; grads: Nested[]; xgrad: Nested } {
  const hx = c.hx ? `[${c.hx.map((s) => `torch.randn(${s.join(', ')})`).join(', ')}]` : 'None';
  return python(`
    from torch import nn
    torch.manual_seed(${seed})
    m = ${c.py}
    sd = m.state_dict()
    init = [v.tolist() for v in sd.values()]
    x = torch.randn(${c.input.join(', ')}, requires_grad=True)
    hx = ${hx}
    if hx is not None:
        hx = hx[0] if len(hx) == 1 else tuple(hx)
    out, h = m(x, hx)
    outs = [out] + (list(h) if isinstance(h, tuple) else [h])
    sum(o.sum() * (i + 1) for i, o in enumerate(outs)).backward()
    print(json.dumps({"keys": list(sd.keys()), "init": init, "outs": [o.tolist() for o in outs],
      "shapes": [list(o.shape) for o in outs], "grads": [p.grad.tolist() for p in m.parameters()],
      "xgrad": x.grad.tolist()}))
  `);
}

/** Every number of a and b agrees to 1e-6 relative (1e-7 absolute near zero). */
function expectClose(a: Nested, b: Nested, path = ''): void {
  if (Array.isArray(a) || Array.isArray(b)) {
    expect(Array.isArray(a) && Array.isArray(b) && a.length === b.length, path).toBe(true);
    (a as Nested[]).forEach((x, i) => expectClose(x, (b as Nested[])[i]!, `${path}[${i}]`));
    return;
  }
  expect(Math.abs(a - b), `${path}: ${a} vs ${b}`).toBeLessThanOrEqual(1e-6 * Math.max(Math.abs(a), Math.abs(b)) + 1e-7);
}

describe('recurrent layers equal their Python twins', () => {
  for (const [i, c] of CASES.entries()) {
    it(c.name, async () => {
      const seed = 100 + i;
      const py = twin(c, seed);
      torch.manual_seed(seed);
      const m = c.make();
      const sd = m.state_dict();
      expect(Object.keys(sd)).toEqual(py.keys);
      // the same random stream: bit-identical initial weights
      expect(await Promise.all(Object.values(sd).map((t) => t.tolist()))).toEqual(py.init);

      const x = torch.randn(...c.input, { requires_grad: true });
      const hx = c.hx?.map((s) => torch.randn(...s));
      const result = hx === undefined ? m.forward(x) : m instanceof LSTM ? m.forward(x, hx as [Tensor, Tensor]) : (m as RNN).forward(x, hx[0]);
      const outs = flat(result as Parameters<typeof flat>[0]);
      for (const o of outs) await o.ready(); // recorded by autograd: the runtime reports the metadata
      expect(outs.map((o) => [...o.shape])).toEqual(py.shapes);
      for (const [j, o] of outs.entries()) expectClose((await o.tolist()) as Nested, py.outs[j]!, `output ${j}`);

      let loss = outs[0]!.sum();
      outs.slice(1).forEach((o, j) => (loss = loss.add(o.sum().mul(j + 2))));
      loss.backward();
      const grads = m.parameters().map((p) => p.grad);
      expect(grads.every((g) => g instanceof Tensor)).toBe(true);
      for (const [j, g] of grads.entries()) expectClose((await g!.tolist()) as Nested, py.grads[j]!, `grad of ${Object.keys(sd)[j]}`);
      expectClose((await x.grad!.tolist()) as Nested, py.xgrad, 'grad of the input');
    });
  }
});

describe('the mirror', () => {
  it('knows the shapes at once when nothing is recorded for autograd', async () => {
    const m = new LSTM(3, 6, { num_layers: 2, batch_first: true, bidirectional: true, proj_size: 4 });
    const [out, [h, c]] = torch.no_grad(() => m.forward(torch.randn(2, 7, 3)));
    expect([out.shape, h.shape, c.shape]).toEqual([[2, 7, 8], [4, 2, 4], [4, 2, 6]]);
    expect(out.requires_grad).toBe(false);
    await torch.sync(); // strict mode: the runtime has checked every prediction

    const g = new GRU(4, 5);
    g.requires_grad_(false);
    const [o, hn] = g.forward(torch.randn(3, 4));
    expect([o.shape, hn.shape]).toEqual([[3, 5], [1, 5]]);
    await torch.sync();
  });

  it('knows recorded results at once too; the runtime names their grad_fn (it depends on the backend)', async () => {
    const cases = [
      { ts: () => new RNN(2, 3), py: 'nn.RNN(2, 3)', x: [4, 1, 2] },
      { ts: () => new LSTM(2, 3, { num_layers: 2, batch_first: true }), py: 'nn.LSTM(2, 3, num_layers=2, batch_first=True)', x: [1, 4, 2] },
      { ts: () => new GRU(2, 3, { bidirectional: true }), py: 'nn.GRU(2, 3, bidirectional=True)', x: [4, 1, 2] },
    ];
    const py = python<string[][]>(`
      from torch import nn
      names = []
      for m, x in [${cases.map((c) => `(${c.py}, torch.randn(${c.x.join(', ')}))`).join(', ')}]:
          out, h = m(x)
          h = h if isinstance(h, tuple) else (h,)
          names.append([type(t.grad_fn).__name__ for t in (out, *h)])
      print(json.dumps(names))
    `);
    for (const [i, c] of cases.entries()) {
      const [out, state] = c.ts().forward(torch.randn(...c.x));
      const states = state instanceof Tensor ? [state] : state;
      // no reply needed for shapes and autograd flags: what follows stays on the mirror
      expect(out.shape[2]).toBe(c.py.includes('bidirectional') ? 6 : 3);
      expect([out.requires_grad, out.is_leaf]).toEqual([true, false]);
      const next = out.sum();
      expect(next.grad_fn?.name()).toBe('SumBackward0');
      expect(() => out.grad_fn).toThrow(/await t\.ready\(\)/);
      await out.ready();
      expect([out, ...states].map((t) => t.grad_fn?.name())).toEqual(py[i]);
    }
    await torch.sync(); // strict mode: the rest of each prediction was checked
  });
});

describe('arguments and errors as in Python', () => {
  it('flat weights, all_weights and repr follow Python', () => {
    const m = new LSTM(3, 4, { num_layers: 2, bidirectional: true });
    const names = python<string[]>(`
      from torch import nn
      print(json.dumps(nn.LSTM(3, 4, num_layers=2, bidirectional=True)._flat_weights_names))
    `);
    expect(m._flat_weights_names).toEqual(names);
    expect(m.all_weights.map((ws) => ws.map((w) => [...w.shape]))).toEqual([
      [[16, 3], [16, 4], [16], [16]],
      [[16, 3], [16, 4], [16], [16]],
      [[16, 8], [16, 4], [16], [16]],
      [[16, 8], [16, 4], [16], [16]],
    ]);
    const repr = python<string>(`
      from torch import nn
      print(json.dumps(repr(nn.LSTM(3, 4, num_layers=2, bidirectional=True))))
    `);
    expect(m.toString()).toBe(repr);
  });

  it('bad inputs throw torch messages at the call site', async () => {
    const m = new LSTM(3, 4);
    const cases: [() => unknown, string, string][] = [
      [() => m.forward(torch.randn(5, 2, 7)), 'RuntimeError', 'input.size(-1) must be equal to input_size. Expected 3, got 7'],
      [() => m.forward(torch.randn(5)), 'ValueError', 'LSTM: Expected input to be 2D or 3D, got 1D instead'],
      [() => m.forward(torch.randn(5, 2, 3), [torch.randn(1, 3, 4), torch.randn(1, 2, 4)]), 'RuntimeError', 'Expected hidden[0] size (1, 2, 4), got [1, 3, 4]'],
      [() => m.forward(torch.randn(5, 2, 3, { dtype: torch.float64 })), 'ValueError', 'input must have the type torch.float32, got type torch.float64'],
      [() => new RNN(3, 4, 1, 'sigmoid' as never), 'ValueError', "Unknown nonlinearity 'sigmoid'. Select from 'tanh' or 'relu'."],
      [() => new LSTM(3, 4, { proj_size: 4 }), 'ValueError', 'proj_size has to be smaller than hidden_size'],
      [() => new GRU(3, 4, { dropout: 1.5 }), 'ValueError', 'dropout should be a number in range [0, 1] representing the probability of an element being zeroed'],
    ];
    const pyMessages = python<[string, string][]>(`
      from torch import nn
      m = nn.LSTM(3, 4)
      calls = [lambda: m(torch.randn(5, 2, 7)), lambda: m(torch.randn(5)),
        lambda: m(torch.randn(5, 2, 3), (torch.randn(1, 3, 4), torch.randn(1, 2, 4))),
        lambda: m(torch.randn(5, 2, 3, dtype=torch.float64)), lambda: nn.RNN(3, 4, 1, 'sigmoid'),
        lambda: nn.LSTM(3, 4, proj_size=4), lambda: nn.GRU(3, 4, dropout=1.5)]
      out = []
      for c in calls:
          try:
              c()
              out.append(["", ""])
          except Exception as e:
              out.append([type(e).__name__, str(e)])
      print(json.dumps(out))
    `);
    for (const [j, [fn, type, message]] of cases.entries()) {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err, message).toBeInstanceOf(TorchError);
      expect([(err as TorchError).pyType, (err as TorchError).pyMessage]).toEqual([type, message]);
      expect([type, message]).toEqual(pyMessages[j]);
    }
  });
});
