/**
 * torch.utils.data against Python's: shuffle orders, random_split and the RNG draws they
 * consume (checked by drawing afterwards), collation, and worker threads (same batches as
 * without workers, errors with the worker's stack, cleanup of threads and shared memory).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import torch, { Tensor } from '../src/index.js';
import { DataLoader, TensorDataset, Dataset, IterableDataset, random_split, default_collate, RandomSampler, BatchSampler, DataLoaderWorkerError } from '../src/utils/data/index.js';
import { python } from './fixtures/python_twin.js';
import type { SquaresDataset, RecordsDataset, RangeStream, WorkerInfoDataset } from './fixtures/squares_dataset.js';

const FIXTURE = new URL('./fixtures/squares_dataset.ts', import.meta.url);

afterAll(async () => {
  await torch.shutdown();
});

/** Every tensor in a (nested) batch as nested lists, everything else as is. */
async function plain(v: unknown): Promise<unknown> {
  if (v instanceof Tensor) return v.tolist();
  if (Array.isArray(v)) return Promise.all(v.map(plain));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = await plain(x);
    return out;
  }
  return typeof v === 'bigint' ? Number(v) : v;
}

async function epoch(loader: AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const b of loader) out.push(await plain(b));
  return out;
}

const ownSegments = () => readdirSync('/dev/shm').filter((n) => n.startsWith(`tb-${process.pid}-`));

/** 10 rows: x[i] = [2i, 2i+1] (float32), y[i] = i (int64). */
function rowsDataset(n = 10): TensorDataset {
  return new TensorDataset(torch.arange(2 * n, { dtype: torch.float32 }).reshape(n, 2), torch.arange(n));
}
const PY_ROWS = `ds = torch.utils.data.TensorDataset(torch.arange(20, dtype=torch.float32).reshape(10, 2), torch.arange(10))`;
const pyBatches = (loader: string) => `[[t.tolist() for t in b] for b in ${loader}]`;

describe('torch.Generator', () => {
  it('draws what the same Python Generator draws, and reports its seed', async () => {
    const g = new torch.Generator().manual_seed(42);
    const a = await torch.randperm(10, { generator: g }).tolist();
    const b = await torch.rand(3, { generator: g }).tolist();
    const py = python<{ a: number[]; b: number[] }>(`
      g = torch.Generator().manual_seed(42)
      a = torch.randperm(10, generator=g).tolist()
      b = torch.rand(3, generator=g).tolist()
      print(json.dumps({"a": a, "b": b}))`);
    expect(a).toEqual(py.a);
    expect(b).toEqual(py.b);
    expect(await g.initial_seed()).toBe(42);
    const state = await g.get_state();
    const next = await torch.rand(2, { generator: g }).tolist();
    g.set_state(state);
    expect(await torch.rand(2, { generator: g }).tolist()).toEqual(next);
  });
});

