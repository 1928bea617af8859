/**
 * DataLoader with num_workers > 0: the main thread draws indices from the same sampler as
 * with no workers, hands each batch's indices to the next worker thread round-robin (as
 * Python's _MultiProcessingDataLoaderIter), keeps prefetch_factor batches per worker in
 * flight, and yields results in order. Workers collate into shared segments; each becomes a
 * tensor by one queued FROM_DATA (the runtime maps the same pages).
 *
 * Cleanup: at the end, on an error, or when the loop breaks early, the workers are stopped
 * (then terminated while idle) and every segment they made that was not handed to the
 * runtime is unlinked. Idle workers do not keep the process alive, and an abandoned iterator's workers
 * are terminated when it is garbage-collected.
 */
import { Worker } from 'node:worker_threads';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ArgumentError, TorchBridgeError } from '../../errors.js';
import { currentSession } from '../../session/current.js';
import type { Session } from '../../session/session.js';
import { dtypeFromName } from '../../tensor/dtype.js';
import { unlinkSegment } from '../../memory/shm.js';
import { tensorFromSegment } from './batch_tensor.js';
import type { FromWorker, SegmentLeaf, ToWorker, WorkerConfig, ErrorInfo } from './worker.js';
import type { DatasetRecipe } from './dataset.js';

/** Dataset code failed in a worker thread; `workerStack` is the stack there. */
export class DataLoaderWorkerError extends TorchBridgeError {
  override name = 'DataLoaderWorkerError';
  constructor(
    readonly workerId: number,
    readonly original: ErrorInfo,
  ) {
    super(`Caught ${original.name} in DataLoader worker ${workerId}: ${original.message}\nOriginal stack (worker ${workerId}):\n${original.stack}`);
  }
  get workerStack(): string {
    return this.original.stack;
  }
}

const ENTRY = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url).href;

/** tsx's ESM API, when TS modules must load in the worker (source checkouts, .ts datasets). */
function tsxApi(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
    const spec = (JSON.parse(readFileSync(pkg, 'utf8')) as { exports: Record<string, { import: { default: string } }> }).exports['./esm/api']!;
    return pathToFileURL(join(dirname(pkg), spec.import.default)).href;
  } catch {
    return undefined;
  }
}

const isTs = (url: string) => /\.[mc]?tsx?$/.test(new URL(url).pathname);

// Runs as a CommonJS script in the new thread: load the entry module, through tsx when needed.
const BOOT = `
const { workerData } = require('node:worker_threads');
const load = workerData.__tsx__ ? import(workerData.__tsx__).then((m) => m.tsImport(workerData.__entry__, workerData.__entry__)) : import(workerData.__entry__);
load.catch((e) => { process.nextTick(() => { throw e; }); });
`;

function spawn(config: WorkerConfig): Worker {
  const needsTs = isTs(ENTRY) || isTs(config.recipe.module);
  const tsx = needsTs ? tsxApi() : undefined;
  if (needsTs && tsx === undefined) {
    throw new ArgumentError(`DataLoader workers: ${config.recipe.module} is TypeScript; install tsx (npm i -D tsx) or point the dataset recipe at compiled JS`);
  }
  return new Worker(BOOT, { eval: true, workerData: { __entry__: ENTRY, __tsx__: tsx, __torchbridge_data_worker__: config } });
}

interface Slot {
  worker: Worker;
  active: boolean;
  exited: Promise<void>;
  /** resolves when the worker says it stopped (idle, safe to terminate) */
  stopped: Promise<void>;
  onStopped: () => void;
  /** last fatal error of the thread itself (failed to load, crashed) */
  fatal?: Error;
}

interface Task {
  slot: number;
  result?: FromWorker;
}

let iterators = 0;

/** How long a stopping worker may take to finish the batch it is on before it is terminated. */
const STOP_GRACE_MS = 10_000;

const sleep = (ms: number) =>
  new Promise<void>((r) => {
    setTimeout(r, ms).unref();
  });

/** Terminate workers of iterators dropped without reaching their end. */
const abandoned = new FinalizationRegistry<Worker[]>((workers) => {
  for (const w of workers) {
    w.on('message', (m: FromWorker) => void (m.type === 'stopped' && w.terminate()));
    w.postMessage({ type: 'stop' } satisfies ToWorker);
  }
});

