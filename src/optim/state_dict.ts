/**
 * State dicts between JS and Python. A state dict comes to TS as plain JS values (tensors as
 * Tensor handles), where JSON-like objects only have string keys; loading it back must give
 * torch the int keys it wrote (an optimizer's per-parameter state, MultiStepLR's milestones),
 * or torch would silently ignore those entries.
 */
import { isKwargs } from '../ops/signature.js';
import { Tuple } from '../transport/codec.js';

const INT_KEY = /^-?\d+$/;

/** A state dict as Python wrote it: objects whose keys are all integers become int-keyed dicts. */
export function toPython(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toPython);
  if (!isKwargs(v)) return v;
  const keys = Object.keys(v);
  if (keys.length > 0 && keys.every((k) => INT_KEY.test(k))) return new Map(keys.map((k) => [Number(k), toPython(v[k])]));
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = toPython(v[k]);
  return out;
}

/** Python tuples that came back as lists (Adam's betas...): tuples again, as torch made them. */
export function tuplesAt(group: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out = { ...group };
  for (const k of keys) if (Array.isArray(out[k])) out[k] = new Tuple(out[k] as unknown[]);
  return out;
}
