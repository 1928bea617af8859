/**
 * What the generated API (src/generated/, from stubs/spec.json) calls into: each torch
 * function or Tensor method becomes an OpDef with torch's overloads; its mirror rule, if any,
 * is looked up by name on first use (see rules.ts).
 */
import { invoke, sessionOf, type OpDef } from './dispatch.js';
import { MAY_FAIL, RULES } from './rules.js';
import { bindOverloads, isKwargs, makeSignature, type ParamTuple } from './signature.js';
import { Tensor } from '../tensor/tensor.js';
import { OP, READ } from '../transport/protocol.js';
import { ArgumentError } from '../errors.js';

export type Returns =
  | { kind: 'tensor' }
  | { kind: 'tuple'; count: number; names?: readonly string[] }
  | { kind: 'list' }
  | { kind: 'value' }
  | { kind: 'none' };

type Impl = (args: readonly unknown[], self?: Tensor) => unknown;

/** ns: 'torch' | 'Tensor' | 'nn.functional' | 'linalg' | 'fft' | 'special'. */
export function defineGenerated(ns: string, name: string, overloads: readonly (readonly ParamTuple[])[], returns: Returns): Impl {
  const path = ns === 'torch' || ns === 'Tensor' ? name : `${ns}.${name}`;
  const def: OpDef = {
    name: path,
    sigs: overloads.map((p) => makeSignature(name, p)),
    meta: undefined,
    mayFail: true,
    methodWire: '.' + name,
    outputs: returns.kind === 'tuple' ? returns.count : undefined,
  };
  let resolved = false;
  const resolve = (): void => {
    if (resolved) return;
    resolved = true;
    def.meta = RULES.get(path);
    def.mayFail = def.meta === undefined || MAY_FAIL.has(path);
  };
  switch (returns.kind) {
    case 'tensor':
      return (args, self) => {
        resolve();
        return invoke(def, args, self);
      };
    case 'tuple':
      return (args, self) => {
        resolve();
        return named(invoke(def, args, self) as Tensor[], returns.names);
      };
    case 'list':
      return (args, self) => {
        resolve();
        if (def.meta === undefined) {
          throw new ArgumentError(
            `${self ? 'Tensor.' : 'torch.'}${path} returns a list whose length the local mirror cannot predict yet; ` +
              `use torch.call('${path}', args, kwargs, { outputs: n }) when you know n`,
          );
        }
        return invoke(def, args, self);
      };
    case 'value':
      return (args, self) => valueCall(def, self ? def.methodWire : path, args, self);
    case 'none':
      return (args, self) => {
        const { pos, kw } = split(args, self);
        bindOverloads(def.sigs, pos, kw);
        sessionOf(tensorsOf(pos, kw)).call(null, self ? def.methodWire : path, pos, kw ?? null, 0, true);
      };
  }
}

/**
 * An op whose overloads return different kinds (torch.where(cond) gives a tuple of index
 * tensors, torch.where(cond, x, y) a tensor): the first group whose overloads bind the call
 * handles it.
 */
export function defineGeneratedGroups(ns: string, name: string, groups: readonly [readonly (readonly ParamTuple[])[], Returns][]): Impl {
  const impls = groups.map(([overloads, returns]) => ({ sigs: overloads.map((p) => makeSignature(name, p)), impl: defineGenerated(ns, name, overloads, returns) }));
  const all = impls.flatMap((g) => g.sigs);
  return (args, self) => {
    const { pos, kw } = split(args, self);
    for (const g of impls) {
      try {
        bindOverloads(g.sigs, pos, kw);
      } catch (e) {
        if (e instanceof ArgumentError) continue;
        throw e;
      }
      return g.impl(args, self);
    }
    return bindOverloads(all, pos, kw); // throws the combined message
  };
}

function split(args: readonly unknown[], self?: Tensor): { pos: unknown[]; kw: Record<string, unknown> | undefined } {
  const last = args[args.length - 1];
  const kw = args.length > 0 && isKwargs(last) ? last : undefined;
  const pos = kw ? args.slice(0, -1) : [...args];
  return { pos: self ? [self, ...pos] : pos, kw };
}

function tensorsOf(pos: readonly unknown[], kw: Record<string, unknown> | undefined): Tensor[] {
  const out: Tensor[] = [];
  const walk = (v: unknown): void => {
    if (v instanceof Tensor) out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
  };
  pos.forEach(walk);
  if (kw) Object.values(kw).forEach(walk);
  return out;
}

/** A call whose result is not a tensor: run it, read the value back (a sync point). */
async function valueCall(def: OpDef, wireName: string, args: readonly unknown[], self?: Tensor): Promise<unknown> {
  const { pos, kw } = split(args, self);
  bindOverloads(def.sigs, pos, kw);
  const s = sessionOf(tensorsOf(pos, kw));
  const id = s.newHandle();
  s.call(id, wireName, pos, kw ?? null, 0, true);
  try {
    return await s.request((r) => [OP.READ, r, id, READ.VALUE]);
  } finally {
    s.free(id);
  }
}

/** torch's named tuples (values, indices): an array that also has the names. */
function named(outs: Tensor[], names: readonly string[] | undefined): Tensor[] {
  if (names) names.forEach((n, i) => Object.defineProperty(outs, n, { value: outs[i], enumerable: false }));
  return outs;
}

/** Put generated methods on Tensor.prototype, leaving the hand-written ones in place. */
export function installMethods(methods: Record<string, Impl>): void {
  for (const [name, impl] of Object.entries(methods)) {
    if (Object.prototype.hasOwnProperty.call(Tensor.prototype, name)) continue;
    Object.defineProperty(Tensor.prototype, name, {
      value: function (this: Tensor, ...args: unknown[]) {
        return impl(args, this);
      },
      writable: true,
      configurable: true,
    });
  }
}
