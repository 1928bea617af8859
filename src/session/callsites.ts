/**
 * Where in the user's TypeScript each op was queued. A stack capture costs ~2-3 µs, more than
 * a whole small op, so by default ('auto') only ops the local mirror could not fully validate
 * record one; TORCHBRIDGE_CALLSITES=all records every op, =off none.
 */
import { packageRoot } from '../runtime/paths.js';
import { join } from 'node:path';

export type CallsiteMode = 'all' | 'auto' | 'off';

const SIZE = 4096;
const sites: (Error | undefined)[] = new Array(SIZE);
const seqs = new Float64Array(SIZE).fill(-1);

function initialMode(): CallsiteMode {
  const v = process.env.TORCHBRIDGE_CALLSITES;
  return v === 'all' || v === 'off' ? v : 'auto';
}

export let callsiteMode: CallsiteMode = initialMode();

export function setCallsiteMode(mode: CallsiteMode): void {
  callsiteMode = mode;
}

/** Record the current stack (or `site`, one taken earlier) for op `seq` (if the mode asks for it). */
export function recordCallsite(seq: number, mayFail: boolean, site?: Error): void {
  if (callsiteMode === 'all' || (mayFail && callsiteMode === 'auto')) {
    const i = seq % SIZE;
    sites[i] = site ?? new Error();
    seqs[i] = seq;
  }
}

const internal = [join(packageRoot, 'src') + '/', join(packageRoot, 'dist') + '/', 'node:internal', '/node_modules/'];

/** The user's frames of the stack recorded for op `seq`, if still remembered. */
/** Whether an op queued now would record its call site (callbacks.ts takes it early for ops it holds back). */
export function wantsCallsite(mayFail: boolean): boolean {
  return callsiteMode === 'all' || (mayFail && callsiteMode === 'auto');
}

export function callsiteOf(seq: number | undefined): string | undefined {
  if (seq === undefined) return undefined;
  const i = seq % SIZE;
  if (seqs[i] !== seq) return undefined;
  const stack = sites[i]?.stack;
  if (!stack) return undefined;
  const frames = stack.split('\n').slice(1).filter((l) => !internal.some((p) => l.includes(p)));
  return frames.length ? frames.join('\n') : undefined;
}
