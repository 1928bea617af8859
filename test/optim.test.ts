/**
 * torch.optim in TS against the same program in Python (test/fixtures/python_twin.ts): the same
 * initial parameters, the same batches, a real loss and backward(), then after every few steps
 * the parameters must equal Python's exactly (the runtime runs torch's own optimizers, so any
 * difference is a bug in what TS hands it: arguments, groups, state, order of ops).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import torch, { ArgumentError, Tensor, TorchError } from '../src/index.js';
import { currentSession } from '../src/session/current.js';
import { pyValue } from '../src/py/object.js';
import type { Optimizer, Params } from '../src/optim/index.js';
import { python } from './fixtures/python_twin.js';

const STEPS = 6;

/** Deterministic numbers, the same literals on both sides. */
function grid(rows: number, cols: number, f: (i: number, j: number) => number): number[][] {
  return Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => f(i, j)));
}
const DATA = {
  W: grid(3, 4, (i, j) => Math.sin(1 + i * 4 + j) / 2),
  b: [0.1, -0.2, 0.3],
  xs: Array.from({ length: 2 * STEPS }, (_, k) => grid(5, 4, (i, j) => Math.cos(k * 7 + i * 3 + j))),
  ts: Array.from({ length: 2 * STEPS }, (_, k) => grid(5, 3, (i, j) => Math.sin(k * 5 + i * 2 + j) * 2)),
};

interface Model {
  W: Tensor;
  b: Tensor;
}

function model(): Model {
  return {
    W: torch.tensor(DATA.W, { dtype: torch.float32, requires_grad: true }),
    b: torch.tensor(DATA.b, { dtype: torch.float32, requires_grad: true }),
  };
}

/** (x.mm(W.t()) + b - t).pow(2).mean() for batch k, as the twin computes it. */
function loss(m: Model, k: number): Tensor {
  const x = torch.tensor(DATA.xs[k]!, { dtype: torch.float32 });
  const t = torch.tensor(DATA.ts[k]!, { dtype: torch.float32 });
  return x.mm(m.W.t()).add(m.b).sub(t).pow(2).mean();
}

/** Steps from..to-1 of training: forward, backward, step, zero_grad. */
function train(m: Model, opt: Optimizer, from: number, to: number): void {
  for (let k = from; k < to; k++) {
    torch.tidy(() => loss(m, k).backward());
    opt.step();
    opt.zero_grad();
  }
}

async function values(m: Model): Promise<{ W: unknown; b: unknown }> {
  return { W: await m.W.tolist(), b: await m.b.tolist() };
}

interface TwinSpec {
  make: string;
  steps: number;
  between: string;
  at: number;
  sd_at: number;
  report: string;
}
interface TwinResult {
  W: unknown;
  b: unknown;
  sd?: { state: Record<string, Record<string, unknown>>; param_groups: Record<string, unknown>[] };
  report?: unknown;
}
const specs: Record<string, TwinSpec> = {};
let twins: Record<string, TwinResult> = {};

/**
 * A twin run, registered while the tests are collected (all of them run in one Python process
 * before the tests): `make` builds `opt` from W and b; `between` runs after step `at` (an lr
 * change); after step `sd_at` the state dict is kept (tensors as lists); `report` is evaluated
 * at the end. Returns the key of its result in `twins`.
 */
function twin(make: string, o: { steps?: number; between?: string; at?: number; sd_at?: number; report?: string } = {}): string {
  const spec = { make, steps: STEPS, between: 'pass', at: -1, sd_at: -1, report: 'None', ...o };
  const key = JSON.stringify(spec);
  specs[key] = spec;
  return key;
}

/** W and b after a twin run. */
function twinValues(key: string): { W: unknown; b: unknown } {
  const { W, b } = twins[key]!;
  return { W, b };
}

