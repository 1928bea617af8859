/**
 * Python-style argument binding: positional arguments in order, then an optional trailing
 * plain object of keyword arguments, checked against a torch signature such as
 * `add(Tensor input, Tensor|Scalar other, *, Scalar? alpha=1)`.
 *
 * Types: Tensor, Scalar (number, boolean, bigint, complex), int, float, bool, str, dtype,
 * device, layout, memory_format, Generator, any; `A|B` unions, `T?` nullable, `T[]` sequences
 * (int[] also takes a single int, like torch's IntArrayRef), and `int...` for *varargs.
 */
import { ArgumentError } from '../errors.js';
import { ComplexValue, Handle } from '../transport/codec.js';
import { DType } from '../tensor/dtype.js';

export type Check = (v: unknown) => boolean;

export interface Param {
  name: string;
  type: string;
  kwOnly: boolean;
  required: boolean;
  /** *args: collects the remaining positionals (or takes one sequence) */
  varargs: boolean;
  check: Check;
  /** an int, int? or int[] parameter: a BigInt in it reaches mirror rules as a number */
  intLike?: boolean;
}

export interface Signature {
  name: string;
  params: Param[];
}

/** [name, type, kind ('p' positional, 'k' keyword-only, 'v' varargs), optional] */
export type ParamTuple = readonly [string, string, 'p' | 'k' | 'v', boolean];

export function makeSignature(name: string, params: readonly ParamTuple[]): Signature {
  return {
    name,
    params: params.map(([pname, type, kind, optional]) => ({
      name: pname,
      type,
      kwOnly: kind === 'k',
      // torch's parser lets a nullable keyword-only parameter be left out (it is None)
      required: !optional && kind !== 'v' && !(kind === 'k' && /\?|None/.test(type)),
      varargs: kind === 'v',
      check: compileType(type),
      intLike: type.split('|').every((t) => /^int(\[\])?\??$/.test(t.trim())),
    })),
  };
}

/** A hand-written signature: `name(Type a, Type b=default, *, Type c=default)`. */
export function parseSignature(text: string): Signature {
  const m = /^([\w.]+)\((.*)\)$/.exec(text.trim());
  if (!m) throw new Error(`bad signature ${text}`);
  const params: ParamTuple[] = [];
  let kwOnly = false;
  for (const part of m[2]!.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (part === '*') {
      kwOnly = true;
      continue;
    }
    const pm = /^(\S+)\s+(\w+)(=.*)?$/.exec(part);
    if (!pm) throw new Error(`bad parameter '${part}' in ${text}`);
    const varargs = pm[1]!.endsWith('...');
    const type = varargs ? pm[1]!.slice(0, -3) : pm[1]!;
    params.push([pm[2]!, type, varargs ? 'v' : kwOnly ? 'k' : 'p', pm[3] !== undefined]);
  }
  return makeSignature(m[1]!, params);
}

const isInt = (v: unknown): boolean => (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint';
const isScalar = (v: unknown): boolean => typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v instanceof ComplexValue;

const BASE: Record<string, Check> = {
  Tensor: (v) => v instanceof Handle,
  Scalar: isScalar,
  int: isInt,
  float: (v) => typeof v === 'number',
  bool: (v) => typeof v === 'boolean',
  str: (v) => typeof v === 'string',
  dtype: (v) => v instanceof DType,
  device: (v) => typeof v === 'string',
  layout: () => true,
  memory_format: () => true,
  Generator: () => true,
  any: () => true,
};

const compiled = new Map<string, Check>();

export function compileType(type: string): Check {
  let c = compiled.get(type);
  if (c) return c;
  const alts = type.split('|').map((t) => t.trim());
  const checks = alts.map((t): Check => {
    if (t.endsWith('?')) {
      const inner = compileType(t.slice(0, -1));
      return (v) => v === null || inner(v);
    }
    if (t.endsWith('[]')) {
      const item = compileType(t.slice(0, -2));
      const single = t === 'int[]' || t === 'float[]';
      return (v) => (Array.isArray(v) && v.every(item)) || (single && item(v));
    }
    const base = BASE[t];
    if (!base) throw new Error(`unknown parameter type '${t}' in '${type}'`);
    return base;
  });
  c = checks.length === 1 ? checks[0]! : (v) => checks.some((k) => k(v));
  compiled.set(type, c);
  return c;
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
    if (p.varargs) {
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
    } else if (p.varargs ? !(Array.isArray(v) && v.every(p.check)) : !p.check(v)) {
      const want = p.varargs ? `a sequence of ${p.type}` : p.type.replace(/\?$/, ' or null');
      throw new ArgumentError(`${sig.name}(): argument '${p.name}' must be ${want}, not ${describe(v)}`);
    } else if (p.intLike) out[p.name] = intsAsNumbers(v, sig.name, p.name);
  }
  return out;
}

/** Bind to the first of several overloads that accepts the call (torch's overload resolution). */
export function bindOverloads(sigs: readonly Signature[], pos: readonly unknown[], kw: Record<string, unknown> | undefined): Bound {
  if (sigs.length === 1) return bind(sigs[0]!, pos, kw);
  const failures: string[] = [];
  for (const sig of sigs) {
    try {
      return bind(sig, pos, kw);
    } catch (e) {
      if (!(e instanceof ArgumentError)) throw e;
      failures.push(e.message);
    }
  }
  // When every overload that fits the call's shape fails for the same reason, say just that.
  const telling = [...new Set(failures.filter((m) => !/positional argument|missing required argument/.test(m)))];
  if (telling.length === 1) throw new ArgumentError(telling[0]);
  const got = [...pos.map(describe), ...Object.keys(kw ?? {}).map((k) => `${k}=${describe(kw![k])}`)].join(', ');
  const expected = sigs.map((s) => ` * (${s.params.map(showParam).join(', ')})`).join('\n');
  throw new ArgumentError(`${sigs[0]!.name}() received an invalid combination of arguments - got (${got}), but expected one of:\n${expected}`);
}

function showParam(p: Param): string {
  return `${p.varargs ? '*' : ''}${p.type} ${p.name}${p.required || p.varargs ? '' : '=…'}`;
}

/**
 * What the mirror's rules see of an int parameter given as a BigInt (dim=0n): a number, as
 * Python's int is one type. Beyond int64 torch refuses to unpack it, and so does this. The
 * wire still carries the argument as given.
 */
function intsAsNumbers(v: unknown, op: string, name: string): unknown {
  if (typeof v === 'bigint') {
    if (v < -(2n ** 63n) || v >= 2n ** 63n) throw new ArgumentError(`${op}(): argument '${name}' is ${v}, which overflows int64 (torch: Overflow when unpacking long long)`);
    return Number(v);
  }
  if (Array.isArray(v) && v.some((x) => typeof x === 'bigint')) return v.map((x) => intsAsNumbers(x, op, name));
  return v;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Handle) return 'Tensor';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
