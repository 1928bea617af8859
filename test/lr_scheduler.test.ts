/**
 * torch.optim.lr_scheduler in TS against the same schedule in Python (test/fixtures/python_twin.ts):
 * the lr of every group after every step (get_last_lr, and the optimizer's own param_groups)
 * must equal Python's exactly, LambdaLR with TS functions and ReduceLROnPlateau fed numbers or
 * 0-dim tensors included; state dicts must equal Python's and resume a schedule exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import torch, { ArgumentError, Tensor } from '../src/index.js';
import type { LRScheduler } from '../src/optim/lr_scheduler/index.js';
import type { Optimizer } from '../src/optim/index.js';
import { python } from './fixtures/python_twin.js';

const STEPS = 14;

interface Setup {
  /** TS: the optimizer over two groups, W (lr 0.1) and b (lr 0.05) */
  opt: (W: Tensor, b: Tensor) => Optimizer;
  /** the same in Python, over W and b */
  pyOpt: string;
}

const SGD: Setup = {
  opt: (W, b) => new torch.optim.SGD([{ params: [W] }, { params: [b], lr: 0.05 }], { lr: 0.1, momentum: 0.9 }),
  pyOpt: "torch.optim.SGD([{'params': [W]}, {'params': [b], 'lr': 0.05}], lr=0.1, momentum=0.9)",
};
const ADAM: Setup = {
  opt: (W, b) => new torch.optim.Adam([{ params: [W] }, { params: [b], lr: 0.05 }], { lr: 0.1 }),
  pyOpt: "torch.optim.Adam([{'params': [W]}, {'params': [b], 'lr': 0.05}], lr=0.1)",
};

interface Trace {
  lrs: number[][];
  /** each group's lr, momentum and betas as the optimizer holds them after each step */
  groups: unknown[][];
}

function params(): [Tensor, Tensor] {
  return [torch.zeros(2, { requires_grad: true }), torch.zeros(1, { requires_grad: true })];
}

const GROUP_KEYS = "['lr', 'momentum', 'betas']";

/** Run `steps` steps in TS: optimizer step, scheduler step (with metrics[k] if given). */
async function traceTS(
  opt: Optimizer,
  sched: LRScheduler,
  steps: number,
  step: (k: number) => void = () => sched.step(),
): Promise<Trace> {
  const trace: Trace = { lrs: [await sched.get_last_lr()], groups: [] };
  for (let k = 0; k < steps; k++) {
    opt.step();
    step(k);
    trace.lrs.push(await sched.get_last_lr());
    trace.groups.push((await opt.param_groups_value()).map((g) => [g.lr, g.momentum ?? null, g.betas ?? null]));
  }
  return trace;
}

interface PyTrace extends Trace {
  sd?: Record<string, unknown>;
}
const specs: Record<string, Record<string, unknown>> = {};
let traces: Record<string, PyTrace> = {};

/**
 * The same in Python, registered while tests are collected (all run in one Python process before
 * the tests): `sched` is built from opt, `step` is the Python statement for step k, `prelude`
 * runs first; after step `sd_at` the scheduler's state dict is kept. Returns the result's key.
 */
function tracePy(setup: Setup, sched: string, o: { steps?: number; step?: string; prelude?: string; sd_at?: number } = {}): string {
  const spec = { opt: setup.pyOpt, sched, steps: STEPS, step: 'sched.step()', prelude: 'pass', sd_at: -1, ...o };
  const key = JSON.stringify(spec);
  specs[key] = spec;
  return key;
}

/** A Python trace without the state dict. */
function pyTrace(key: string): Trace {
  const { lrs, groups } = traces[key]!;
  return { lrs, groups };
}

