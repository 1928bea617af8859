/** Timing helpers: medians of repeated, warmed-up, optionally interleaved measurements. */

/** Repetitions per measurement (BENCH_REPS overrides) and warm-up rounds before them. */
export const REPS = Math.max(3, Number(process.env.BENCH_REPS ?? 9));
export const WARMUP = 2;
/** No single repetition may take longer: a hang fails its case instead of the whole run. */
const REP_TIMEOUT_MS = 60_000;
/** BENCH_DEBUG=1 logs every repetition to stderr. */
const DEBUG = !!process.env.BENCH_DEBUG;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const now = (): number => performance.now();

/**
 * A full garbage collection, so finalizers (shm unmaps, handle frees) run between reps. Needs
 * node --expose-gc (the bench script passes it): turning the flag on at run time with
 * v8.setFlagsFromString made every JS op about 1.5x slower for the rest of the process.
 */
const gcFn = (globalThis as { gc?: () => void }).gc;
export function gc(): void {
  gcFn?.();
}

/** The q-quantile (0..1) of xs, interpolated between neighbours. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo]! + (s[Math.min(lo + 1, s.length - 1)]! - s[lo]!) * (at - lo);
}

/** One repetition: does its own timing and resolves to the elapsed milliseconds. */
export type Rep = () => Promise<number> | number;

/**
 * Run each named rep `WARMUP` times, then `reps` rounds in which every rep runs once
 * (interleaved, so drift hits all of them alike), calling `between` after each.
 * Returns the median milliseconds per name.
 */
export async function interleaved<K extends string>(
  variants: Record<K, Rep>,
  options: { reps?: number; warmup?: number; between?: () => Promise<void> | void } = {},
): Promise<Record<K, number>> {
  const samples = await interleavedSamples(variants, options);
  return Object.fromEntries(Object.entries<number[]>(samples).map(([n, xs]) => [n, median(xs)])) as Record<K, number>;
}

/** As interleaved(), but every repetition's milliseconds (after warm-up), per name. */
export async function interleavedSamples<K extends string>(
  variants: Record<K, Rep>,
  { reps = REPS, warmup = WARMUP, between = async () => {} }: { reps?: number; warmup?: number; between?: () => Promise<void> | void } = {},
): Promise<Record<K, number[]>> {
  const names = Object.keys(variants) as K[];
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < warmup + reps; r++) {
    for (const n of names) {
      if (DEBUG) process.stderr.write(`bench: round ${r} ${n} ...`);
      const ms = await withTimeout(Promise.resolve(variants[n]()), REP_TIMEOUT_MS, `repetition of ${n}`);
      await between();
      if (DEBUG) process.stderr.write(` ${ms.toFixed(1)} ms\n`);
      if (r >= warmup) samples[n].push(ms);
    }
  }
  return samples;
}

/** Reject after `ms` with `what` in the message (the timer does not keep Node alive). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
    timer.unref();
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Milliseconds `n` awaited calls of `fn` take, one after another. */
export async function msOfRepeated(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = now();
  for (let i = 0; i < n; i++) await fn(i);
  return now() - t0;
}

/** Milliseconds `fn` takes, awaited. */
export async function msOf(fn: () => unknown): Promise<number> {
  const t0 = now();
  await fn();
  return now() - t0;
}

/** Milliseconds to make a tensor and have the runtime hold it (`make` then torch.sync()); it is freed after. */
export async function msToTorch(make: () => { dispose(): void }, sync: () => Promise<void>): Promise<number> {
  const t0 = now();
  const t = make();
  await sync();
  const ms = now() - t0;
  t.dispose();
  return ms;
}
