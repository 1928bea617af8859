/**
 * DataLoader: batches of a dataset, in the order its sampler gives, collated. Same arguments
 * and the same draws from torch's RNG as Python's (a base seed per iterator, then the
 * sampler's own), so a TS loop and its Python twin see the same batches under one seed.
 *
 *   for await (const [x, y] of new DataLoader(ds, { batch_size: 64, shuffle: true })) { ... }
 *   for (const [x, y] of new DataLoader(ds, 64)) { ... }   // sync too, when nothing must be awaited
 *
 * num_workers > 0 fetches in worker threads (see worker_pool.ts); batches equal those of
 * num_workers = 0.
 */
import { ArgumentError, torchError } from '../../errors.js';
import { int64 } from '../../tensor/dtype.js';
import { generatedTorch } from '../../ops/index.js';
import { Generator } from '../../random/generator.js';
import { Dataset, IterableDataset, gather } from './dataset.js';
import { BatchSampler, RandomSampler, Sampler, SequentialSampler, isAsyncIterator } from './sampler.js';
import { default_collate, default_convert, type Collated } from './collate.js';
import { WorkerPoolIterator } from './worker_pool.js';

type Maybe<T> = T | Promise<T>;
type AnyDataset<T> = Dataset<T> | IterableDataset<T>;
type IndexSampler<I> = Sampler<I> | Iterable<I>;

export interface DataLoaderOptions<T = unknown> {
  batch_size?: number | null;
  shuffle?: boolean | null;
  sampler?: IndexSampler<number> | null;
  batch_sampler?: IndexSampler<number[]> | null;
  /** Worker threads that run dataset code (the dataset needs a recipe: Dataset.fromModule). */
  num_workers?: number;
  /** With workers, runs on the main thread over the samples the workers post. */
  collate_fn?: ((batch: T[]) => unknown) | null;
  pin_memory?: boolean;
  drop_last?: boolean;
  timeout?: number;
  generator?: Generator | null;
  prefetch_factor?: number | null;
  persistent_workers?: boolean;
}

const POSITIONAL = ['batch_size', 'shuffle', 'sampler', 'batch_sampler', 'num_workers', 'collate_fn', 'pin_memory', 'drop_last', 'timeout', 'worker_init_fn', 'multiprocessing_context', 'generator'] as const;
const KNOWN = new Set<string>([...POSITIONAL, 'prefetch_factor', 'persistent_workers', 'pin_memory_device', 'in_order']);

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype;
}

/** Python's positional arguments, then an optional trailing object of keywords. */
function bindArgs(args: unknown[]): Record<string, unknown> {
  const kw = args.length > 0 && isPlainObject(args[args.length - 1]) ? (args.pop() as Record<string, unknown>) : {};
  if (args.length > POSITIONAL.length) throw new ArgumentError(`DataLoader() takes at most ${POSITIONAL.length + 1} positional arguments (${args.length + 1} given)`);
  const out: Record<string, unknown> = {};
  args.forEach((v, i) => (out[POSITIONAL[i]!] = v));
  for (const [k, v] of Object.entries(kw)) {
    if (!KNOWN.has(k)) throw new ArgumentError(`DataLoader() got an unexpected keyword argument '${k}'`);
    if (k in out) throw new ArgumentError(`DataLoader() got multiple values for argument '${k}'`);
    out[k] = v;
  }
  return out;
}

const valueError = (msg: string) => torchError('ValueError', msg, 'DataLoader');

/** T: a sample; B: a batch (default_collate's, unless a collate_fn or batch_size null says otherwise). */
export class DataLoader<T = unknown, B = Collated<T>> {
  readonly dataset: AnyDataset<T>;
  readonly batch_size: number | null;
  readonly drop_last: boolean;
  readonly sampler: IndexSampler<number> | null;
  readonly batch_sampler: IndexSampler<number[]> | null;
  readonly num_workers: number;
  readonly collate_fn: (batch: never) => unknown;
  readonly generator: Generator | null;
  readonly prefetch_factor: number | null;
  readonly timeout: number;
  private readonly iterable: boolean;