beforeAll(() => {
  traces = python<Record<string, PyTrace>>(`
    specs = json.loads(${JSON.stringify(JSON.stringify(specs))})
    def run(opt, sched, steps, step, prelude, sd_at):
        env = {'torch': torch, 'math': math}
        exec(prelude, env)
        exec('W = torch.zeros(2, requires_grad=True); b = torch.zeros(1, requires_grad=True)', env)
        exec('opt = ' + opt, env)
        exec('sched = ' + sched, env)
        opt, sched = env['opt'], env['sched']
        trace = {'lrs': [sched.get_last_lr()], 'groups': []}
        for k in range(steps):
            opt.step()
            env['k'] = k
            exec(step, env)
            trace['lrs'].append(sched.get_last_lr())
            trace['groups'].append([[list(v) if isinstance(v, tuple) else v for v in (g.get(n) for n in ${GROUP_KEYS})] for g in opt.param_groups])
            if k == sd_at:
                # JSON has no infinity (ReduceLROnPlateau's mode_worse): spelled "inf" here and in the test
                trace['sd'] = json.loads(json.dumps(sched.state_dict(), default=dict).replace('Infinity', '"inf"'))
        return trace
    print(json.dumps({key: run(**spec) for key, spec in specs.items()}))
  `);
}, 600_000);

afterAll(async () => {
  await torch.shutdown();
});

describe('schedules equal Python step for step', () => {
  const cases: [string, Setup, (o: Optimizer) => LRScheduler, string][] = [
    ['StepLR', SGD, (o) => new torch.optim.lr_scheduler.StepLR(o, 3, 0.5), 'torch.optim.lr_scheduler.StepLR(opt, 3, 0.5)'],
    ['StepLR, keywords', SGD, (o) => new torch.optim.lr_scheduler.StepLR(o, { step_size: 4 }), 'torch.optim.lr_scheduler.StepLR(opt, step_size=4)'],
    ['MultiStepLR', SGD, (o) => new torch.optim.lr_scheduler.MultiStepLR(o, [2, 5, 7], 0.3), 'torch.optim.lr_scheduler.MultiStepLR(opt, [2, 5, 7], 0.3)'],
    ['ExponentialLR', SGD, (o) => new torch.optim.lr_scheduler.ExponentialLR(o, 0.9), 'torch.optim.lr_scheduler.ExponentialLR(opt, 0.9)'],
    [
      'CosineAnnealingLR',
      SGD,
      (o) => new torch.optim.lr_scheduler.CosineAnnealingLR(o, { T_max: 10, eta_min: 0.001 }),
      'torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)',
    ],
    [
      'OneCycleLR with SGD momentum, per-group max_lr',
      SGD,
      (o) => new torch.optim.lr_scheduler.OneCycleLR(o, [0.5, 0.2], { total_steps: STEPS + 1 }),
      `torch.optim.lr_scheduler.OneCycleLR(opt, [0.5, 0.2], total_steps=${STEPS + 1})`,
    ],
    [
      "OneCycleLR with Adam's betas, linear, three phases",
      ADAM,
      (o) =>
        new torch.optim.lr_scheduler.OneCycleLR(o, { max_lr: 0.3, epochs: 3, steps_per_epoch: 5, anneal_strategy: 'linear', three_phase: true }),
      "torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.3, epochs=3, steps_per_epoch=5, anneal_strategy='linear', three_phase=True)",
    ],
    [
      'LambdaLR, one TS function for every group',
      SGD,
      // JS's ** and Math.cos may differ from Python's by an ulp: factors both languages compute alike
      (o) => new torch.optim.lr_scheduler.LambdaLR(o, (epoch) => 1 / (1 + 0.1 * epoch)),
      'torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1 / (1 + 0.1 * epoch))',
    ],
    [
      'LambdaLR, a TS function per group (int factors too)',
      SGD,
      (o) => new torch.optim.lr_scheduler.LambdaLR(o, [(e) => 1 / (e + 1), (e) => Math.floor(e / 3) + (e % 2)]),
      'torch.optim.lr_scheduler.LambdaLR(opt, [lambda e: 1 / (e + 1), lambda e: e // 3 + e % 2])',
    ],
    [
      'LambdaLR, keywords',
      ADAM,
      (o) => new torch.optim.lr_scheduler.LambdaLR(o, { lr_lambda: (e) => (e % 3 === 0 ? 0.5 : 1 - e / 20) }),
      'torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda=lambda e: 0.5 if e % 3 == 0 else 1 - e / 20)',
    ],
  ];

  for (const [title, setup, make, py] of cases) {
    const key = tracePy(setup, py);
    it(title, async () => {
      const [W, b] = params();
      const opt = setup.opt(W, b);
      const sched = make(opt);
      expect(await traceTS(opt, sched, STEPS)).toEqual(pyTrace(key));
      sched.dispose();
      opt.dispose();
    });
  }

  // exp is made first, then multi (the walrus keeps Python's order), and both step each time
  const chainedKey = tracePy(
    SGD,
    'torch.optim.lr_scheduler.MultiStepLR((exp := torch.optim.lr_scheduler.ExponentialLR(opt, 0.9)).optimizer, [3, 6], 0.1)',
    { steps: 10, step: 'exp.step(); sched.step()' },
  );
  it('two schedulers chained on one optimizer, stepped in order', async () => {
    const [W, b] = params();
    const opt = SGD.opt(W, b);
    const exp = new torch.optim.lr_scheduler.ExponentialLR(opt, 0.9);
    const multi = new torch.optim.lr_scheduler.MultiStepLR(opt, [3, 6], 0.1);
    const ts = await traceTS(opt, multi, 10, () => {
      exp.step();
      multi.step();
    });
    expect(ts).toEqual(pyTrace(chainedKey));
  });
});

