/**
 * random_split, as Python's: lengths or fractions (floored, the remainder dealt round-robin),
 * then one randperm from the given generator (or the global one). One read per call.
 */
import { torchError } from '../../errors.js';
import { generatedTorch } from '../../ops/index.js';
import type { Generator } from '../../random/generator.js';
import { Subset, type Dataset } from './dataset.js';

/** Python's math.isclose with its default rel_tol. */
function isclose(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

/** The split lengths Python computes (fractions resolved against len(dataset)). */
export function splitLengths(n: number, lengths: number[]): number[] {
  const sum = lengths.reduce((a, b) => a + b, 0);
  if (isclose(sum, 1) && sum <= 1) {
    const out = lengths.map((frac, i) => {
      if (frac < 0 || frac > 1) throw torchError('ValueError', `Fraction at index ${i} is not between 0 and 1`, 'random_split');
      return Math.floor(n * frac);
    });
    const remainder = n - out.reduce((a, b) => a + b, 0);
    for (let i = 0; i < remainder; i++) out[i % out.length]! += 1;
    out.forEach((len, i) => {
      if (len === 0) process.emitWarning(`Length of split at index ${i} is 0. This might result in an empty dataset.`);
    });
    return out;
  }
  if (sum !== n) throw torchError('ValueError', 'Sum of input lengths does not equal the length of the input dataset!', 'random_split');
  return [...lengths];
}

/** Split `dataset` into non-overlapping random Subsets of the given lengths or fractions. */
export async function random_split<T>(dataset: Dataset<T>, lengths: number[], generator?: Generator | null): Promise<Subset<T>[]> {
  const sizes = splitLengths(dataset.__len__(), lengths);
  const total = sizes.reduce((a, b) => a + b, 0);
  const perm = generatedTorch.randperm(total, generator ? { generator } : {});
  let indices: number[];
  try {
    indices = ((await perm.tolist()) as Array<number | bigint>).map(Number);
  } finally {
    perm.dispose();
  }
  let offset = 0;
  return sizes.map((len) => new Subset(dataset, indices.slice(offset, (offset += len))));
}
