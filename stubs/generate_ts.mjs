#!/usr/bin/env node
// Generates the typed TypeScript API (src/generated/*.ts) from stubs/spec.json.
//   node stubs/generate_ts.mjs        (npm run gen; `npm run gen:spec` refreshes spec.json first)
// Each torch function / Tensor method gets its overloads as TypeScript overload signatures
// (Python's positional parameters in order, then an optional object of keyword arguments) and
// an implementation that hands the call to src/ops/generated_support.ts.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const spec = JSON.parse(readFileSync(join(root, 'stubs', 'spec.json'), 'utf8'));
const handwritten = JSON.parse(readFileSync(join(root, 'stubs', 'handwritten.json'), 'utf8'));
const outDir = join(root, 'src', 'generated');

// Where Python accepts more than torch's stubs say (stubs/handwritten.json, "param_fixes").
for (const [qualified, fixes] of Object.entries(handwritten.param_fixes ?? {})) {
  if (qualified.startsWith('_')) continue;
  const dot = qualified.lastIndexOf('.');
  const entry = spec.namespaces[qualified.slice(0, dot)]?.find((e) => e.name === qualified.slice(dot + 1));
  if (!entry) throw new Error(`param_fixes: ${qualified} is not in stubs/spec.json`);
  for (const o of entry.overloads) for (const p of o.params) Object.assign(p, fixes[p.name] ?? {});
}
mkdirSync(outDir, { recursive: true });

const FILES = { torch: 'torch', Tensor: 'tensor_methods', 'nn.functional': 'nn_functional', linalg: 'linalg', fft: 'fft', special: 'special' };
const RESERVED = new Set(['var', 'delete', 'new', 'in', 'function', 'class', 'return', 'default', 'import', 'export', 'with', 'switch', 'case', 'typeof', 'void', 'instanceof', 'this', 'super', 'enum', 'const', 'let', 'yield', 'await', 'do', 'if', 'else', 'for', 'while', 'break', 'continue', 'try', 'catch', 'finally', 'throw', 'debugger']);
const KNOWN = new Set(['Tensor', 'Scalar', 'int', 'float', 'bool', 'str', 'dtype', 'device', 'layout', 'memory_format', 'Generator', 'any', 'None']);

/** Spec type -> the binder's type (signature.ts vocabulary). */
function bindType(t) {
  const alts = t.split('|').map((a) => a.trim());
  const nullable = alts.includes('None') || alts.some((a) => a.endsWith('?'));
  const mapped = alts
    .filter((a) => a !== 'None')
    .map((a) => a.replace(/\?$/, ''))
    .map((a) => {
      const list = /^(\w+)(\??)((?:\[\])*)$/.exec(a); // int, int[], int?[] (None entries)
      if (!list || !KNOWN.has(list[1]) || list[3].length > 2 || (list[2] && !list[3])) return 'any';
      return a;
    });
  const uniq = [...new Set(mapped)];
  if (uniq.includes('any')) return nullable ? 'any' : 'any';
  const body = uniq.join('|') || 'any';
  return nullable ? (uniq.length > 1 ? body.split('|').map((u) => u + '?').join('|') : body + '?') : body;
}

/** Spec type -> TypeScript type. */
function tsType(t) {
  const base = (a) => {
    switch (a) {
      case 'Tensor': return 'Tensor';
      case 'Scalar': return 'Scalar';
      case 'int': case 'float': return 'number';
      case 'bool': return 'boolean';
      case 'str': return 'string';
      case 'dtype': return 'DType';
      case 'device': return 'string';
      case 'None': return 'null';
      default: return 'unknown';
    }
  };
  const one = (a) => {
    if (a.endsWith('?')) return `${one(a.slice(0, -1))} | null`;
    if (a.endsWith('[]')) {
      const inner = one(a.slice(0, -2));
      // readonly: accepts both arrays and readonly ones such as t.shape (x.reshape(y.shape))
      const arr = inner.includes('|') ? `readonly (${inner})[]` : `readonly ${inner}[]`;
      return a === 'int[]' || a === 'float[]' ? `number | readonly number[]` : arr;
    }
    return base(a);
  };
  const parts = [...new Set(t.split('|').map((a) => one(a.trim())).flatMap((x) => x.split(' | ')))];
  return parts.includes('unknown') ? 'unknown' : parts.join(' | ');
}

function returnsOf(o) {
  switch (o.returns) {
    case 'Tensor': return { kind: 'tensor' };
    case 'tuple': {
      const types = o.return_types ?? [];
      if (types.length && types.every((t) => t === 'Tensor')) return { kind: 'tuple', count: types.length, names: o.return_names };
      return { kind: 'value' };
    }
    case 'Tensor[]': return { kind: 'list' };
    case 'Tensor|Tensor[]': return { kind: 'tensor_or_list' };
    case 'None': return { kind: 'none' };
    default: return { kind: 'value' };
  }
}