describe('ReduceLROnPlateau', () => {
  const metrics = [1.0, 0.9, 0.91, 0.92, 0.93, 0.8, 0.8, 0.81, 0.82, 0.83, 0.84, 0.7, 0.7, 0.7];

  for (const [title, make, py] of [
    [
      'min mode, patience, factor, min_lr',
      (o: Optimizer) => new torch.optim.lr_scheduler.ReduceLROnPlateau(o, { patience: 2, factor: 0.5, min_lr: [0.02, 0.01] }),
      'torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=2, factor=0.5, min_lr=[0.02, 0.01])',
    ],
    [
      'max mode, abs threshold, cooldown, positional',
      (o: Optimizer) => new torch.optim.lr_scheduler.ReduceLROnPlateau(o, 'max', 0.3, 1, 0.05, 'abs', 2),
      "torch.optim.lr_scheduler.ReduceLROnPlateau(opt, 'max', 0.3, 1, 0.05, 'abs', 2)",
    ],
  ] as const) {
    const key = tracePy(SGD, py, { steps: metrics.length, step: 'sched.step(metrics[k])', prelude: `metrics = ${JSON.stringify(metrics)}` });
    it(`${title}: numbers, and 0-dim tensors by handle`, async () => {
      const expected = pyTrace(key);
      for (const asTensor of [false, true]) {
        const [W, b] = params();
        const opt = SGD.opt(W, b);
        const sched = make(opt);
        const trace = await traceTS(opt, sched, metrics.length, (k) =>
          sched.step(asTensor ? torch.tensor(metrics[k]!, { dtype: torch.float64 }) : metrics[k]!),
        );
        expect(trace).toEqual(expected);
      }
    });
  }

  it('metrics must be a number or a one-element tensor', () => {
    const [W, b] = params();
    const sched = new torch.optim.lr_scheduler.ReduceLROnPlateau(SGD.opt(W, b));
    expect(() => sched.step('low' as never)).toThrow(ArgumentError);
    expect(() => sched.step(torch.zeros(3))).toThrow("'metrics' must have one element");
  });
});

