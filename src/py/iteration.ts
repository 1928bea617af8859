/**
 * Python iteration from TS: `for await (const x of proxy)` over any Python iterable (a list, a
 * dict's keys, a generator, a DataLoader...), items converted as `await proxy` converts a value.
 *
 * Items come in batches, one message each way per batch: the first asks for one item (the first item comes at once),
 * each next one for twice as many (up to MAX_BATCH), and the next batch is asked for as soon as
 * one arrives, so the generator runs while TS handles the items. A generator therefore runs
 * ahead of the loop by up to a batch (as a DataLoader's prefetch does); `torch.py.iter(obj,
 * { batch: 1 })` asks for one item at a time where that matters.
 *
 * Leaving the loop early (break, return, a throw) closes the Python iterator (a generator's
 * close(): its `finally` blocks run) before the loop statement ends.
 */
import { ArgumentError } from '../errors.js';
import { HELPER } from '../transport/protocol.js';
import { PyObject, pyCall } from './object.js';
import { objectOf } from './builtins.js';
import { proxyFor, symbolHooks, type PyProxy } from './proxy.js';
import { untag } from './tree.js';

const FIRST_BATCH = 1;
const MAX_BATCH = 1024;

export interface IterOptions {
  /** Items per round trip, fixed (default: 1, doubling up to 1024). */
  batch?: number;
}

/** iter(obj) as an async iterable: `for await (const x of torch.py.iter(gen, { batch: 1 }))`. */
export function iter(obj: unknown, opts: IterOptions = {}): AsyncIterable<unknown> {
  const o = objectOf(obj, 'torch.py.iter()');
  const fixed = opts.batch;
  if (fixed !== undefined && !(Number.isSafeInteger(fixed) && fixed >= 1)) throw new ArgumentError(`torch.py.iter(): batch must be a whole number >= 1, got ${String(fixed)}`);
  return { [Symbol.asyncIterator]: () => iterate(o, fixed) };
}

async function* iterate(obj: PyObject, fixed: number | undefined): AsyncGenerator<unknown, void, undefined> {
  const origin = `iter(${obj.origin})`;
  const it = pyCall(HELPER.iter, [obj], undefined, origin, false); // a non-iterable fails here: TypeError at the first batch
  let n = fixed ?? FIRST_BATCH;
  let pending: Promise<[unknown[], boolean]> | undefined = batch(it, n, origin);
  let finished = false;
  try {
    while (pending !== undefined) {
      let items: unknown[];
      let done: boolean;
      try {
        [items, done] = await pending;
      } catch (e) {
        finished = true; // not iterable, or the iterator raised: nothing is left to close
        throw e;
      }
      pending = undefined;
      if (done) finished = true;
      else {
        n = fixed ?? Math.min(2 * n, MAX_BATCH);
        pending = batch(it, n, origin); // prefetch: Python makes these while TS handles the items below
      }
      for (const x of items) yield x;
    }
  } finally {
    if (pending !== undefined) pending.catch(() => {}); // a prefetch the loop left: its error is no one's
    if (!finished) await close(it, origin); // the loop stopped early, or failed
    it.dispose();
  }
}

/** Up to n items and whether the iterator is done; one message each way. */
async function batch(it: PyObject, n: number, origin: string): Promise<[unknown[], boolean]> {
  const out = pyCall(HELPER.next_batch, [it, n], undefined, `next(${origin})`, false);
  try {
    return untag(await out.value(), (o) => proxyFor(o as PyObject, true)) as [unknown[], boolean];
  } finally {
    out.dispose();
  }
}

/** Close the iterator now (its finally blocks run); an error it raises surfaces here. */
async function close(it: PyObject, origin: string): Promise<void> {
  if (it._disposed || !it._s.alive) return;
  const out = pyCall(HELPER.close_iter, [it], undefined, `${origin}.close()`, false);
  try {
    await out.value();
  } finally {
    out.dispose();
  }
}

symbolHooks.set(Symbol.asyncIterator, (proxy: PyProxy) => () => iterate(objectOf(proxy, 'for await'), undefined));
