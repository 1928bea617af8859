/**
 * The code a DataLoader worker thread runs: rebuild the dataset from its recipe, fetch the
 * batches the main thread asks for (in the order asked), collate them straight into shared
 * memory segments it creates, and post each segment's name, dtype and shape. The main thread
 * queues a FROM_DATA naming the segment; the runtime maps the same pages: no copies.
 *
 * Started by worker_pool.ts; it is not a public module.
 */
import { parentPort, workerData, isMainThread } from 'node:worker_threads';
import { buildFromRecipe, type DatasetRecipe } from './dataset.js';
import { collateWith } from './collate.js';
import { setWorkerInfo } from './worker_info.js';
import { createSegment } from '../../memory/shm.js';
import type { DType, TensorData } from '../../tensor/dtype.js';

export interface WorkerConfig {
  recipe: DatasetRecipe;
  id: number;
  num_workers: number;
  /** Segment names start with it (the session's prefix, so a session sweep catches leftovers). */
  prefix: string;
  kind: 'map' | 'iterable';
  /** null: no auto-collation (batch_size=None). */
  batch_size: number | null;
  drop_last: boolean;
  /** 'default': collate here into shared memory; 'main': post the samples, the main thread runs collate_fn. */
  collate: 'default' | 'main';
}

/** A leaf tensor in shared memory, as posted to the main thread. */
export interface SegmentLeaf {
  __tb_segment__: string;
  nbytes: number;
  dtype: string;
  shape: number[];
}

export type ToWorker = { type: 'init'; seed: number | bigint } | { type: 'fetch'; task: number; index: unknown } | { type: 'stop' };

export interface ErrorInfo {
  name: string;
  message: string;
  stack: string;
}

export type FromWorker =
  | { type: 'data'; task: number; data: unknown }
  | { type: 'end'; task: number }
  | { type: 'error'; task: number; error: ErrorInfo }
  | { type: 'stopped' };

function errorInfo(err: unknown): ErrorInfo {
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack ?? `${err.name}: ${err.message}` };
  return { name: 'Error', message: String(err), stack: String(err) };
}

async function run(config: WorkerConfig): Promise<void> {
  const port = parentPort!;
  let counter = 0;
  const toShared = (dtype: DType, shape: number[], fill: (out: TensorData) => void): SegmentLeaf => {
    const numel = shape.reduce((a, b) => a * b, 1);
    const nbytes = Math.max(1, numel * dtype.itemsize);
    const name = `${config.prefix}${++counter}`;
    fill(new dtype.arrayType(createSegment(name, nbytes), 0, numel) as TensorData);
    return { __tb_segment__: name, nbytes, dtype: dtype.name, shape };
  };
  const collate = (samples: unknown[]): unknown => (config.collate === 'default' ? collateWith(samples, toShared) : samples);

  // Built on 'init', once the seed is known.
  let dataset: Promise<Record<string, unknown>> | undefined;
  let iterator: Iterator<unknown> | AsyncIterator<unknown> | undefined;
  let exhausted = false;

  async function fetchMap(ds: Record<string, unknown>, index: unknown): Promise<unknown> {
    const getitem = (i: number): unknown => (ds.__getitem__ as (i: number) => unknown).call(ds, i);
    if (config.batch_size === null) return getitem(index as number);
    const indices = index as number[];
    const items = typeof ds.__getitems__ === 'function' ? await (ds.__getitems__ as (i: number[]) => unknown[]).call(ds, indices) : await Promise.all(indices.map(getitem));
    return collate(items);
  }

  async function fetchIterable(ds: Record<string, unknown>): Promise<{ end: true } | { data: unknown }> {
    iterator ??= (ds.__iter__ as () => Iterator<unknown>).call(ds);
    const want = config.batch_size ?? 1;
    const items: unknown[] = [];
    while (!exhausted && items.length < want) {
      const r = await iterator.next();
      if (r.done) exhausted = true;
      else items.push(r.value);
    }
    if (items.length === 0 || (config.batch_size !== null && config.drop_last && items.length < want)) return { end: true };
    return { data: config.batch_size === null ? items[0] : collate(items) };
  }

  // Tasks run one after another, in the order they were sent.
  let chain: Promise<void> = Promise.resolve();
  let stopping = false;
  port.on('message', (msg: ToWorker) => {
    if (msg.type === 'init') {
      const info = { id: config.id, num_workers: config.num_workers, seed: msg.seed, dataset: undefined as unknown, recipe: config.recipe };
      setWorkerInfo(info); // before the dataset is built, so its constructor can read it
      dataset = buildFromRecipe(config.recipe).then((ds) => {
        info.dataset = ds;
        return ds as Record<string, unknown>;
      });
      dataset.catch(() => {}); // reported with the first task
      return;
    }
    if (msg.type === 'stop') {
      // Skip the tasks still queued; say so once the one running (if any) is done, then the
      // main thread terminates this thread while it is idle (never inside a native call).
      stopping = true;
      chain = chain.then(() => port.postMessage({ type: 'stopped' } satisfies FromWorker));
      return;
    }
    const { task, index } = msg;
    chain = chain.then(async () => {
      if (stopping) return;
      let reply: FromWorker;
      try {
        const ds = await dataset!;
        if (config.kind === 'map') reply = { type: 'data', task, data: await fetchMap(ds, index) };
        else {
          const r = await fetchIterable(ds);
          reply = 'end' in r ? { type: 'end', task } : { type: 'data', task, data: r.data };
        }
      } catch (err) {
        reply = { type: 'error', task, error: errorInfo(err) };
      }
      port.postMessage(reply);
    });
  });
}

if (!isMainThread && (workerData as { __torchbridge_data_worker__?: WorkerConfig } | null)?.__torchbridge_data_worker__) {
  void run((workerData as { __torchbridge_data_worker__: WorkerConfig }).__torchbridge_data_worker__);
}