beforeAll(() => {
  twins = python<Record<string, TwinResult>>(`
    data = json.loads(${JSON.stringify(JSON.stringify(DATA))})
    specs = json.loads(${JSON.stringify(JSON.stringify(specs))})
    lists = lambda v: v.tolist() if isinstance(v, torch.Tensor) else list(v) if isinstance(v, tuple) else v
    def run(make, steps, between, at, sd_at, report):
        W = torch.tensor(data['W'], dtype=torch.float32, requires_grad=True)
        b = torch.tensor(data['b'], dtype=torch.float32, requires_grad=True)
        env = {'torch': torch, 'W': W, 'b': b}
        exec(make, env)
        opt = env['opt']
        out = {}
        for k in range(steps):
            x = torch.tensor(data['xs'][k], dtype=torch.float32)
            t = torch.tensor(data['ts'][k], dtype=torch.float32)
            (x.mm(W.t()).add(b).sub(t) ** 2).mean().backward()
            opt.step()
            opt.zero_grad()
            if k == at:
                exec(between, env)
            if k == sd_at:
                sd = opt.state_dict()
                out['sd'] = {'state': {i: {n: lists(v) for n, v in s.items()} for i, s in sd['state'].items()},
                             'param_groups': [{n: lists(v) for n, v in g.items()} for g in sd['param_groups']]}
        out.update(W=W.tolist(), b=b.tolist(), report=eval(report, env))
        return out
    results = {key: run(**spec) for key, spec in specs.items()}
    try:
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=-1)
    except ValueError as e:
        results['lr_error'] = {'report': str(e)}
    print(json.dumps(results))
  `);
}, 600_000);

afterAll(async () => {
  await torch.shutdown();
});