  constructor(dataset: AnyDataset<T>, ...args: [...unknown[]] | [...unknown[], DataLoaderOptions<T>]) {
    const a = bindArgs([...args]);
    const num_workers = (a.num_workers as number | undefined) ?? 0;
    const timeout = (a.timeout as number | undefined) ?? 0;
    let batch_size = a.batch_size === undefined ? 1 : (a.batch_size as number | null);
    let drop_last = (a.drop_last as boolean | undefined) ?? false;
    let shuffle = a.shuffle as boolean | null | undefined;
    let sampler = (a.sampler as IndexSampler<number> | null | undefined) ?? null;
    const batch_sampler = (a.batch_sampler as IndexSampler<number[]> | null | undefined) ?? null;
    let prefetch_factor = (a.prefetch_factor as number | null | undefined) ?? null;
    if (!Number.isInteger(num_workers) || num_workers < 0) throw valueError('num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.');
    if (timeout < 0) throw valueError('timeout option should be non-negative');
    if (num_workers === 0 && prefetch_factor !== null) {
      throw valueError('prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.');
    }
    if (num_workers > 0 && prefetch_factor === null) prefetch_factor = 2;
    if (prefetch_factor !== null && prefetch_factor < 0) throw valueError('prefetch_factor option should be non-negative');
    if (a.persistent_workers === true) {
      if (num_workers === 0) throw valueError('persistent_workers option needs num_workers > 0');
      throw new ArgumentError('DataLoader(): persistent_workers=true is not supported yet; workers start with each iterator');
    }
    if (a.worker_init_fn != null) throw new ArgumentError('DataLoader(): worker_init_fn cannot cross into worker threads; read get_worker_info() in the dataset instead');

    this.iterable = dataset instanceof IterableDataset;
    if (this.iterable) {
      if (shuffle !== undefined && shuffle !== null && shuffle !== false) throw valueError(`DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle=${String(shuffle)}`);
      if (sampler !== null) throw valueError('DataLoader with IterableDataset: expected unspecified sampler option, but got sampler=' + String(sampler));
      if (batch_sampler !== null) throw valueError('DataLoader with IterableDataset: expected unspecified batch_sampler option, but got batch_sampler=' + String(batch_sampler));
    } else {
      if (!(dataset instanceof Dataset) && typeof (dataset as { __getitem__?: unknown }).__getitem__ !== 'function') {
        throw new ArgumentError('DataLoader(): dataset must be a Dataset (with __getitem__ and __len__) or an IterableDataset (with __iter__)');
      }
      shuffle = Boolean(shuffle);
    }
    if (sampler !== null && shuffle) throw valueError('sampler option is mutually exclusive with shuffle');
    if (batch_sampler !== null) {
      if (batch_size !== 1 || shuffle || sampler !== null || drop_last) throw valueError('batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and drop_last');
      batch_size = null;
      drop_last = false;
    } else if (batch_size === null && drop_last) {
      throw valueError('batch_size=None option disables auto-batching and is mutually exclusive with drop_last');
    }
    const generator = (a.generator as Generator | null | undefined) ?? null;
    if (generator !== null && !(generator instanceof Generator)) throw new ArgumentError('DataLoader(): generator must be a torch.Generator');
    if (!this.iterable && sampler === null) {
      sampler = shuffle ? new RandomSampler(dataset as Dataset<T>, { generator }) : new SequentialSampler(dataset as Dataset<T>);
    }
    this.dataset = dataset;
    this.num_workers = num_workers;
    this.timeout = timeout;
    this.prefetch_factor = prefetch_factor;
    this.generator = generator;
    this.batch_size = batch_size;
    this.drop_last = drop_last;
    this.sampler = sampler;
    this.batch_sampler = batch_size !== null && batch_sampler === null && sampler !== null ? new BatchSampler(sampler, batch_size, drop_last) : batch_sampler;
    this.collate_fn = ((a.collate_fn as DataLoader['collate_fn'] | null | undefined) ?? (this.autoCollation ? default_collate : default_convert)) as DataLoader['collate_fn'];
  }

  private get autoCollation(): boolean {
    return this.iterable ? this.batch_size !== null : this.batch_sampler !== null;
  }

  /** The sampler DataLoader pulls from: batches of indices, or single indices without auto-collation. */
  private get indexSampler(): IndexSampler<number[]> | IndexSampler<number> {
    return (this.batch_sampler ?? this.sampler)!;
  }

