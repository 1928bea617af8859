/**
 * Python-style arguments for optimizers and schedulers: positional arguments in Python's order,
 * then an optional trailing object of keyword arguments with Python's names. Each class states
 * its Python signature once; binding checks names and types in TS, and what the caller gave is
 * sent to torch as keywords (torch fills in its own defaults, so they never drift). Defaults in
 * the signature texts only mark a parameter optional and document torch's value.
 */
import { bind, parseSignature, splitArgs, type Signature } from '../ops/signature.js';

type Prefixes<T extends readonly unknown[]> = T extends readonly [...infer H, unknown] ? T | Prefixes<H> : [];

/** The trailing arguments of a Python call: any prefix of the positionals P, then optionally keywords K. */
export type PyArgs<P extends readonly unknown[], K> =
  Prefixes<P> extends infer X ? (X extends readonly unknown[] ? [...X, K?] : never) : never;

export { parseSignature, type Signature };

/** Bind `args` to `sig` (ArgumentError on unknown names, wrong types, missing arguments); the given ones by name. */
export function keywords(sig: Signature, args: readonly unknown[]): Record<string, unknown> {
  const { pos, kw } = splitArgs(args);
  const bound = bind(sig, pos, kw);
  const out: Record<string, unknown> = {};
  for (const k in bound) if (bound[k] !== undefined) out[k] = bound[k];
  return out;
}