export interface PoolOptions {
  recipe: DatasetRecipe;
  kind: 'map' | 'iterable';
  num_workers: number;
  prefetch_factor: number;
  batch_size: number | null;
  drop_last: boolean;
  /** null: default collate in the workers; else run on the main thread with the posted samples. */
  collate_fn: ((batch: never) => unknown) | null;
  /** Next batch of indices (map) or undefined when the sampler is done; iterable: always a token. */
  nextIndex: () => Promise<IteratorResult<unknown>>;
  /** Seed of this epoch, drawn like Python's base_seed. */
  baseSeed: Promise<number | bigint>;
}

export class WorkerPoolIterator implements AsyncIterableIterator<unknown> {
  private readonly s: Session;
  private readonly slots: Slot[];
  private readonly tasks = new Map<number, Task>();
  private readonly waiting = new Map<number, () => void>();
  private readonly prefix: string;
  /** Segment names already handed to the runtime (it unlinks them). */
  private readonly handed = new Set<string>();
  private sendIdx = 0;
  private rcvdIdx = 0;
  private nextSlot = 0;
  private samplerDone = false;
  private closed = false;
  private readonly started: Promise<void>;

  constructor(private readonly opts: PoolOptions) {
    this.s = currentSession();
    this.prefix = `${this.s.shmPrefix}dl${++iterators}-`;
    this.slots = [];
    for (let id = 0; id < opts.num_workers; id++) {
      const worker = spawn({
        recipe: opts.recipe,
        id,
        num_workers: opts.num_workers,
        prefix: `${this.prefix}w${id}-`,
        kind: opts.kind,
        batch_size: opts.batch_size,
        drop_last: opts.drop_last,
        collate: opts.collate_fn === null ? 'default' : 'main',
      });
      worker.unref();
      let onStopped!: () => void;
      const stopped = new Promise<void>((r) => (onStopped = r));
      const slot: Slot = { worker, active: true, exited: new Promise((r) => worker.once('exit', () => r())), stopped, onStopped };
      worker.on('message', (m: FromWorker) => (m.type === 'stopped' ? slot.onStopped() : this.onMessage(m)));
      worker.on('error', (e) => {
        slot.fatal = e;
        this.wakeAll();
      });
      worker.once('exit', () => this.wakeAll());
      this.slots.push(slot);
    }
    abandoned.register(this, this.slots.map((s) => s.worker), this);
    this.started = this.start();
    this.started.catch(() => {});
  }

  private async start(): Promise<void> {
    const seed = await this.opts.baseSeed;
    this.slots.forEach((slot, id) => this.post(slot, { type: 'init', seed: typeof seed === 'bigint' ? seed + BigInt(id) : seed + id }));
    for (let i = 0; i < this.opts.prefetch_factor * this.opts.num_workers; i++) await this.tryPut();
  }

  private post(slot: Slot, msg: ToWorker): void {
    slot.worker.postMessage(msg);
  }

  private onMessage(m: Exclude<FromWorker, { type: 'stopped' }>): void {
    const task = this.tasks.get(m.task);
    if (this.closed || task === undefined) {
      this.discard(m);
      return;
    }
    task.result = m;
    this.waiting.get(m.task)?.();
  }

  private wakeAll(): void {
    for (const wake of this.waiting.values()) wake();
  }

  /** Send the next index to the next active worker, as Python's _try_put_index. */
  private async tryPut(): Promise<void> {
    if (this.samplerDone || this.closed) return;
    const n = this.slots.length;
    let slot = -1;
    for (let k = 0; k < n; k++) {
      const i = this.nextSlot;
      this.nextSlot = (this.nextSlot + 1) % n;
      if (this.slots[i]!.active) {
        slot = i;
        break;
      }
    }
    if (slot < 0) return;
    const r = await this.opts.nextIndex();
    if (r.done) {
      this.samplerDone = true;
      return;
    }
    if (this.closed) return;
    const task = this.sendIdx++;
    this.tasks.set(task, { slot });
    this.post(this.slots[slot]!, { type: 'fetch', task, index: r.value });
  }

