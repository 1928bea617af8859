/**
 * Python-style argument binding: positional arguments in order, then an optional trailing
 * plain object of keyword arguments, checked against a torch signature such as
 * `add(Tensor input, Tensor|Scalar other, *, Scalar alpha=1)`.
 */
import { ArgumentError } from '../errors.js';
import { Handle } from '../transport/codec.js';
import { DType } from '../tensor/dtype.js';

export type ParamType =
  | 'Tensor'
  | 'Tensor?'
  | 'Scalar'
  | 'Tensor|Scalar'
  | 'int'
  | 'int?'
  | 'int[]'
  | 'int[]?'
  | 'int...'
  | 'float'
  | 'bool'
  | 'dtype?'
  | 'device?'
  | 'any';

export interface Param {
  name: string;
  type: ParamType;
  kwOnly: boolean;
  required: boolean;
}

export interface Signature {
  name: string;
  params: Param[];
}

export function parseSignature(text: string): Signature {
  const m = /^([\w.]+)\((.*)\)$/.exec(text.trim());
  if (!m) throw new Error(`bad signature ${text}`);
  const params: Param[] = [];
  let kwOnly = false;
  for (const part of m[2]!.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (part === '*') {
      kwOnly = true;
      continue;
    }
    const pm = /^(\S+)\s+(\w+)(=.*)?$/.exec(part);
    if (!pm) throw new Error(`bad parameter '${part}' in ${text}`);
    params.push({ type: pm[1] as ParamType, name: pm[2]!, kwOnly, required: pm[3] === undefined });
  }
  return { name: m[1]!, params };
}

export function isKwargs(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Split `(...positional, kwargs?)` as a Python call would see them. */
export function splitArgs(args: readonly unknown[]): { pos: unknown[]; kw: Record<string, unknown> | undefined } {
  const last = args[args.length - 1];
  if (args.length > 0 && isKwargs(last)) return { pos: args.slice(0, -1), kw: last };
  return { pos: args as unknown[], kw: undefined };
}

export type Bound = Record<string, unknown>;

/** Bind a call's arguments to a signature; throws ArgumentError naming op and argument. */
export function bind(sig: Signature, pos: readonly unknown[], kw: Record<string, unknown> | undefined): Bound {
  const out: Bound = {};
  const params = sig.params;
  const np = params.length;
  let i = 0;
  for (let j = 0; j < np && i < pos.length; j++) {
    const p = params[j]!;
    if (p.kwOnly) break;
    if (p.type === 'int...') {
      const rest = pos.slice(i);
      out[p.name] = rest.length === 1 && Array.isArray(rest[0]) ? rest[0] : rest;
      i = pos.length;
      break;
    }
    out[p.name] = pos[i++];
  }
  if (i < pos.length) {
    const n = params.filter((p) => !p.kwOnly).length;
    throw new ArgumentError(`${sig.name}() takes ${n} positional argument(s) but ${pos.length} were given`);
  }
  if (kw !== undefined) {
    for (const k in kw) {
      const v = kw[k];
      if (v === undefined) continue;
      if (!params.some((p) => p.name === k)) {
        throw new ArgumentError(`${sig.name}() got an unexpected keyword argument '${k}'`);
      }
      if (out[k] !== undefined) throw new ArgumentError(`${sig.name}() got multiple values for argument '${k}'`);
      out[k] = v;
    }
  }
  for (let j = 0; j < np; j++) {
    const p = params[j]!;
    const v = out[p.name];
    if (v === undefined) {
      if (p.required) throw new ArgumentError(`${sig.name}() missing required argument '${p.name}' (${p.type})`);
    } else if (!typeMatches(p.type, v)) {
      const want = p.type === 'int...' ? 'a sequence of ints' : p.type.replace('?', ' or null');
      throw new ArgumentError(`${sig.name}(): argument '${p.name}' must be ${want}, not ${describe(v)}`);
    }
  }
  return out;
}

function isScalar(v: unknown): boolean {
  return typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint';
}

function isInt(v: unknown): boolean {
  return (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint';
}

function isIntList(v: unknown): boolean {
  return Array.isArray(v) && v.every(isInt);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Handle) return 'Tensor';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

function typeMatches(type: ParamType, v: unknown): boolean {
  switch (type) {
    case 'Tensor':
      return v instanceof Handle;
    case 'Tensor?':
      return v === null || v instanceof Handle;
    case 'Scalar':
      return isScalar(v);
    case 'Tensor|Scalar':
      return v instanceof Handle || isScalar(v);
    case 'int':
      return isInt(v);
    case 'int?':
      return v === null || isInt(v);
    case 'int[]':
      return isInt(v) || isIntList(v);
    case 'int[]?':
      return v === null || isInt(v) || isIntList(v);
    case 'int...':
      return isIntList(v);
    case 'float':
      return typeof v === 'number';
    case 'bool':
      return typeof v === 'boolean';
    case 'dtype?':
      return v === null || v instanceof DType;
    case 'device?':
      return v === null || typeof v === 'string';
    case 'any':
      return true;
  }
}
