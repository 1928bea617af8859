/**
 * torch.utils.data datasets: map-style (`__getitem__` + `__len__`) and iterable-style
 * (`__iter__`), with Python's dunder names so dataset code ports line by line.
 *
 * A dataset that DataLoader workers must rebuild in their own threads carries a recipe
 * (module URL, export name, constructor arguments): the honest TS equivalent of pickling a
 * dataset's class path and state. Make one with `Dataset.fromModule(...)`.
 */
import { ArgumentError, torchError } from '../../errors.js';
import { Tensor } from '../../tensor/tensor.js';
import { tensor as tensorFrom } from '../../ops/from_data.js';

/** How a worker thread rebuilds a dataset: `new (await import(module))[exportName](...args)`. */
export interface DatasetRecipe {
  /** An absolute module URL (file://...), e.g. `new URL('./my_dataset.ts', import.meta.url).href`. */
  module: string;
  /** The exported class (constructed with `new`) or factory function. */
  exportName: string;
  /** Structured-cloneable constructor arguments; a nested recipe is rebuilt first. */
  args: unknown[];
}

const RECIPE = '__torchbridge_dataset_recipe__';

/** A recipe as a constructor argument of another recipe (Subset of a module dataset, ...). */
function recipeArg(d: { recipe?: DatasetRecipe | undefined }): unknown {
  return d.recipe ? { [RECIPE]: d.recipe } : undefined;
}

function reviveArg(a: unknown): unknown {
  if (Array.isArray(a)) return Promise.all(a.map(reviveArg));
  if (a !== null && typeof a === 'object' && RECIPE in a) return buildFromRecipe((a as Record<string, DatasetRecipe>)[RECIPE]!);
  return a;
}

/** Build the dataset a recipe describes (in a worker, or anywhere). */
export async function buildFromRecipe(recipe: DatasetRecipe): Promise<unknown> {
  const mod = (await import(recipe.module)) as Record<string, unknown>;
  const made = mod[recipe.exportName];
  if (typeof made !== 'function') {
    throw new ArgumentError(`dataset recipe: ${recipe.module} has no exported class or function named '${recipe.exportName}'`);
  }
  const args = (await Promise.all(recipe.args.map(reviveArg))) as unknown[];
  // A class (or function with a prototype) is constructed; an arrow/async factory is called.
  const fn = made as { prototype?: unknown } & ((...a: unknown[]) => unknown);
  const ds = fn.prototype !== undefined ? new (fn as unknown as new (...a: unknown[]) => unknown)(...args) : await fn(...args);
  if (ds !== null && typeof ds === 'object') (ds as { recipe?: DatasetRecipe }).recipe = recipe;
  return ds;
}

/** Map-style dataset: `__getitem__(index)` and `__len__()`, as in Python. */
export abstract class Dataset<T = unknown> {
  /** Set by `Dataset.fromModule`: lets DataLoader workers rebuild this dataset. */
  recipe?: DatasetRecipe;

  abstract __getitem__(index: number): T | Promise<T>;

  /** Python's len(dataset); subclasses that have a length override it. */
  __len__(): number {
    throw torchError('TypeError', `object of type '${this.constructor.name}' has no len()`, 'len');
  }

  /** Optional batched fetch (Python's `__getitems__`); DataLoader uses it when present. */
  __getitems__?(indices: number[]): T[] | Promise<T[]>;

  /** len(dataset). */
  get length(): number {
    return this.__len__();
  }

  /** dataset + other: a ConcatDataset, as Python's `__add__`. */
  __add__(other: Dataset<T>): ConcatDataset<T> {
    return new ConcatDataset([this, other]);
  }

  /**
   * Import `exportName` from the module at `url`, build it with `args`, and remember how, so
   * DataLoader worker threads can build their own copy (the module must not rely on state
   * of the main thread; args must be structured-cloneable).
   */
  static async fromModule<D = Dataset>(url: string | URL, exportName: string, args: unknown[] = []): Promise<D> {
    const module = typeof url === 'string' && !/^[a-z]+:/.test(url) ? new URL(url, 'file://').href : String(url);
    return (await buildFromRecipe({ module, exportName, args })) as D;
  }
}

/** Iterable-style dataset: `__iter__()` yields samples (a generator method is the natural form). */
export abstract class IterableDataset<T = unknown> {
  recipe?: DatasetRecipe;

  abstract __iter__(): Iterator<T> | AsyncIterator<T>;

  /** Python's len(); only for datasets that know it. */
  __len__?(): number;

  [Symbol.asyncIterator](): AsyncIterator<T> {
    const it = this.__iter__();
    return { next: async () => it.next() };
  }

  static fromModule = Dataset.fromModule;
}

/** A dataset of tensors' rows: item i is `[t[i] for t in tensors]`. */
export class TensorDataset<T extends Tensor[] = Tensor[]> extends Dataset<T> {
  readonly tensors: T;

