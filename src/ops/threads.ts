/**
 * torch.set_num_threads / get_num_threads: the runtime's intra-op thread pool (the runtime is
 * where torch computes). set_num_threads is queued in order with the ops, like Python's call.
 */
import { ArgumentError } from '../errors.js';
import { currentSession } from '../session/current.js';
import { callValue } from './escape.js';

export function set_num_threads(nthreads: number): void {
  if (!Number.isInteger(nthreads) || nthreads < 1) {
    throw new ArgumentError(`set_num_threads(): argument 'nthreads' must be a positive int, got ${nthreads}`);
  }
  currentSession().call(null, 'set_num_threads', [nthreads], null, 0, true);
}

export async function get_num_threads(): Promise<number> {
  return (await callValue('get_num_threads')) as number;
}