describe('optimizers step for step with Python', () => {
  const cases: [string, (p: Params) => Optimizer, string][] = [
    ['SGD', (p) => new torch.optim.SGD(p, { lr: 0.1 }), 'torch.optim.SGD([W, b], lr=0.1)'],
    ['SGD, lr positional', (p) => new torch.optim.SGD(p, 0.05), 'torch.optim.SGD([W, b], 0.05)'],
    ['SGD, lr and momentum positional', (p) => new torch.optim.SGD(p, 0.05, 0.8), 'torch.optim.SGD([W, b], 0.05, 0.8)'],
    [
      'SGD momentum nesterov weight_decay',
      (p) => new torch.optim.SGD(p, { lr: 0.1, momentum: 0.9, nesterov: true, weight_decay: 1e-4 }),
      'torch.optim.SGD([W, b], lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)',
    ],
    [
      'SGD dampening maximize',
      (p) => new torch.optim.SGD(p, { lr: 0.01, momentum: 0.5, dampening: 0.3, maximize: true }),
      'torch.optim.SGD([W, b], lr=0.01, momentum=0.5, dampening=0.3, maximize=True)',
    ],
    ['Adam defaults', (p) => new torch.optim.Adam(p), 'torch.optim.Adam([W, b])'],
    [
      'Adam betas amsgrad weight_decay',
      (p) => new torch.optim.Adam(p, { lr: 0.02, betas: [0.8, 0.99], eps: 1e-6, weight_decay: 0.01, amsgrad: true }),
      'torch.optim.Adam([W, b], lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01, amsgrad=True)',
    ],
    [
      'Adam positional betas, foreach off',
      (p) => new torch.optim.Adam(p, 0.03, [0.85, 0.98], { foreach: false }),
      'torch.optim.Adam([W, b], 0.03, (0.85, 0.98), foreach=False)',
    ],
    ['AdamW', (p) => new torch.optim.AdamW(p, { lr: 0.05, weight_decay: 0.1 }), 'torch.optim.AdamW([W, b], lr=0.05, weight_decay=0.1)'],
    [
      'AdamW amsgrad',
      (p) => new torch.optim.AdamW(p, 0.01, [0.7, 0.9], 1e-5, 0.02, true),
      'torch.optim.AdamW([W, b], 0.01, (0.7, 0.9), 1e-5, 0.02, True)',
    ],
    ['RMSprop', (p) => new torch.optim.RMSprop(p, { lr: 0.01 }), 'torch.optim.RMSprop([W, b], lr=0.01)'],
    [
      'RMSprop centered momentum weight_decay',
      (p) => new torch.optim.RMSprop(p, { lr: 0.005, alpha: 0.9, momentum: 0.5, centered: true, weight_decay: 0.01 }),
      'torch.optim.RMSprop([W, b], lr=0.005, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01)',
    ],
    ['Adagrad', (p) => new torch.optim.Adagrad(p, { lr: 0.1 }), 'torch.optim.Adagrad([W, b], lr=0.1)'],
    [
      'Adagrad lr_decay initial_accumulator_value',
      (p) => new torch.optim.Adagrad(p, 0.2, 0.01, 0.001, 0.1),
      'torch.optim.Adagrad([W, b], 0.2, 0.01, 0.001, 0.1)',
    ],
  ];

  for (const [title, make, py] of cases) {
    const key = twin(`opt = ${py}`);
    it(title, async () => {
      const m = model();
      const opt = make([m.W, m.b]);
      train(m, opt, 0, STEPS);
      expect(await values(m)).toEqual(twinValues(key));
      opt.dispose();
    });
  }

  const groupsKey = twin("opt = torch.optim.SGD([{'params': [W], 'lr': 0.05, 'momentum': 0.5}, {'params': b}], lr=0.1, momentum=0.9)", {
    report: "[{k: v for k, v in g.items() if k != 'params'} for g in opt.param_groups]",
  });
  it('parameter groups with their own options', async () => {
    const m = model();
    const opt = new torch.optim.SGD([{ params: [m.W], lr: 0.05, momentum: 0.5 }, { params: m.b }], { lr: 0.1, momentum: 0.9 });
    train(m, opt, 0, STEPS);
    expect(await values(m)).toEqual(twinValues(groupsKey));

    const groups = await opt.param_groups_value();
    expect(groups.map(({ params: _, ...options }) => options)).toEqual(twins[groupsKey]!.report);
    expect(groups[0]!.params[0]).toBe(m.W); // the TS tensors themselves, not new handles
    expect(groups[1]!.params[0]).toBe(m.b);
    expect(opt.params).toEqual([m.W, m.b]);
  });

  const namedKey = twin("opt = torch.optim.Adam([('weight', W), ('bias', b)], lr=0.01)");
  it('named parameters, as model.named_parameters() gives them', async () => {
    const m = model();
    const opt = new torch.optim.Adam(
      [
        ['weight', m.W],
        ['bias', m.b],
      ],
      { lr: 0.01 },
    );
    train(m, opt, 0, STEPS);
    expect(await values(m)).toEqual(twinValues(namedKey));
    const [group] = await opt.param_groups_value();
    expect(group!.param_names).toEqual(['weight', 'bias']);
  });

  const addKey = twin("opt = torch.optim.SGD([W], lr=0.1, momentum=0.9); opt.add_param_group({'params': [b], 'lr': 0.02})");
  it('add_param_group', async () => {
    const m = model();
    const opt = new torch.optim.SGD([m.W], { lr: 0.1, momentum: 0.9 });
    opt.add_param_group({ params: [m.b], lr: 0.02 });
    train(m, opt, 0, STEPS);
    expect(await values(m)).toEqual(twinValues(addKey));
    expect((await opt.param_groups_value()).map((g) => [g.lr, g.momentum, g.params])).toEqual([
      [0.1, 0.9, [m.W]],
      [0.02, 0.9, [m.b]],
    ]);
  });

  const setKey = twin('opt = torch.optim.SGD([W, b], lr=0.1, momentum=0.9)', {
    between: "opt.param_groups[0].update({'lr': 0.01, 'momentum': 0.5})",
    at: 2,
  });
  it('set_param_group changes an option in the runtime, in order with the steps', async () => {
    const m = model();
    const opt = new torch.optim.SGD([m.W, m.b], { lr: 0.1, momentum: 0.9 });
    train(m, opt, 0, 3);
    opt.set_param_group(0, { lr: 0.01, momentum: 0.5 });
    train(m, opt, 3, STEPS);
    expect(await values(m)).toEqual(twinValues(setKey));
    expect((await opt.param_groups_value())[0]!.lr).toBe(0.01);
    expect(() => opt.set_param_group(1, { lr: 1 })).toThrow(ArgumentError);
    expect(() => opt.set_param_group(0, { params: [m.W] })).toThrow(ArgumentError);
  });
});

