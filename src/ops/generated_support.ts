/**
 * What the generated API (src/generated/, from stubs/spec.json) calls into: each torch
 * function or Tensor method becomes an OpDef with torch's overloads; its mirror rule, if any,
 * is looked up by name on first use (see rules.ts).
 */
import { PENDING, invoke, predict, restateChanged, sessionOf, tensorsOfCall, type OpDef } from './dispatch.js';
import { MAY_FAIL, RULES } from './rules.js';
import { bindOverloads, isKwargs, makeSignature, type ParamTuple, type Signature } from './signature.js';
import { listLength } from './list_length.js';
import { Tensor } from '../tensor/tensor.js';
import { ArgumentError } from '../errors.js';
import { valueOf } from './escape.js';

export type Returns =
  | { kind: 'tensor' }
  | { kind: 'tuple'; count: number; names?: readonly string[] }
  | { kind: 'list' }
  | { kind: 'tensor_or_list' }
  | { kind: 'value' }
  | { kind: 'none' };

type Impl = (args: readonly unknown[], self?: Tensor) => unknown;

/** A parameter as generated: the binder's tuple, then the only values allowed where Python types it Literal[...]. */
export type GenParam = ParamTuple | readonly [...ParamTuple, readonly (boolean | null)[]];

const PY: Record<string, string> = { true: 'True', false: 'False', null: 'None' };

/** One overload's signature; a literal parameter (return_indices: Literal[True]) takes only its values. */
function signatureOf(name: string, params: readonly GenParam[]): Signature {
  const sig = makeSignature(name, params.map((p) => p.slice(0, 4) as unknown as ParamTuple));
  params.forEach((p, i) => {
    const values = p[4];
    if (values === undefined) return;
    const param = sig.params[i]!;
    param.type = values.map((v) => PY[String(v)]).join('|');
    param.check = (v) => values.includes(v as boolean | null);
  });
  return sig;
}

/** ns: 'torch' | 'Tensor' | 'nn.functional' | 'linalg' | 'fft' | 'special'. */
export function defineGenerated(ns: string, name: string, overloads: readonly (readonly GenParam[])[], returns: Returns): Impl {
  const path = ns === 'torch' || ns === 'Tensor' ? name : `${ns}.${name}`;
  const def: OpDef = {
    name: path,
    sigs: overloads.map((p) => signatureOf(name, p)),
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
        return listCall(def, args, self);
      };
    case 'tensor_or_list':
      return (args, self) => {
        resolve();
        // Python gives a tensor for one tensor, a tuple for none, several, or a list of them
        const { pos, kw } = split(args, self);
        const one = pos.length === 1 && pos[0] instanceof Tensor;
        const list = pos.length === 1 && Array.isArray(pos[0]) ? (pos[0] as unknown[]) : pos;
        if (one) return invoke(def, args, self);
        return listCall(def, kw ? [list, kw] : [list], self);
      };
    case 'value':
      return (args, self) => valueCall(def, self ? def.methodWire : path, args, self);
    case 'none':
      return (args, self) => {
        const { pos, kw } = split(args, self);
        bindOverloads(def.sigs, pos, kw);
        const first = pos[0];
        const s = sessionOf(tensorsOfCall(path, pos, kw));
        s.call(null, self ? def.methodWire : path, pos, kw ?? null, 0, true);
        restateChanged(s, def.name, first);
      };
  }
}

/**
 * An op whose overloads return different kinds (torch.where(cond) gives a tuple of index
 * tensors, torch.where(cond, x, y) a tensor): the first group whose overloads bind the call
 * handles it.
 */
export function defineGeneratedGroups(ns: string, name: string, groups: readonly [readonly (readonly GenParam[])[], Returns][]): Impl {
  const impls = groups.map(([overloads, returns]) => ({ sigs: overloads.map((p) => signatureOf(name, p)), impl: defineGenerated(ns, name, overloads, returns) }));
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

/**
 * A call that returns a list of tensors: mirrored when the rule can say every output; otherwise
 * its outputs take the pending path, which needs their number (see list_length.ts). A wrong
 * count is never guessed: without one, the call is refused with what to do instead.
 */
function listCall(def: OpDef, args: readonly unknown[], self?: Tensor): Tensor[] {
  const { pos, kw } = split(args, self);
  const bound = bindOverloads(def.sigs, pos, kw);
  const wire = self ? def.methodWire : def.name;
  const tensors = tensorsOfCall(def.name, pos, kw);
  const known = tensors.every((t) => t._m !== undefined);
  const specs = known && def.meta !== undefined ? predict(def, bound, wire, sessionOf(tensors)) : PENDING;
  if (specs !== PENDING) {
    const list = Array.isArray(specs) ? specs : [specs]; // atleast_1d([t]): a tuple of one
    return invoke({ ...def, meta: () => list, outputs: list.length }, args, self) as Tensor[];
  }
  const n = listLength(def.name, bound);
  if (typeof n === 'number') return invoke({ ...def, meta: undefined, outputs: n }, args, self) as Tensor[];
  throw new ArgumentError(
    `${self ? 'Tensor.' : 'torch.'}${def.name} returns a list whose length is not known here: ${n.why}. ` +
      `${n.fix ? n.fix + ', or ' : ''}use torch.call('${def.name}', args, kwargs, { outputs: n }) when you know n`,
  );
}

function split(args: readonly unknown[], self?: Tensor): { pos: unknown[]; kw: Record<string, unknown> | undefined } {
  const last = args[args.length - 1];
  const kw = args.length > 0 && isKwargs(last) ? last : undefined;
  const pos = kw ? args.slice(0, -1) : [...args];
  return { pos: self ? [self, ...pos] : pos, kw };
}

/** A call whose result is not a tensor: run it, read the value back (a sync point). */
async function valueCall(def: OpDef, wireName: string, args: readonly unknown[], self?: Tensor): Promise<unknown> {
  const { pos, kw } = split(args, self);
  bindOverloads(def.sigs, pos, kw);
  const first = pos[0];
  const s = sessionOf(tensorsOfCall(wireName, pos, kw));
  const value = valueOf(s, wireName, pos, kw ?? null); // queued at once (the await is for its answer)
  restateChanged(s, def.name, first);
  return value;
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