  /** `new TensorDataset(x, y)`: items are `[x[i], y[i]]`, typed as a pair. */
  constructor(...tensors: T) {
    super();
    if (tensors.length === 0) throw new ArgumentError('TensorDataset(): give at least one tensor');
    for (const t of tensors) {
      if (!(t instanceof Tensor)) throw new ArgumentError(`TensorDataset(): every argument must be a Tensor, got ${typeof t}`);
    }
    const n = tensors[0]!.size(0);
    tensors.forEach((t, i) => {
      if (t.size(0) !== n) throw new ArgumentError(`TensorDataset(): Size mismatch between tensors: tensor 0 has ${n} rows, tensor ${i} has ${t.size(0)} (shape [${t.shape.join(', ')}])`);
    });
    this.tensors = tensors;
  }

  __getitem__(index: number): T {
    return this.tensors.map((t) => t.select(0, index)) as T;
  }

  override __len__(): number {
    return this.tensors[0]!.size(0);
  }

  /**
   * @internal The default-collated batch of `indices`: one index_select per tensor, equal to
   * stacking the items and much cheaper than one op per item.
   */
  _collated(indices: number[]): T {
    const idx = tensorFrom(indices);
    try {
      return this.tensors.map((t) => t.index_select(0, idx)) as T;
    } finally {
      idx.dispose();
    }
  }
}

/** The items of `dataset` at `indices`, in that order. */
export class Subset<T = unknown> extends Dataset<T> {
  constructor(
    readonly dataset: Dataset<T>,
    readonly indices: number[],
  ) {
    super();
    const inner = recipeArg(dataset);
    if (inner !== undefined) this.recipe = { module: import.meta.url, exportName: 'Subset', args: [inner, [...indices]] };
  }

  __getitem__(idx: number): T | Promise<T> {
    return this.dataset.__getitem__(this.indices[pyIndex(idx, this.indices.length, 'Subset')]!);
  }

  override __getitems__(indices: number[]): T[] | Promise<T[]> {
    const mapped = indices.map((i) => this.indices[pyIndex(i, this.indices.length, 'Subset')]!);
    if (this.dataset.__getitems__) return this.dataset.__getitems__(mapped);
    return gather(mapped.map((i) => this.dataset.__getitem__(i)));
  }

  override __len__(): number {
    return this.indices.length;
  }

  /** @internal TensorDataset's fast batch, through the index mapping. */
  _collated(indices: number[]): unknown {
    const inner = this.dataset as unknown as { _collated?: (i: number[]) => unknown };
    return inner._collated?.(indices.map((i) => this.indices[pyIndex(i, this.indices.length, 'Subset')]!));
  }
}

/** Several map-style datasets one after another. */
export class ConcatDataset<T = unknown> extends Dataset<T> {
  readonly datasets: Dataset<T>[];
  readonly cumulative_sizes: number[];

  constructor(datasets: Dataset<T>[]) {
    super();
    if (datasets.length === 0) throw new ArgumentError('ConcatDataset(): datasets should not be an empty iterable');
    for (const d of datasets) {
      if (d instanceof IterableDataset) throw new ArgumentError('ConcatDataset(): does not support IterableDataset');
    }
    this.datasets = [...datasets];
    let total = 0;
    this.cumulative_sizes = datasets.map((d) => (total += d.__len__()));
    const inner = datasets.map(recipeArg);
    if (inner.every((r) => r !== undefined)) this.recipe = { module: import.meta.url, exportName: 'ConcatDataset', args: [inner] };
  }

  __getitem__(idx: number): T | Promise<T> {
    const n = this.__len__();
    if (idx < 0) {
      if (-idx > n) throw torchError('ValueError', 'absolute value of index should not exceed dataset length', 'ConcatDataset');
      idx += n;
    }
    const which = this.cumulative_sizes.findIndex((c) => idx < c);
    if (which < 0) throw torchError('IndexError', `index ${idx} is out of range for a ConcatDataset of length ${n}`, 'ConcatDataset');
    const start = which === 0 ? 0 : this.cumulative_sizes[which - 1]!;
    return this.datasets[which]!.__getitem__(idx - start);
  }

  override __len__(): number {
    return this.cumulative_sizes[this.cumulative_sizes.length - 1]!;
  }
}

/** Python's list indexing: negative counts from the end; out of range is an IndexError. */
function pyIndex(i: number, n: number, op: string): number {
  const j = i < 0 ? i + n : i;
  if (!Number.isInteger(j) || j < 0 || j >= n) throw torchError('IndexError', `list index out of range (index ${i}, length ${n})`, op);
  return j;
}

/** A list of items, awaited only if some item is a promise. */
export function gather<T>(items: Array<T | Promise<T>>): T[] | Promise<T[]> {
  return items.some((x) => x instanceof Promise) ? Promise.all(items) : (items as T[]);
}