  /** Wait for a task's reply (keeping the process alive only while waiting). */
  private async resultOf(idx: number): Promise<FromWorker> {
    const task = this.tasks.get(idx)!;
    const slot = this.slots[task.slot]!;
    while (task.result === undefined) {
      if (slot.fatal) throw new DataLoaderWorkerError(task.slot, { name: slot.fatal.name, message: slot.fatal.message, stack: slot.fatal.stack ?? slot.fatal.message });
      if (!this.isRunning(slot)) throw new DataLoaderWorkerError(task.slot, { name: 'Exit', message: 'the worker thread exited unexpectedly', stack: '' });
      slot.worker.ref();
      await new Promise<void>((resolve) => this.waiting.set(idx, resolve));
      this.waiting.delete(idx);
      slot.worker.unref();
    }
    return task.result;
  }

  private isRunning(slot: Slot): boolean {
    return slot.worker.threadId >= 0;
  }

  async next(): Promise<IteratorResult<unknown>> {
    if (this.closed) return { done: true, value: undefined };
    try {
      await this.started;
      while (true) {
        // Skip tasks of workers whose iterable ran out (their replies say nothing more).
        while (this.rcvdIdx < this.sendIdx) {
          const t = this.tasks.get(this.rcvdIdx)!;
          if (t.result !== undefined || this.slots[t.slot]!.active) break;
          this.tasks.delete(this.rcvdIdx++);
        }
        if (this.rcvdIdx >= this.sendIdx) {
          await this.close();
          return { done: true, value: undefined };
        }
        const idx = this.rcvdIdx;
        const msg = await this.resultOf(idx);
        const slot = this.tasks.get(idx)!.slot;
        this.tasks.delete(idx);
        this.rcvdIdx++;
        if (msg.type === 'end') {
          this.slots[slot]!.active = false;
          await this.tryPut();
          continue;
        }
        await this.tryPut();
        if (msg.type === 'error') throw new DataLoaderWorkerError(slot, msg.error);
        if (msg.type !== 'data') continue;
        const data = this.toTensors(msg.data);
        return { done: false, value: this.opts.collate_fn ? (this.opts.collate_fn as (b: unknown) => unknown)(data) : data };
      }
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  /** Segment leaves become tensors over the same memory. */
  private toTensors(v: unknown): unknown {
    if (Array.isArray(v)) return v.map((x) => this.toTensors(x));
    if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v)) {
      if ('__tb_segment__' in v) {
        const leaf = v as SegmentLeaf;
        this.handed.add(leaf.__tb_segment__);
        return tensorFromSegment(this.s, leaf.__tb_segment__, leaf.nbytes, dtypeFromName(leaf.dtype)!, leaf.shape);
      }
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.toTensors(x);
      return out;
    }
    return v;
  }

  /** Unlink the segments of a reply nobody will use. */
  private discard(m: FromWorker): void {
    if (m.type !== 'data') return;
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object' && !ArrayBuffer.isView(v)) {
        if ('__tb_segment__' in v) tryUnlink((v as SegmentLeaf).__tb_segment__);
        else Object.values(v).forEach(walk);
      }
    };
    walk(m.data);
  }

  /** Stop the workers, wait for them, and unlink every segment not handed to the runtime. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    abandoned.unregister(this);
    for (const task of this.tasks.values()) if (task.result) this.discard(task.result);
    this.tasks.clear();
    // Ask each worker to stop and terminate it once idle: terminating a thread in the middle of
    // a native call (creating a segment) is fatal to the process. A worker stuck in dataset
    // code is terminated after a grace period. Segments they made and did not hand over carry
    // this iterator's prefix and are unlinked below.
    await Promise.all(
      this.slots.map(async (slot) => {
        if (this.isRunning(slot)) {
          this.post(slot, { type: 'stop' });
          await Promise.race([slot.stopped, slot.exited, sleep(STOP_GRACE_MS)]);
        }
        await slot.worker.terminate();
      }),
    );
    for (const name of listSegments(this.prefix)) if (!this.handed.has(name)) tryUnlink(name);
    this.handed.clear();
  }

  async return(): Promise<IteratorResult<unknown>> {
    await this.close();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

function listSegments(prefix: string): string[] {
  try {
    return readdirSync('/dev/shm').filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}

function tryUnlink(name: string): void {
  try {
    unlinkSegment(name);
  } catch {
    /* already gone */
  }
}