describe('DataLoader without workers', () => {
  it('shuffles like Python under torch.manual_seed, draw for draw (two epochs, then a global draw)', async () => {
    torch.manual_seed(0);
    const loader = new DataLoader(rowsDataset(), { batch_size: 4, shuffle: true });
    const e1 = await epoch(loader);
    const e2 = await epoch(loader);
    const after = await torch.rand(2).tolist();
    const py = python<{ e1: unknown; e2: unknown; after: number[] }>(`
      torch.manual_seed(0)
      ${PY_ROWS}
      loader = torch.utils.data.DataLoader(ds, batch_size=4, shuffle=True)
      e1 = ${pyBatches('loader')}
      e2 = ${pyBatches('loader')}
      print(json.dumps({"e1": e1, "e2": e2, "after": torch.rand(2).tolist()}))`);
    expect(e1).toEqual(py.e1);
    expect(e2).toEqual(py.e2);
    expect(after).toEqual(py.after);
    expect(loader.length).toBe(3);
  });

  it('uses a given generator the same way, including after a loop that breaks early', async () => {
    torch.manual_seed(5);
    const g = new torch.Generator().manual_seed(7);
    const loader = new DataLoader(rowsDataset(), 3, true, { generator: g, drop_last: true });
    const full = await epoch(loader);
    const first: unknown[] = [];
    for await (const b of loader) {
      first.push(await plain(b));
      break;
    }
    const fromG = await torch.randperm(5, { generator: g }).tolist();
    const fromGlobal = await torch.rand(1).tolist();
    const py = python<Record<string, unknown>>(`
      torch.manual_seed(5)
      g = torch.Generator().manual_seed(7)
      ${PY_ROWS}
      loader = torch.utils.data.DataLoader(ds, 3, True, generator=g, drop_last=True)
      full = ${pyBatches('loader')}
      first = []
      for b in loader:
          first.append([t.tolist() for t in b])
          break
      print(json.dumps({"full": full, "first": first, "fromG": torch.randperm(5, generator=g).tolist(), "fromGlobal": torch.rand(1).tolist()}))`);
    expect(full).toEqual(py.full);
    expect(full).toHaveLength(3); // drop_last: 10 rows in batches of 3
    expect(first).toEqual(py.first);
    expect(fromG).toEqual(py.fromG);
    expect(fromGlobal).toEqual(py.fromGlobal);
  });

  it('RandomSampler with replacement and num_samples draws like Python', async () => {
    torch.manual_seed(3);
    const sampler = new RandomSampler(rowsDataset(), { replacement: true, num_samples: 40 });
    const loader = new DataLoader(rowsDataset(), { batch_sampler: new BatchSampler(sampler, 16, false) });
    const got = (await epoch(loader)).map((b) => (b as unknown[])[1]);
    const py = python<unknown[]>(`
      torch.manual_seed(3)
      ${PY_ROWS}
      s = torch.utils.data.RandomSampler(ds, replacement=True, num_samples=40)
      loader = torch.utils.data.DataLoader(ds, batch_sampler=torch.utils.data.BatchSampler(s, 16, False))
      print(json.dumps([b[1].tolist() for b in loader]))`);
    expect(got).toEqual(py);
  });

  it('iterates synchronously when nothing must be awaited, with Python batches', async () => {
    const batches: Tensor[][] = [];
    for (const b of new DataLoader(rowsDataset(), 4) as Iterable<Tensor[]>) batches.push(b);
    const got = await Promise.all(batches.map((b) => plain(b)));
    const py = python(`
      ${PY_ROWS}
      print(json.dumps(${pyBatches('torch.utils.data.DataLoader(ds, 4)')}))`);
    expect(got).toEqual(py);
    expect(batches[0]![0]!.dtype).toBe(torch.float32);
    expect(batches[0]![1]!.dtype).toBe(torch.int64);
    expect(() => {
      for (const _ of new DataLoader(rowsDataset(), { shuffle: true }) as Iterable<unknown>) break;
    }).toThrow(/for await/);
  });

  it('random_split matches Python for fractions and lengths, global RNG and a generator', async () => {
    const ds = rowsDataset(30);
    torch.manual_seed(11);
    const a = await random_split(ds, [0.3, 0.3, 0.4]);
    const b = await random_split(ds, [7, 23], new torch.Generator().manual_seed(42));
    const c = await random_split(ds, [0.5, 0.25, 0.25]);
    const py = python<number[][][]>(`
      torch.manual_seed(11)
      ds = list(range(30))
      a = torch.utils.data.random_split(ds, [0.3, 0.3, 0.4])
      b = torch.utils.data.random_split(ds, [7, 23], generator=torch.Generator().manual_seed(42))
      c = torch.utils.data.random_split(ds, [0.5, 0.25, 0.25])
      print(json.dumps([[s.indices for s in x] for x in (a, b, c)]))`);
    expect([a, b, c].map((x) => x.map((s) => s.indices))).toEqual(py);
    expect(a.map((s) => s.length)).toEqual([9, 9, 12]);
    await expect(random_split(ds, [10, 10])).rejects.toThrow(/Sum of input lengths does not equal the length of the input dataset/);
  });

  it('drop_last, batch_size=None and len(loader) follow Python', async () => {
    const ds = rowsDataset(10);
    expect(new DataLoader(ds, { batch_size: 3, drop_last: true }).length).toBe(3);
    expect(new DataLoader(ds, { batch_size: 3 }).length).toBe(4);
    const last = (await epoch(new DataLoader(ds, { batch_size: 3 }))).at(-1);
    expect(last).toEqual([[[18, 19]], [9]]);
    const single = await epoch(new DataLoader(ds, { batch_size: null }));
    expect(single).toHaveLength(10);
    expect(single[2]).toEqual([[4, 5], 2]);
    expect(() => new DataLoader(ds, { batch_size: null, drop_last: true })).toThrow(/batch_size=None option disables auto-batching/);
    expect(() => new DataLoader(ds, { shuffle: true, sampler: [1, 2] })).toThrow(/mutually exclusive with shuffle/);
    expect(() => new DataLoader(ds, { bogus: 1 } as never)).toThrow(/unexpected keyword argument 'bogus'/);
  });

  it('collate_fn receives the list of samples', async () => {
    class Words extends Dataset<string> {
      override __len__() {
        return 5;
      }
      __getitem__(i: number) {
        return 'abcde'[i]!;
      }
    }
    const got = await epoch(new DataLoader(new Words(), { batch_size: 2, collate_fn: (b: string[]) => b.join('') }));
    expect(got).toEqual(['ab', 'cd', 'e']);
  });

  it('default_collate gives Python structure and dtypes for numbers, arrays, mappings, strings', async () => {
    const batch = default_collate([
      { a: 1, b: 0.5, c: [true, 2], s: 'x', v: new Float32Array([1, 2]) },
      { a: 2, b: 1, c: [false, 3], s: 'y', v: new Float32Array([3, 4]) },
    ]) as Record<string, unknown>;
    const py = python<Record<string, unknown>>(`
      import numpy as np
      from torch.utils.data import default_collate
      b = default_collate([{"a": 1, "b": 0.5, "c": [True, 2], "s": "x", "v": np.array([1, 2], dtype=np.float32)},
                           {"a": 2, "b": 1.0, "c": [False, 3], "s": "y", "v": np.array([3, 4], dtype=np.float32)}])
      out = {k: (v.tolist() if torch.is_tensor(v) else [x.tolist() if torch.is_tensor(x) else x for x in v]) for k, v in b.items()}
      out["dtypes"] = [str(b["a"].dtype), str(b["b"].dtype), str(b["c"][0].dtype), str(b["v"].dtype)]
      print(json.dumps(out))`);
    const { dtypes, ...values } = py;
    expect(await plain(batch)).toEqual(values);
    const c = batch.c as Tensor[];
    expect([batch.a, batch.b, c[0], batch.v].map((t) => String((t as Tensor).dtype))).toEqual(dtypes);
    expect(() => default_collate([[1, 2], [3]])).toThrow(/each element in list of batch should be of equal size/);
    expect(() => default_collate([null])).toThrow(/default_collate: batch must contain tensors/);
  });

  it('iterable datasets batch like Python', async () => {
    class Stream extends IterableDataset<number> {
      *__iter__() {
        for (let i = 0; i < 7; i++) yield i * 1.5;
      }
    }
    expect(await epoch(new DataLoader(new Stream(), { batch_size: 3 }))).toEqual([[0, 1.5, 3], [4.5, 6, 7.5], [9]]);
    expect(await epoch(new DataLoader(new Stream(), { batch_size: 3, drop_last: true }))).toHaveLength(2);
    expect(() => new DataLoader(new Stream(), { shuffle: true })).toThrow(/expected unspecified shuffle option/);
  });
});