  /** len(loader): batches per epoch. */
  __len__(): number {
    if (this.iterable) {
      const ds = this.dataset as IterableDataset<T>;
      if (typeof ds.__len__ !== 'function') throw torchError('TypeError', `object of type '${ds.constructor.name}' has no len()`, 'len');
      const n = ds.__len__();
      if (this.batch_size === null) return n;
      return this.drop_last ? Math.floor(n / this.batch_size) : Math.ceil(n / this.batch_size);
    }
    const s = this.indexSampler as { __len__?: () => number; length?: number };
    if (typeof s.__len__ === 'function') return s.__len__();
    if (typeof s.length === 'number') return s.length;
    throw torchError('TypeError', 'the sampler has no len()', 'len');
  }

  get length(): number {
    return this.__len__();
  }

  /** A fresh iterator over one epoch (Python's iter(loader)). */
  __iter__(): AsyncIterableIterator<B> {
    if (this.num_workers > 0) return this.workerIterator() as AsyncIterableIterator<B>;
    return new SingleProcessIterator<B>(this as DataLoader<unknown, B>);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<B> {
    return this.__iter__();
  }

  /** Sync iteration: only without workers, with a sync sampler (no shuffle) and a sync dataset. */
  [Symbol.iterator](): IterableIterator<B> {
    if (this.num_workers > 0) throw new ArgumentError('DataLoader with num_workers > 0 is async: iterate it with `for await`');
    return syncView(new SingleProcessIterator<B>(this as DataLoader<unknown, B>, true));
  }

  /**
   * Python's `_BaseDataLoaderIter.__init__`: one int64 drawn from the loader's generator (or the
   * global one) per iterator, even without workers; workers get base_seed + id.
   */
  /** @internal */
  _drawBaseSeed(read: boolean): Promise<number | bigint> | undefined {
    const draw = generatedTorch.empty([], { dtype: int64 }).random_(this.generator ? { generator: this.generator } : {});
    if (!read) {
      draw.dispose();
      return undefined;
    }
    return draw.item().finally(() => draw.dispose()) as Promise<number | bigint>;
  }

  private workerIterator(): WorkerPoolIterator {
    const recipe = this.dataset.recipe;
    if (!recipe) {
      throw new ArgumentError(
        'DataLoader(num_workers > 0): worker threads must build their own copy of the dataset; create it with ' +
          "Dataset.fromModule(new URL('./my_dataset.ts', import.meta.url), 'MyDataset', [args]) (the TS counterpart of pickling it)",
      );
    }
    const baseSeed = this._drawBaseSeed(true)!;
    const custom = this.collate_fn === default_collate || this.collate_fn === default_convert ? null : this.collate_fn;
    let nextIndex: () => Promise<IteratorResult<unknown>>;
    if (this.iterable) nextIndex = async () => ({ done: false, value: null });
    else {
      const s = this.indexSampler;
      const it = (s instanceof Sampler ? s.__iter__() : (s as Iterable<unknown>)[Symbol.iterator]()) as Iterator<unknown> | AsyncIterator<unknown>;
      nextIndex = async () => it.next();
    }
    return new WorkerPoolIterator({
      recipe,
      kind: this.iterable ? 'iterable' : 'map',
      num_workers: this.num_workers,
      prefetch_factor: this.prefetch_factor!,
      batch_size: this.autoCollation ? this.batch_size : null,
      drop_last: this.drop_last,
      collate_fn: custom,
      nextIndex,
      baseSeed,
    });
  }

  /** @internal what SingleProcessIterator needs. */
  _parts(): { iterable: boolean; autoCollation: boolean; indexSampler: IndexSampler<number[]> | IndexSampler<number> } {
    return { iterable: this.iterable, autoCollation: this.autoCollation, indexSampler: this.indexSampler };
  }
}

/** Python's _SingleProcessDataLoaderIter: fetch and collate on the main thread, batch by batch. */
class SingleProcessIterator<B> implements AsyncIterableIterator<B> {
  private readonly indexIter: Iterator<unknown> | AsyncIterator<unknown> | undefined;
  private readonly dataIter: Iterator<unknown> | AsyncIterator<unknown> | undefined;
  /** @internal */ finished = false;
  private readonly autoCollation: boolean;
  private readonly fast: ((indices: number[]) => unknown) | undefined;