describe('scheduler state_dict', () => {
  const cases: [string, (o: Optimizer) => LRScheduler, string, string?][] = [
    ['StepLR', (o) => new torch.optim.lr_scheduler.StepLR(o, 3, 0.5), 'torch.optim.lr_scheduler.StepLR(opt, 3, 0.5)'],
    ['MultiStepLR', (o) => new torch.optim.lr_scheduler.MultiStepLR(o, [2, 5, 7], 0.3), 'torch.optim.lr_scheduler.MultiStepLR(opt, [2, 5, 7], 0.3)'],
    [
      'OneCycleLR',
      (o) => new torch.optim.lr_scheduler.OneCycleLR(o, 0.5, { total_steps: STEPS + 1 }),
      `torch.optim.lr_scheduler.OneCycleLR(opt, 0.5, total_steps=${STEPS + 1})`,
    ],
    ['LambdaLR', (o) => new torch.optim.lr_scheduler.LambdaLR(o, (e) => 1 / (e + 2)), 'torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1 / (e + 2))'],
    [
      'ReduceLROnPlateau',
      (o) => new torch.optim.lr_scheduler.ReduceLROnPlateau(o, { patience: 1 }),
      'torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1)',
      'sched.step(1.0 if k < 2 else 2.0)',
    ],
  ];

  const half = 5;
  for (const [title, make, py, pyStep] of cases) {
    const key = tracePy(SGD, py, { step: pyStep ?? 'sched.step()', sd_at: half - 1 });
    it(`${title}: equals Python's, and resumes a schedule exactly`, async () => {
      const step = (s: LRScheduler, k: number): void => (pyStep ? s.step(k < 2 ? 1 : 2) : s.step());
      const [W, b] = params();
      const opt = SGD.opt(W, b);
      const first = make(opt);
      for (let k = 0; k < half; k++) {
        opt.step();
        step(first, k);
      }
      const sd = await first.state_dict();
      const optSd = await opt.state_dict();
      const pySd = traces[key]!.sd;
      // JSON has no infinity (ReduceLROnPlateau's mode_worse): both sides spell it "inf"
      expect(JSON.parse(JSON.stringify(sd, (_, v: unknown) => (v === Infinity ? 'inf' : v)))).toEqual(pySd);

      // a new optimizer and scheduler, loaded, go on as the uninterrupted ones would
      first.dispose();
      opt.dispose();
      const opt2 = SGD.opt(W, b);
      const second = make(opt2);
      opt2.load_state_dict(optSd);
      second.load_state_dict(sd);
      const rest = await traceTS(opt2, second, STEPS - half, (k) => step(second, k + half));
      const whole = pyTrace(key);
      expect(rest.lrs).toEqual(whole.lrs.slice(half));
      expect(rest.groups).toEqual(whole.groups.slice(half));
    });
  }
});

describe('bad arguments', () => {
  it('are thrown at the call site', () => {
    const [W, b] = params();
    const opt = SGD.opt(W, b);
    const { StepLR, LambdaLR, OneCycleLR } = torch.optim.lr_scheduler;
    expect(() => new StepLR({} as never, 3)).toThrow('is not an Optimizer');
    expect(() => new (StepLR as unknown as new (...a: unknown[]) => unknown)(opt)).toThrow("missing required argument 'step_size'");
    expect(() => new StepLR(opt, 3, { gama: 0.5 } as never)).toThrow("got an unexpected keyword argument 'gama'");
    expect(() => new LambdaLR(opt, [(e) => e])).toThrow('Expected 2 lr_lambdas, but got 1');
    expect(() => new LambdaLR(opt, 0.5 as never)).toThrow(ArgumentError);
    expect(() => new OneCycleLR(opt, { max_lr: 'high' } as never)).toThrow(ArgumentError);
    const bad = new LambdaLR(opt, (e) => (e < 2 ? 1 : ('x' as never)));
    bad.step();
    expect(() => bad.step()).toThrow('lr_lambda(2) returned');
  });
});
