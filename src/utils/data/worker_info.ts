/**
 * get_worker_info(): inside a DataLoader worker thread, which worker this is; null on the main
 * thread. Kept on globalThis so every copy of this module in the thread sees the same value.
 */
import type { DatasetRecipe } from './dataset.js';

export interface WorkerInfo {
  /** 0 .. num_workers - 1 */
  id: number;
  num_workers: number;
  /** base_seed + id, with base_seed drawn from torch's RNG when the iterator was made (as Python). */
  seed: number | bigint;
  /** This worker's own copy of the dataset. */
  dataset: unknown;
  /** How the dataset was built. */
  recipe: DatasetRecipe;
}

const KEY = Symbol.for('torchbridge.data.worker_info');

export function get_worker_info(): WorkerInfo | null {
  return ((globalThis as Record<symbol, unknown>)[KEY] as WorkerInfo | undefined) ?? null;
}

/** @internal set once by the worker entry. */
export function setWorkerInfo(info: WorkerInfo): void {
  (globalThis as Record<symbol, unknown>)[KEY] = info;
}
