/**
 * Training step (issue 4): one SGD step of the digits CNN (examples/digits_net.ts) and of an MLP
 * 784-128-10, batch 64, in TS and in native PyTorch, interleaved in one run.
 *
 * A step, on both sides: forward, nn.CrossEntropyLoss, zero_grad, backward, SGD(lr=0.01,
 * momentum=0.9).step(), on a batch that already lives in torch. A loop must not run ahead of
 * the runtime unboundedly, so the loss is read (`await loss.item()` / `loss.item()`) every
 * step, or every 10 steps as a loop with a progress bar does; each repetition ends with a read.
 * The TS step runs inside torch.tidy (intermediates freed at once, as Python's refcounting does).
 * Both processes use the same number of intra-op threads (BENCH_THREADS, default 1).
 */
import torch, { nn, type CallsiteMode, type Tensor } from '../../dist/index.js';
import { DigitsNet } from '../../examples/digits_net.js';
import type { CaseResult, Context } from '../context.js';
import { PythonLines } from '../baselines/python_lines.js';
import { gc, interleavedSamples, median, now, quantile, type Rep } from '../stats.js';
import { type Row, num, times, verdict } from '../table.js';

const BATCH = 64;
/** Steps per repetition: ~100-300 ms of work on the development machine. */
const STEPS = { cnn: 40, mlp: 100 } as const;
const EVERY = [1, 10] as const;
const THREADS = Math.max(1, Number(process.env.BENCH_THREADS ?? 1));
const LABEL = { cnn: 'digits CNN (1×8×8)', mlp: 'MLP 784-128-10' } as const;
type Kind = keyof typeof STEPS;

interface Setup {
  model: nn.Module;
  lossFn: nn.CrossEntropyLoss;
  opt: InstanceType<typeof torch.optim.SGD>;
  x: Tensor;
  y: Tensor;
}

/** Model, optimizer and one resident batch, as bench/python/training_step.py builds them. */
function setup(kind: Kind): Setup {
  const model = kind === 'cnn' ? new DigitsNet() : new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
  const x = torch.keep(kind === 'cnn' ? torch.randn(BATCH, 1, 8, 8) : torch.randn(BATCH, 784));
  const y = torch.keep(torch.randint(0, 10, [BATCH]));
  const opt = new torch.optim.SGD(model.parameters(), 0.01, 0.9);
  return { model, lossFn: new nn.CrossEntropyLoss(), opt, x, y };
}

function step(s: Setup): Tensor {
  const loss = s.lossFn.forward(s.model.forward(s.x) as Tensor, s.y);
  s.opt.zero_grad();
  loss.backward();
  s.opt.step();
  return loss;
}

/** The call-site mode the process started with (TORCHBRIDGE_CALLSITES), restored after a rep that turns it off. */
const CALLSITES: CallsiteMode = process.env.TORCHBRIDGE_CALLSITES === 'all' || process.env.TORCHBRIDGE_CALLSITES === 'off' ? process.env.TORCHBRIDGE_CALLSITES : 'auto';

function tsRep(s: Setup, steps: number, every: number, callsites = CALLSITES): Rep {
  return async () => {
    torch.set_callsites(callsites);
    const t0 = now();
    let value = 0;
    for (let i = 0; i < steps; i++) {
      const loss = torch.tidy(() => step(s));
      if ((i + 1) % every === 0 || i === steps - 1) value = (await loss.item()) as number;
      loss.dispose();
    }
    const ms = now() - t0;
    torch.set_callsites(CALLSITES);
    if (!Number.isFinite(value)) throw new Error(`training step: the loss is ${value}`);
    return ms;
  };
}

function hasMeta(t: Tensor): boolean {
  try {
    return t.shape.length >= 0;
  } catch {
    return false;
  }
}

/** "1.23 ms (1.20–1.31)": the median and the interquartile range. */
function withSpread(xs: number[]): string {
  return `${num(median(xs))} ms (${num(quantile(xs, 0.25))}–${num(quantile(xs, 0.75))})`;
}

