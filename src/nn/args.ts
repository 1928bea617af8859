/**
 * Python-style arguments for nn constructors and methods: positional arguments in order, then
 * an optional trailing plain object of keyword arguments, bound to a signature written like
 * Python's (`Linear(int in_features, int out_features, bool bias=True, ...)`). Defaults come
 * from the signature text, so each class states its Python signature exactly once.
 */
import { bind, parseSignature, splitArgs, type Bound } from '../ops/signature.js';

/** The values of options O at keys K, as a positional tuple. */
type Values<O, K extends readonly (keyof O)[]> = { -readonly [I in keyof K]: O[K[I]] };
type Prefixes<T extends readonly unknown[]> = T extends readonly [...infer H, unknown] ? T | Prefixes<H> : [];

/**
 * The optional trailing arguments of a Python call: any prefix of the positional parameters K
 * of options O, then optionally a keyword object. `PyRest<LinearOptions, ['bias', 'device', 'dtype']>`.
 */
export type PyRest<O, K extends readonly (keyof O)[]> =
  Prefixes<Values<O, K>> extends infer P ? (P extends readonly unknown[] ? [...P, Partial<O>?] : never) : never;

/** Parse a Python default literal: True, False, None, numbers, 'strings', [lists] of those. */
function literal(text: string): unknown {
  const t = text.trim();
  if (t === 'True') return true;
  if (t === 'False') return false;
  if (t === 'None') return null;
  if (/^'.*'$/.test(t)) return t.slice(1, -1);
  if (/^\[.*\]$/.test(t)) return t.slice(1, -1).split(',').filter((s) => s.trim()).map(literal);
  const n = Number(t);
  if (Number.isNaN(n)) throw new Error(`unsupported default literal ${t}`);
  return n;
}

/**
 * A binder for one Python signature: `binder('Linear(int in_features, ..., bool bias=True)')`
 * gives `(args) => {in_features, ..., bias}` with defaults filled in and torch-style
 * ArgumentErrors for wrong types, unknown keywords and missing arguments.
 */
export function binder<T = Bound>(signature: string): (args: readonly unknown[]) => T {
  // split on commas outside brackets so list defaults like [1, 1] survive
  const inner = /\((.*)\)$/.exec(signature)![1]!;
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of inner) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  parts.push(cur);
  const defaults: Record<string, unknown> = {};
  const plain: string[] = [];
  for (const part of parts.map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\S+\s+(\w+))\s*=\s*(.*)$/.exec(part);
    if (m) {
      defaults[m[2]!] = literal(m[3]!);
      plain.push(`${m[1]}=…`);
    } else plain.push(part);
  }
  const sig = parseSignature(`${signature.slice(0, signature.indexOf('('))}(${plain.join(', ')})`);
  return (args) => {
    const { pos, kw } = splitArgs(args);
    const bound = bind(sig, pos, kw);
    for (const k in defaults) if (bound[k] === undefined) bound[k] = defaults[k];
    return bound as T;
  };
}