function tsReturn(r, o) {
  switch (r.kind) {
    case 'tensor': return 'Tensor';
    case 'list': case 'tensor_or_list': return 'Tensor[]';
    case 'none': return 'void';
    case 'tuple': {
      const tuple = `[${Array(r.count).fill('Tensor').join(', ')}]`;
      return r.names ? `${tuple} & { ${r.names.map((n) => `readonly ${n}: Tensor`).join('; ')} }` : tuple;
    }
    default: {
      const t = o.returns === 'int' || o.returns === 'float' || o.returns === 'Scalar' ? 'number' : o.returns === 'bool' ? 'boolean' : o.returns === 'str' ? 'string' : o.returns === 'dtype' ? 'DType' : 'unknown';
      return `Promise<${t}>`;
    }
  }
}

/** Python's literal values the binder can check (overload selectors such as return_indices=True). */
const LITERALS = { True: true, False: false, None: null };

/** A type without its named-dimension alternatives ('int|Dimname' -> 'int'); '' when nothing else is left. */
const withoutDimname = (t) =>
  t
    .split('|')
    .map((a) => a.trim())
    .filter((a) => !/Dimname/.test(a))
    .join('|')
    .replace(/^None$/, '');

/**
 * An overload's parameters as the generated code sees them: Python's keyword names, no
 * **kwargs, Dimname alternatives dropped, and `values` where only some literals are allowed.
 */
function paramsOf(o) {
  return o.params
    .filter((p) => p.kind !== 'varkw')
    .map((p) => {
      const lits = p.literal ?? (p.type === 'None' ? ['None'] : undefined);
      const values = lits && lits.every((l) => l in LITERALS) ? lits.map((l) => LITERALS[l]) : undefined;
      return { ...p, name: pname(p), type: /Dimname/.test(p.type) ? withoutDimname(p.type) : p.type, values };
    });
}

/** The TypeScript type of a parameter. */
const tsParam = (p) => (p.values ? [...new Set(p.values.map(String))].join(' | ') : tsType(p.type));

const usable = (o) => !o.deprecated && !o.named_dims && paramsOf(o).every((p) => p.type !== '');
const ident = (n) => (RESERVED.has(n) ? `${n}_` : n);
const pname = (p) => (p.name === 'self' ? 'input' : p.name);
const prop = (n) => JSON.stringify(n).replace(/^"(\w+)"$/, '$1');

/** TypeScript overload signatures for one spec overload (prefixes of optional positionals). */
function tsOverloads(fn, o, isMethod) {
  let params = paramsOf(o);
  if (isMethod) params = params.slice(1); // self
  const positional = params.filter((p) => p.kind === 'positional');
  const varargs = params.find((p) => p.kind === 'varargs');
  const keywords = params.filter((p) => p.kind === 'kw_only' || (p.kind === 'positional' && p.optional));
  // a keyword-only parameter without a default must be given (return_indices: true)
  const mustKw = keywords.some((p) => p.kind === 'kw_only' && !p.optional && !/\?|None/.test(p.type));
  const kwProps = keywords.map((p) => `${prop(p.name)}${p.kind === 'kw_only' && !p.optional && p.values ? '' : '?'}: ${tsParam(p)}`);
  const kwType = kwProps.length ? `{ ${kwProps.join('; ')} }` : undefined;
  const kwArg = () => `kwargs${mustKw ? '' : '?'}: ${kwType}`;
  const returns = returnsOf(o);
  const ret = tsReturn(returns, o);
  const required = positional.filter((p) => !p.optional);
  const optional = positional.filter((p) => p.optional);
  const sigs = [];
  const arg = (p) => `${ident(p.name)}: ${tsParam(p)}`;
  if (varargs && returns.kind === 'tensor_or_list' && params.length === 1) {
    // atleast_1d(t) gives a tensor; atleast_1d(a, b) and atleast_1d([a]) a tuple
    const one = tsType(varargs.type);
    return [`(${ident(varargs.name)}: ${one}): ${one}`, `(${ident(varargs.name)}: ${one}[]): ${ret}`, `(...${ident(varargs.name)}: ${one}[]): ${ret}`];
  }
  if (varargs) {
    const head = required.map(arg);
    if (!mustKw) sigs.push(`(${[...head, `...${ident(varargs.name)}: ${tsType(varargs.type)}[]`].join(', ')}): ${ret}`);
    if (kwType) sigs.push(`(${[...head, `...args: [...${tsType(varargs.type).includes('|') ? `(${tsType(varargs.type)})` : tsType(varargs.type)}[], ${kwType}]`].join(', ')}): ${ret}`);
    return sigs;
  }
  for (let k = 0; k <= optional.length; k++) {
    const ps = [...required, ...optional.slice(0, k)].map(arg);
    if (kwType) ps.push(kwArg());
    sigs.push(`(${ps.join(', ')}): ${ret}`);
  }
  // Python also takes required parameters by keyword: torch.sum(x, {dim: 1, keepdim: true}).
  const lead = required.findIndex((p) => !p.type.startsWith('Tensor'));
  if (lead >= 0) {
    const named = params.filter((p) => !required.slice(0, lead).includes(p));
    const all = named.map((p) => `${prop(p.name)}?: ${tsParam(p)}`).join('; ');
    sigs.push(`(${[...required.slice(0, lead).map(arg), `kwargs: { ${all} }`].join(', ')}): ${ret}`);
  }
  return sigs;
}