  constructor(
    private readonly loader: DataLoader<unknown, B>,
    sync = false,
  ) {
    const { iterable, autoCollation, indexSampler } = loader._parts();
    this.autoCollation = autoCollation;
    const ds = loader.dataset as unknown as Record<string, unknown>;
    if (iterable) {
      this.dataIter = (ds.__iter__ as () => Iterator<unknown>).call(ds);
      if (sync && isAsyncIterator(this.dataIter)) throw new ArgumentError('DataLoader: this IterableDataset is async; iterate the loader with `for await`');
    } else {
      this.indexIter = (indexSampler instanceof Sampler ? indexSampler.__iter__() : (indexSampler as Iterable<unknown>)[Symbol.iterator]()) as Iterator<unknown>;
      if (sync && isAsyncIterator(this.indexIter)) {
        throw new ArgumentError('DataLoader: shuffling reads torch\'s random permutation from the runtime; iterate the loader with `for await`');
      }
    }
    // TensorDataset (or a Subset of one) under default_collate: one index_select per tensor.
    const collated = ds._collated as ((i: number[]) => unknown) | undefined;
    if (autoCollation && loader.collate_fn === default_collate && typeof collated === 'function') this.fast = (i) => collated.call(ds, i);
    loader._drawBaseSeed(false); // Python draws it even without workers
  }

  /** @internal One batch; sync whenever nothing along the way is a promise. */
  step(): Maybe<IteratorResult<B>> {
    if (this.finished) return { done: true, value: undefined };
    if (this.indexIter) return then(this.indexIter.next(), (r) => (r.done ? this.end() : this.fetch(r.value)));
    return this.pullIterable();
  }

  private end(): IteratorResult<B> {
    this.finished = true;
    return { done: true, value: undefined };
  }

  private fetch(index: unknown): Maybe<IteratorResult<B>> {
    const ds = this.loader.dataset as Dataset<unknown>;
    const collate = this.loader.collate_fn as (b: unknown) => unknown;
    if (!this.autoCollation) return then(ds.__getitem__(index as number), (item) => ({ done: false, value: collate(item) as B }));
    const indices = index as number[];
    const fastBatch = this.fast?.(indices);
    if (fastBatch !== undefined) return { done: false, value: fastBatch as B };
    const items = ds.__getitems__ ? ds.__getitems__(indices) : gather(indices.map((i) => ds.__getitem__(i)));
    return then(items, (list) => ({ done: false, value: collate(list) as B }));
  }

  /** Python's _IterableDatasetFetcher: up to batch_size samples, none left (or a short one with drop_last) ends it. */
  private pullIterable(): Maybe<IteratorResult<B>> {
    const it = this.dataIter!;
    const collate = this.loader.collate_fn as (b: unknown) => unknown;
    if (!this.autoCollation) return then(it.next(), (r) => (r.done ? this.end() : { done: false, value: collate(r.value) as B }));
    const want = this.loader.batch_size!;
    const items: unknown[] = [];
    const more = (): Maybe<IteratorResult<B>> => {
      while (items.length < want) {
        const r = it.next();
        if (r instanceof Promise) return r.then((x) => (x.done ? finish() : (items.push(x.value), more())));
        if (r.done) return finish();
        items.push(r.value);
      }
      return { done: false, value: collate(items) as B };
    };
    const finish = (): IteratorResult<B> => {
      if (items.length === 0 || (this.loader.drop_last && items.length < want)) return this.end();
      return { done: false, value: collate(items) as B };
    };
    return more();
  }

  async next(): Promise<IteratorResult<B>> {
    return this.step();
  }

  async return(): Promise<IteratorResult<B>> {
    this.finished = true;
    await this.indexIter?.return?.();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** Apply f now if v is a value, later if it is a promise. */
function then<A, R>(v: Maybe<A>, f: (a: A) => Maybe<R>): Maybe<R> {
  return v instanceof Promise ? v.then(f) : f(v);
}

/** The same iterator for a sync loop: each step must complete without awaiting. */
function syncView<B>(it: SingleProcessIterator<B>): IterableIterator<B> {
  const view: IterableIterator<B> = {
    next: () => {
      const r = it.step();
      if (r instanceof Promise) {
        r.catch(() => {});
        throw new ArgumentError('DataLoader: a sample or sampler here is async (returned a promise); iterate the loader with `for await`');
      }
      return r;
    },
    return: () => {
      it.finished = true;
      return { done: true, value: undefined };
    },
    [Symbol.iterator]: () => view,
  };
  return view;
}