describe('DataLoader with worker threads', () => {
  it('yields exactly the batches of num_workers=0 (shuffled, same seed), as tensors in shared memory', async () => {
    const ds = await Dataset.fromModule<SquaresDataset>(FIXTURE, 'SquaresDataset', [23, 3]);
    torch.manual_seed(1);
    const plainBatches = await epoch(new DataLoader(ds, { batch_size: 4, shuffle: true }));
    const afterPlain = await torch.rand(1).tolist();
    torch.manual_seed(1);
    const loader = new DataLoader(ds, { batch_size: 4, shuffle: true, num_workers: 2 });
    const first: Tensor[] = [];
    const workerBatches: unknown[] = [];
    for await (const b of loader as AsyncIterable<Tensor[]>) {
      if (first.length === 0) first.push(...b);
      workerBatches.push(await plain(b));
    }
    const afterWorkers = await torch.rand(1).tolist();
    expect(workerBatches).toEqual(plainBatches);
    expect(workerBatches).toHaveLength(6);
    expect(afterWorkers).toEqual(afterPlain);
    expect(first.map((t) => [String(t.dtype), t.shape])).toEqual([
      ['torch.float32', [4, 3]],
      ['torch.int64', [4]],
    ]);
    expect(await torch.runtime.meta(first[0]!)).toMatchObject({ shape: [4, 3], dtype: torch.float32 });
    expect(ownSegments()).toEqual([]);
  });

  it('collates mappings, strings and async items in workers like without them', async () => {
    const ds = await Dataset.fromModule<RecordsDataset>(FIXTURE, 'RecordsDataset', [9]);
    const zero = await epoch(new DataLoader(ds, { batch_size: 4 }));
    const two = await epoch(new DataLoader(ds, { batch_size: 4, num_workers: 2, prefetch_factor: 1 }));
    expect(two).toEqual(zero);
    expect(zero[0]).toEqual({ id: [0, 1, 2, 3], score: [0, 0.25, 0.5, 0.75], tag: ['r0', 'r1', 'r2', 'r3'], pair: [[0, 10, 20, 30], [true, false, true, false]] });
    const custom = await epoch(new DataLoader(ds, { batch_size: 5, num_workers: 2, collate_fn: (b: Array<{ id: number }>) => b.map((r) => r.id) }));
    expect(custom).toEqual([[0, 1, 2, 3, 4], [5, 6, 7, 8]]);
  });

  it('gives each worker its seed (base_seed + id, base_seed drawn like Python)', async () => {
    const ds = await Dataset.fromModule<WorkerInfoDataset>(FIXTURE, 'WorkerInfoDataset', [4]);
    torch.manual_seed(9);
    const got: Array<Array<number | bigint>> = [];
    for await (const r of new DataLoader(ds, { batch_size: null, num_workers: 2 })) got.push(r as Array<number | bigint>);
    const base = BigInt(
      python<string>(`
      torch.manual_seed(9)
      print(json.dumps(str(torch.empty((), dtype=torch.int64).random_().item())))`),
    );
    expect(got).toEqual([
      [0, 2, base],
      [1, 2, base + 1n],
      [0, 2, base],
      [1, 2, base + 1n],
    ]);
  });

  it('round-robins an iterable dataset over workers as Python does', async () => {
    const ds = await Dataset.fromModule<RangeStream>(FIXTURE, 'RangeStream', [11]);
    const got = await epoch(new DataLoader(ds, { batch_size: 2, num_workers: 2 }));
    const py = python(`
      class RangeStream(torch.utils.data.IterableDataset):
          def __iter__(self):
              info = torch.utils.data.get_worker_info()
              return iter(range(info.id if info else 0, 11, info.num_workers if info else 1))
      print(json.dumps([b.tolist() for b in torch.utils.data.DataLoader(RangeStream(), batch_size=2, num_workers=2)]))`);
    expect(got).toEqual(py);
  });

  it('surfaces an error in dataset code with the worker stack, and cleans up', async () => {
    const ds = await Dataset.fromModule<SquaresDataset>(FIXTURE, 'SquaresDataset', [20, 3, 9]);
    const seen: unknown[] = [];
    let error: unknown;
    try {
      for await (const b of new DataLoader(ds, { batch_size: 4, num_workers: 2 })) seen.push(await plain(b));
    } catch (e) {
      error = e;
    }
    expect(seen).toHaveLength(2); // batches 0 and 1; batch 2 holds item 9
    expect(error).toBeInstanceOf(DataLoaderWorkerError);
    const err = error as DataLoaderWorkerError;
    expect(err.message).toMatch(/Caught RangeError in DataLoader worker 0: item 9 is broken on purpose/);
    expect(err.workerStack).toMatch(/squares_dataset\.ts/);
    expect(ownSegments()).toEqual([]);
  });

  it('stops its workers and frees their prefetched segments when the loop breaks early', async () => {
    const ds = await Dataset.fromModule<SquaresDataset>(FIXTURE, 'SquaresDataset', [400, 2048]);
    const loader = new DataLoader(ds, { batch_size: 8, num_workers: 2, prefetch_factor: 4 });
    let n = 0;
    for await (const b of loader as AsyncIterable<Tensor[]>) {
      expect(b[0]!.shape).toEqual([8, 2048]);
      if (++n === 2) break;
    }
    await torch.sync();
    expect(ownSegments()).toEqual([]);
    // the next epoch starts fresh workers
    const again = (await epoch(new DataLoader(ds, { batch_size: 200, num_workers: 2 }))) as number[][][];
    expect(again.map((b) => b[1]!.length)).toEqual([200, 200]);
    expect(ownSegments()).toEqual([]);
  });

  it('refuses a dataset the workers cannot rebuild, with the fix', () => {
    expect(() => new DataLoader(rowsDataset(), { num_workers: 2 })[Symbol.asyncIterator]()).toThrow(/Dataset\.fromModule/);
  });
});
