/**
 * Samplers: which indices a DataLoader fetches, in which order. RandomSampler and
 * SubsetRandomSampler consume torch's RNG draw for draw like Python's (same ops, same
 * generators, drawn at the same points of the iteration), so a TS loop and its Python twin
 * see the same order under the same seed.
 *
 * `__iter__()` may return a sync or an async iterator: shuffling needs one read of the
 * runtime's randperm per epoch, so random samplers are async.
 */
import { ArgumentError, torchError } from '../../errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { int64 } from '../../tensor/dtype.js';
import { pyCall } from '../../py/object.js';
import { generatedTorch } from '../../ops/index.js';
import { Generator } from '../../random/generator.js';
import { HELPER } from '../../transport/protocol.js';

/** Anything with a length: a dataset, a list. */
export type Sized = { __len__(): number } | { readonly length: number };

export function len(x: Sized): number {
  return '__len__' in x && typeof x.__len__ === 'function' ? x.__len__() : (x as { length: number }).length;
}

/** Whether an iterator is async (its next() gives promises), judged without pulling from it. */
export function isAsyncIterator(it: object): boolean {
  return Symbol.asyncIterator in it && !(Symbol.iterator in it);
}

export abstract class Sampler<T = number> {
  abstract __iter__(): Iterator<T> | AsyncIterator<T>;
  __len__?(): number;

  [Symbol.asyncIterator](): AsyncIterator<T> {
    const it = this.__iter__();
    return { next: async () => it.next(), return: async () => (await it.return?.()) ?? { done: true, value: undefined } };
  }
}

/** 0, 1, ..., len(data_source) - 1. */
export class SequentialSampler extends Sampler<number> {
  constructor(readonly data_source: Sized) {
    super();
  }

  *__iter__(): Iterator<number> {
    const n = len(this.data_source);
    for (let i = 0; i < n; i++) yield i;
  }

  override __len__(): number {
    return len(this.data_source);
  }
}

const { randperm, randint, empty } = generatedTorch;

/** Read a 1-D int64 tensor as numbers, then free it. */
async function readIndices(t: Tensor): Promise<number[]> {
  try {
    return ((await t.tolist()) as Array<number | bigint>).map(Number);
  } finally {
    t.dispose();
  }
}

/**
 * Python's `torch.Generator().manual_seed(int(torch.empty((), dtype=torch.int64).random_().item()))`:
 * a fresh generator seeded by one int64 draw from the global one, all inside the runtime.
 */
function seededFromGlobal(): Generator {
  const draw = empty([], { dtype: int64 }).random_();
  const seed = pyCall(HELPER.method, [draw, 'item']);
  const g = new Generator();
  g.run('manual_seed', [seed]);
  seed.dispose();
  draw.dispose();
  return g;
}

export interface RandomSamplerOptions {
  replacement?: boolean;
  num_samples?: number | null;
  generator?: Generator | null;
}

/** A random permutation per pass (or draws with replacement), as torch's RandomSampler. */
export class RandomSampler extends Sampler<number> {
  readonly replacement: boolean;
  readonly generator: Generator | null;
  private readonly _num_samples: number | null;

  constructor(
    readonly data_source: Sized,
    kwargs: RandomSamplerOptions = {},
  ) {
    super();
    this.replacement = kwargs.replacement ?? false;
    this._num_samples = kwargs.num_samples ?? null;
    this.generator = kwargs.generator ?? null;
    if (typeof this.replacement !== 'boolean') {
      throw torchError('TypeError', `replacement should be a boolean value, but got replacement=${String(this.replacement)}`, 'RandomSampler');
    }
    const n = this.num_samples;
    if (!Number.isInteger(n) || n <= 0) throw torchError('ValueError', `num_samples should be a positive integer value, but got num_samples=${n}`, 'RandomSampler');
  }

  get num_samples(): number {
    return this._num_samples ?? len(this.data_source);
  }