export async function trainingStep(ctx: Context): Promise<CaseResult> {
  const before = (await torch.callValue('get_num_threads')) as number;
  await torch.callValue('set_num_threads', [THREADS]);
  const runtimeThreads = (await torch.callValue('get_num_threads')) as number;
  const { proc: py, hello } = await PythonLines.start<{ threads: number; torch: string }>(ctx.python, 'training_step.py', [THREADS]);
  try {
    if (hello.threads !== runtimeThreads) throw new Error(`thread counts differ: runtime ${runtimeThreads}, Python ${hello.threads}`);
    torch.manual_seed(0);
    const setups = { cnn: setup('cnn'), mlp: setup('mlp') };
    const remarks: string[] = [];
    for (const kind of ['cnn', 'mlp'] as const) {
      // every op of a step is mirrored (no metadata round trip) unless this says otherwise
      const loss = torch.tidy(() => step(setups[kind]));
      if (!hasMeta(loss)) remarks.push(`Training step: the ${LABEL[kind]} step takes the pending path (the mirror cannot predict one of its ops), which costs a reply per op.`);
      await loss.item();
      loss.dispose();
    }
    const variants: Record<string, Rep> = {};
    for (const kind of ['cnn', 'mlp'] as const) {
      for (const every of EVERY) {
        variants[`ts ${kind} ${every}`] = tsRep(setups[kind], STEPS[kind], every);
        variants[`py ${kind} ${every}`] = async () => (await py.ask<{ ms: number }>(`${kind} ${STEPS[kind]} ${every}`)).ms;
      }
      // what recording call sites costs (a stack capture per op the mirror cannot fully validate)
      variants[`ts-nocallsites ${kind} 1`] = tsRep(setups[kind], STEPS[kind], 1, 'off');
    }
    const ms = await interleavedSamples(variants, {
      between: async () => {
        gc();
        await torch.sync();
      },
    });
    const rows: Row[] = [];
    for (const kind of ['cnn', 'mlp'] as const) {
      for (const every of EVERY) {
        const tbSamples = ms[`ts ${kind} ${every}`]!.map((x) => x / STEPS[kind]);
        const natSamples = ms[`py ${kind} ${every}`]!.map((x) => x / STEPS[kind]);
        const tb = median(tbSamples);
        const nat = median(natSamples);
        rows.push({
          case: `Training step, ${LABEL[kind]}, batch ${BATCH}, SGD momentum; loss read ${every === 1 ? 'every step' : `every ${every} steps`}; per step`,
          torchbridge: withSpread(tbSamples),
          baseline: 'native PyTorch, Python loop',
          baselineValue: withSpread(natSamples),
          ratio: times(tb / nat),
          target: '≤ 1.10×',
          result: verdict(tb <= 1.1 * nat),
        });
      }
      const off = ms[`ts-nocallsites ${kind} 1`]!.map((x) => x / STEPS[kind]);
      const nat = median(ms[`py ${kind} 1`]!) / STEPS[kind];
      rows.push({
        case: `Training step, ${LABEL[kind]}, as above, loss read every step, \`torch.set_callsites('off')\``,
        torchbridge: withSpread(off),
        baseline: 'native PyTorch, Python loop',
        baselineValue: `${num(nat)} ms`,
        ratio: times(median(off) / nat),
        target: 'info',
        result: 'info',
      });
    }
    return {
      rows,
      notes: [
        `Training step: forward, CrossEntropyLoss, zero_grad, backward, SGD(lr=0.01, momentum=0.9).step() on a batch already in torch, ` +
          `per step: the median of ${ms['ts cnn 1']!.length} repetitions of ${STEPS.cnn} (CNN) or ${STEPS.mlp} (MLP) steps, interquartile range in brackets. ` +
          `The TS step runs inside torch.tidy; the Python loop in a separate plain Python process. ` +
          `Both at ${runtimeThreads} intra-op thread(s) (BENCH_THREADS; the runtime's default was ${before}).`,
        ...remarks,
      ],
    };
  } finally {
    py.stop();
    await torch.callValue('set_num_threads', [before]);
  }
}