describe('state_dict', () => {
  for (const [name, make, py] of [
    ['SGD', (p: Params) => new torch.optim.SGD(p, { lr: 0.1, momentum: 0.9 }), 'torch.optim.SGD([W, b], lr=0.1, momentum=0.9)'],
    ['Adam', (p: Params) => new torch.optim.Adam(p, { lr: 0.01, betas: [0.8, 0.9], amsgrad: true }), 'torch.optim.Adam([W, b], lr=0.01, betas=(0.8, 0.9), amsgrad=True)'],
    ['RMSprop', (p: Params) => new torch.optim.RMSprop(p, { lr: 0.01, centered: true, momentum: 0.3 }), 'torch.optim.RMSprop([W, b], lr=0.01, centered=True, momentum=0.3)'],
    ['Adagrad', (p: Params) => new torch.optim.Adagrad(p, { lr: 0.1 }), 'torch.optim.Adagrad([W, b], lr=0.1)'],
  ] as const) {
    const key = twin(`opt = ${py}`, { sd_at: 2 });
    it(`${name}: equals Python's, and save / new optimizer / load / continue equals an uninterrupted run`, async () => {
      const m = model();
      const first = make([m.W, m.b]);
      train(m, first, 0, 3);
      const sd = await first.state_dict();

      // what Python's state_dict holds after the same 3 steps: every entry, tensors as lists
      const pySd = twins[key]!.sd!;
      expect(sd.param_groups).toEqual(pySd.param_groups);
      expect(Object.keys(sd.state)).toEqual(Object.keys(pySd.state));
      for (const [i, entry] of Object.entries(sd.state)) {
        const asLists: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(entry)) asLists[k] = v instanceof Tensor ? await v.tolist() : v;
        expect(asLists).toEqual(pySd.state[i]);
      }

      // a fresh optimizer (Python's defaults) takes the state and continues as if uninterrupted
      first.dispose();
      const second = name === 'SGD' ? new torch.optim.SGD([m.W, m.b]) : make([m.W, m.b]);
      second.load_state_dict(sd);
      train(m, second, 3, STEPS);
      expect(await values(m)).toEqual(twinValues(key));
      second.dispose();
    });
  }

  it('loading a state dict for other groups throws at the call site, as torch would', async () => {
    const m = model();
    const opt = new torch.optim.SGD([m.W, m.b], { lr: 0.1 });
    const sd = await opt.state_dict();
    const other = new torch.optim.SGD([{ params: [m.W] }, { params: [m.b] }], { lr: 0.1 });
    expect(() => other.load_state_dict(sd)).toThrow('loaded state dict has a different number of parameter groups');
    const fewer = new torch.optim.SGD([m.W], { lr: 0.1 });
    expect(() => fewer.load_state_dict(sd)).toThrow("doesn't match the size of optimizer's group");
    expect(() => fewer.load_state_dict({} as never)).toThrow(ArgumentError);
  });
});