/** The binder's view of an overload: [name, type, kind, optional] and the allowed literal values. */
const tuples = (o) =>
  paramsOf(o).map((p) => {
    const t = [p.name, bindType(p.type), p.kind === 'kw_only' ? 'k' : p.kind === 'varargs' ? 'v' : 'p', !!p.optional];
    return p.values ? [...t, p.values] : t;
  });

let total = { generated: 0 };
const listing = {};
for (const [ns, file] of Object.entries(FILES)) {
  const entries = (spec.namespaces[ns] ?? []).filter((e) => e.tensor_api);
  const skip = new Set(handwritten[ns] ?? []);
  const isMethod = ns === 'Tensor';
  const lines = [];
  const methodDecls = [];
  const installs = [];
  const names = [];
  const lists = [];
  lines.push(`// Generated by stubs/generate_ts.mjs from stubs/spec.json (torch ${spec.torch_version}). Do not edit.`);
  lines.push(`/* eslint-disable */`);
  lines.push(`import type { Tensor } from '../tensor/tensor.js';`);
  lines.push(`import type { DType } from '../tensor/dtype.js';`);
  lines.push(`import type { Scalar } from '../mirror/promotion.js';`);
  lines.push(`import { defineGenerated, defineGeneratedGroups${isMethod ? ', installMethods' : ''} } from '../ops/generated_support.js';`);
  lines.push('');
  for (const e of entries) {
    if (skip.has(e.name)) continue;
    const overloads = e.overloads.filter(usable);
    if (overloads.length === 0) continue;
    // Overloads grouped by what they return (usually one group).
    const groups = new Map();
    for (const o of overloads) {
      const k = JSON.stringify(returnsOf(o));
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k).push(o);
    }
    const returns = returnsOf(overloads[0]);
    const id = ident(e.name);
    const impl = `$${e.name}`;
    const qualified = isMethod ? `Tensor.${e.name}` : ns === 'torch' ? `torch.${e.name}` : `torch.${ns}.${e.name}`;
    if (groups.size === 1) {
      lines.push(`const ${impl} = defineGenerated(${JSON.stringify(ns)}, ${JSON.stringify(e.name)}, ${JSON.stringify(overloads.map(tuples))}, ${JSON.stringify(returns)});`);
    } else {
      const gs = [...groups.entries()].map(([k, os]) => [os.map(tuples), JSON.parse(k)]);
      lines.push(`const ${impl} = defineGeneratedGroups(${JSON.stringify(ns)}, ${JSON.stringify(e.name)}, ${JSON.stringify(gs)});`);
    }
    const sigs = [...new Set(overloads.flatMap((o) => tsOverloads(e.name, o, isMethod)))];
    const doc = `  /** ${qualified} — ${e.doc} */`;
    if (isMethod) {
      methodDecls.push(doc);
      for (const s of sigs) methodDecls.push(`    ${JSON.stringify(e.name).replace(/^"(\w+)"$/, '$1')}${s};`);
      installs.push(`  ${JSON.stringify(e.name)}: ${impl},`);
    } else {
      lines.push(`/** ${qualified} — ${e.doc} */`);
      for (const s of sigs) lines.push(`function ${id}${s};`);
      lines.push(`function ${id}(...args: unknown[]): unknown {\n  return ${impl}(args);\n}`);
      lines.push(id === e.name ? `export { ${id} };` : `export { ${id} as ${e.name} };`);
    }
    names.push(e.name);
    if ([...groups.keys()].every((k) => JSON.parse(k).kind === 'list')) lists.push(e.name);
  }
  if (isMethod) {
    lines.push('');
    // A standalone interface that Tensor extends, rather than members merged into the class:
    // TypeScript then shares these member types with subclasses (nn.Parameter) instead of
    // instantiating all of them per subclass, which made checking Parameter against Tensor
    // take minutes and gigabytes.
    lines.push(`/** Tensor's methods generated from torch's signatures. */\nexport interface TensorMethods {`);
    lines.push(...methodDecls.map((l) => l.replace(/^    /, '  ')));
    lines.push(`}`);
    lines.push('');
    lines.push(`declare module '../tensor/tensor.js' {\n  interface Tensor extends TensorMethods {}\n}`);
    lines.push('');
    lines.push(`installMethods({\n${installs.join('\n')}\n});`);
  }
  lines.push('');
  lines.push(`/** The names this file provides. */`);
  lines.push(`export const GENERATED_NAMES: readonly string[] = ${JSON.stringify(names)};`);
  lines.push(`/** Those returning a list of tensors: callable once a mirror rule knows the list's length. */`);
  lines.push(`export const LIST_RETURNING: readonly string[] = ${JSON.stringify(lists)};`);
  writeFileSync(join(outDir, `${file}.ts`), lines.join('\n') + '\n');
  listing[ns] = names.length;
  total.generated += names.length;
}
console.log(`generated ${total.generated} functions/methods into src/generated/: ${JSON.stringify(listing)}`);