  async *__iter__(): AsyncGenerator<number> {
    const n = len(this.data_source);
    const own = this.generator === null ? seededFromGlobal() : null;
    const generator = own ?? this.generator!;
    try {
      const num = this.num_samples;
      if (this.replacement) {
        for (let k = 0; k < Math.floor(num / 32); k++) yield* await readIndices(randint(n, [32], { dtype: int64, generator }));
        yield* await readIndices(randint(n, [num % 32], { dtype: int64, generator }));
      } else {
        for (let k = 0; k < Math.floor(num / n); k++) yield* await readIndices(randperm(n, { generator }));
        const rest = num % n;
        const last = randperm(n, { generator }); // drawn even when no item of it is used, as in Python
        if (rest === 0) last.dispose();
        else yield* (await readIndices(last)).slice(0, rest);
      }
    } finally {
      own?.dispose();
    }
  }

  override __len__(): number {
    return this.num_samples;
  }
}

/** The given indices in a random order (one randperm per pass). */
export class SubsetRandomSampler extends Sampler<number> {
  constructor(
    readonly indices: number[],
    readonly kwargs: { generator?: Generator | null } = {},
  ) {
    super();
  }

  async *__iter__(): AsyncGenerator<number> {
    const generator = this.kwargs.generator ?? undefined;
    const order = await readIndices(randperm(this.indices.length, generator ? { generator } : {}));
    for (const i of order) yield this.indices[i]!;
  }

  override __len__(): number {
    return this.indices.length;
  }
}

/** Lists of `batch_size` indices from `sampler`; the last short one dropped if `drop_last`. */
export class BatchSampler extends Sampler<number[]> {
  constructor(
    readonly sampler: Sampler<number> | Iterable<number>,
    readonly batch_size: number,
    readonly drop_last: boolean,
  ) {
    super();
    if (typeof batch_size !== 'number' || !Number.isInteger(batch_size) || batch_size <= 0) {
      throw torchError('ValueError', `batch_size should be a positive integer value, but got batch_size=${String(batch_size)}`, 'BatchSampler');
    }
    if (typeof drop_last !== 'boolean') throw torchError('ValueError', `drop_last should be a boolean value, but got drop_last=${String(drop_last)}`, 'BatchSampler');
  }

  /** Pulls indices one by one exactly as Python's BatchSampler does (so lazy draws happen at the same step). */
  __iter__(): Iterator<number[]> | AsyncIterator<number[]> {
    const inner = this.sampler instanceof Sampler ? this.sampler.__iter__() : this.sampler[Symbol.iterator]();
    const { batch_size, drop_last } = this;
    let done = false;
    let batch: number[] = [];
    // One step: pull until a batch is full or the sampler ends; sync while the sampler is.
    const step = (r: IteratorResult<number> | Promise<IteratorResult<number>>): IteratorResult<number[]> | Promise<IteratorResult<number[]>> => {
      while (true) {
        if (r instanceof Promise) return r.then(step);
        if (r.done) {
          done = true;
          const last = batch;
          batch = [];
          return last.length > 0 && !drop_last ? { done: false, value: last } : { done: true, value: undefined };
        }
        batch.push(r.value);
        if (batch.length === batch_size) {
          const full = batch;
          batch = [];
          return { done: false, value: full };
        }
        r = inner.next();
      }
    };
    const it = {
      next: () => (done ? { done: true, value: undefined } : step(inner.next())),
      return: (value?: unknown) => {
        done = true;
        const r = inner.return?.();
        return r instanceof Promise ? r.then(() => ({ done: true as const, value: value as undefined })) : { done: true, value: value as undefined };
      },
    };
    // Say which kind it is, as the inner iterator does (DataLoader's sync iteration checks this).
    const key = isAsyncIterator(inner) ? Symbol.asyncIterator : Symbol.iterator;
    return Object.assign(it, { [key]: () => it }) as unknown as Iterator<number[]>;
  }

  override __len__(): number {
    const n = this.sampler instanceof Sampler ? (this.sampler.__len__?.() ?? NaN) : len(this.sampler as unknown as Sized);
    if (Number.isNaN(n)) throw new ArgumentError('BatchSampler: its sampler has no __len__()');
    return this.drop_last ? Math.floor(n / this.batch_size) : Math.ceil(n / this.batch_size);
  }
}