describe('zero_grad and step', () => {
  it('zero_grad() sets grads to None in the runtime and locally; zero_grad(false) zeroes them', async () => {
    const m = model();
    const opt = new torch.optim.SGD([m.W, m.b], { lr: 0.1 });
    loss(m, 0).backward();
    expect(m.W.grad).not.toBeNull();
    opt.zero_grad();
    expect(m.W.grad).toBeNull();
    expect(m.b.grad).toBeNull();
    expect(await pyValue('tb.getattr', [m.W, 'grad'])).toBeNull();

    loss(m, 0).backward();
    opt.zero_grad(false);
    expect(await m.W.grad!.tolist()).toEqual(grid(3, 4, () => 0));
    opt.zero_grad({ set_to_none: false });
    expect(await pyValue('tb.getattr', [m.b, 'grad'])).not.toBeNull();
    expect(() => opt.zero_grad(1 as never)).toThrow(ArgumentError);
  });

  it('step() and zero_grad() are one queued op each, with no round trip', () => {
    const m = model();
    const opt = new torch.optim.Adam([m.W, m.b]);
    const s = currentSession();
    const call = vi.spyOn(s, 'call');
    const read = vi.spyOn(s, 'read');
    opt.step();
    opt.zero_grad();
    expect(call).toHaveBeenCalledTimes(2);
    expect(read).not.toHaveBeenCalled();
    call.mockRestore();
    read.mockRestore();
  });

  const closureKey = twin('opt = torch.optim.SGD([W, b], lr=0.1, momentum=0.9)');
  it('step(closure) runs the closure with grad enabled, then steps, and returns its loss', async () => {
    const m = model();
    const opt = new torch.optim.SGD([m.W, m.b], { lr: 0.1, momentum: 0.9 });
    let last: Tensor | undefined;
    for (let k = 0; k < STEPS; k++) {
      opt.zero_grad();
      last = torch.no_grad(() =>
        opt.step(() => {
          const l = loss(m, k);
          l.backward();
          return l;
        }),
      );
    }
    expect(last!.requires_grad).toBe(true); // computed under enable_grad inside no_grad
    expect(await values(m)).toEqual(twinValues(closureKey));

    const asyncLoss = await opt.step(async () => loss(m, 0));
    expect(asyncLoss).toBeInstanceOf(Tensor);
  });
});

describe('bad arguments', () => {
  it('are thrown at the call site with torch-style messages', () => {
    const m = model();
    expect(() => new torch.optim.SGD(m.W as never, { lr: 0.1 })).toThrow(
      'params argument given to the optimizer should be an iterable of Tensors or dicts',
    );
    expect(() => new torch.optim.SGD([], { lr: 0.1 })).toThrow('optimizer got an empty parameter list');
    expect(() => new torch.optim.SGD([m.W], { lrr: 0.1 } as never)).toThrow("SGD() got an unexpected keyword argument 'lrr'");
    expect(() => new torch.optim.SGD([m.W], { lr: 'fast' } as never)).toThrow(ArgumentError);
    const Adam = torch.optim.Adam as unknown as new (...args: unknown[]) => unknown;
    expect(() => new Adam([m.W], 0.1, [0.9, 0.99], 1e-8, 0, false, true)).toThrow('Adam() takes 5 positional argument(s) but 6 were given');
    expect(() => new torch.optim.SGD([m.W.mul(2)], { lr: 0.1 })).toThrow("can't optimize a non-leaf Tensor");
    expect(() => new torch.optim.SGD([[1, 2]] as never)).toThrow('optimizer can only optimize Tensors');
  });

  it("values torch rejects surface at the next sync point with Python's error", async () => {
    const m = model();
    const opt = new torch.optim.SGD([m.W], { lr: -1 });
    const err = await torch.sync().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TorchError);
    expect((err as TorchError).pyType).toBe('ValueError');
    expect((err as TorchError).pyMessage).toBe(twins.lr_error!.report);
    // the optimizer is poisoned: using it reports the same error
    await expect(opt.param_groups_value()).rejects.toThrow('Invalid learning rate');
  });
});
