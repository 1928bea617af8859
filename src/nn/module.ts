/**
 * torch.nn.Module in TypeScript. Subclasses assign layers, parameters and buffers as fields;
 * they are discovered without any registration call, in assignment order (which is Python's
 * registration order): Module values are children, Parameter values parameters, other Tensor
 * values buffers. Fields whose names start with '_' and non-tensor values are ignored; a field
 * set to null (Python's `self.bias = None`) holds nothing.
 *
 * Key order caveat: JS enumerates integer-like field names ('0', '1', ...) before the others.
 * Containers (Sequential, ModuleList, ModuleDict) keep their own order; a plain module should
 * not mix integer-like member names with others.
 */
import { Tensor } from '../tensor/tensor.js';
import type { DType } from '../tensor/dtype.js';
import { DType as DTypeClass, float16, float32, float64, bfloat16 } from '../tensor/dtype.js';
import { Parameter } from './parameter.js';
import { no_grad } from '../autograd/grad_mode.js';
import { ArgumentError, TorchError } from '../errors.js';
import { sessionOf } from '../ops/dispatch.js';
import { isKwargs } from '../ops/signature.js';
import '../ops/index.js';
import { HELPER } from '../transport/protocol.js';

/** An ordered state dict: iteration order is PyTorch's (see Module.state_dict). */
export type StateDict = Record<string, Tensor>;

export interface IncompatibleKeys {
  missing_keys: string[];
  unexpected_keys: string[];
}

/** Python's repr of a shape, for messages: torch.Size([3, 2]). */
const sizeRepr = (shape: readonly number[]): string => `torch.Size([${shape.join(', ')}])`;

export class Module {
  /** Python's `training` flag: train() / eval() set it on every submodule. */
  training = true;
  /** @internal names of buffers left out of state_dict (register_buffer(..., persistent=false)) */
  _non_persistent: Set<string> | undefined;

  /** The computation; subclasses define it with their own signature. */
  forward(..._args: unknown[]): unknown {
    throw new TorchError({ type: 'NotImplementedError', message: `Module [${this.constructor.name}] is missing the required "forward" function` });
  }

  /**
   * @internal this module's own members in registration order, as [name, value]. The default
   * reads the instance's fields; containers override it to keep their own order.
   */
  _members(): Iterable<[string, unknown]> {
    return Object.entries(this).filter(([k]) => !k.startsWith('_'));
  }

  // -- registration, for parity with Python (fields do the same) -------------------------------

  register_parameter(name: string, param: Parameter | null): void {
    checkName(this, 'parameter', name);
    if (param !== null && !(param instanceof Parameter)) {
      throw new ArgumentError(`cannot assign '${describeValue(param)}' object to parameter '${name}' (torch.nn.Parameter or None required)`);
    }
    (this as Record<string, unknown>)[name] = param;
  }

  register_buffer(name: string, tensor: Tensor | null, persistent = true): void {
    checkName(this, 'buffer', name);
    if (tensor !== null && !(tensor instanceof Tensor)) {
      throw new ArgumentError(`cannot assign '${describeValue(tensor)}' object to buffer '${name}' (torch Tensor or None required)`);
    }
    (this as Record<string, unknown>)[name] = tensor;
    if (persistent) this._non_persistent?.delete(name);
    else (this._non_persistent ??= new Set()).add(name);
  }

  add_module(name: string, module: Module | null): void {
    checkName(this, 'module', name);
    if (module !== null && !(module instanceof Module)) throw new ArgumentError(`${describeValue(module)} is not a Module subclass`);
    (this as Record<string, unknown>)[name] = module;
  }

  register_module(name: string, module: Module | null): void {
    this.add_module(name, module);
  }

  /** The submodule at a dotted path ('encoder.layers.0'). */
  get_submodule(target: string): Module {
    if (target === '') return this;
    let mod: Module = this;
    for (const item of target.split('.')) {
      const child = mod.named_children().find(([n]) => n === item)?.[1];
      if (child === undefined) throw new TorchError({ type: 'AttributeError', message: `${mod.constructor.name} has no attribute \`${item}\`` });
      mod = child;
    }
    return mod;
  }

  // -- traversal -----------------------------------------------------------------------------

  /** [name, module] of the direct children. */
  named_children(): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    for (const [k, v] of this._members()) {
      if (v instanceof Module && !seen.has(v)) {
        seen.add(v);
        out.push([k, v]);
      }
    }
    return out;
  }

  children(): Module[] {
    return this.named_children().map(([, m]) => m);
  }

  /** [name, module] of this module and every descendant, depth first ('' is this module). */
  named_modules(...args: [memo?: Set<Module> | null, prefix?: string, remove_duplicate?: boolean] | [{ memo?: Set<Module> | null; prefix?: string; remove_duplicate?: boolean }]): [string, Module][] {
    const o = positional(args, ['memo', 'prefix', 'remove_duplicate'], 'named_modules');
    const memo = (o.memo as Set<Module> | null | undefined) ?? new Set<Module>();
    const prefix = (o.prefix as string | undefined) ?? '';
    const removeDuplicate = (o.remove_duplicate as boolean | undefined) ?? true;
    const out: [string, Module][] = [];
    const walk = (m: Module, p: string): void => {
      if (removeDuplicate) {
        if (memo.has(m)) return;
        memo.add(m);
      }
      out.push([p, m]);
      for (const [name, child] of m._ownChildren()) walk(child, p ? `${p}.${name}` : name);
    };
    walk(this, prefix);
    return out;
  }

  modules(): Module[] {
    return this.named_modules().map(([, m]) => m);
  }

  /** @internal children including repeats of the same module under several names */
  _ownChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [k, v] of this._members()) if (v instanceof Module) out.push([k, v]);
    return out;
  }

  /** @internal own parameters (non-null), in order */
  _ownParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [k, v] of this._members()) if (v instanceof Parameter) out.push([k, v]);
    return out;
  }

  /** @internal own buffers (non-null tensors that are not parameters), in order */
  _ownBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, v] of this._members()) if (v instanceof Tensor && !(v instanceof Parameter)) out.push([k, v]);
    return out;
  }

  private namedMembers<T>(get: (m: Module) => [string, T][], prefix: string, recurse: boolean, removeDuplicate: boolean): [string, T][] {
    const mods: [string, Module][] = recurse ? this.named_modules(null, prefix, removeDuplicate) : [[prefix, this]];
    const seen = new Set<T>();
    const out: [string, T][] = [];
    for (const [mp, m] of mods) {
      for (const [k, v] of get(m)) {
        if (removeDuplicate) {
          if (seen.has(v)) continue;
          seen.add(v);
        }
        out.push([mp ? `${mp}.${k}` : k, v]);
      }
    }
    return out;
  }

  /** [name, parameter] like Python ('fc1.weight'); shared parameters appear once. */
  named_parameters(...args: [prefix?: string, recurse?: boolean, remove_duplicate?: boolean] | [{ prefix?: string; recurse?: boolean; remove_duplicate?: boolean }]): [string, Parameter][] {
    const o = positional(args, ['prefix', 'recurse', 'remove_duplicate'], 'named_parameters');
    return this.namedMembers((m) => m._ownParameters(), (o.prefix as string) ?? '', (o.recurse as boolean) ?? true, (o.remove_duplicate as boolean) ?? true);
  }

  parameters(...args: [recurse?: boolean] | [{ recurse?: boolean }]): Parameter[] {
    const o = positional(args, ['recurse'], 'parameters');
    return this.named_parameters('', (o.recurse as boolean) ?? true).map(([, p]) => p);
  }

  named_buffers(...args: [prefix?: string, recurse?: boolean, remove_duplicate?: boolean] | [{ prefix?: string; recurse?: boolean; remove_duplicate?: boolean }]): [string, Tensor][] {
    const o = positional(args, ['prefix', 'recurse', 'remove_duplicate'], 'named_buffers');
    return this.namedMembers((m) => m._ownBuffers(), (o.prefix as string) ?? '', (o.recurse as boolean) ?? true, (o.remove_duplicate as boolean) ?? true);
  }

  buffers(...args: [recurse?: boolean] | [{ recurse?: boolean }]): Tensor[] {
    const o = positional(args, ['recurse'], 'buffers');
    return this.named_buffers('', (o.recurse as boolean) ?? true).map(([, b]) => b);
  }

  // -- modes and flags -------------------------------------------------------------------------

  /** Set training mode here and in every submodule (Dropout and BatchNorm read it). */
  train(mode = true): this {
    if (typeof mode !== 'boolean') throw new ArgumentError('training mode is expected to be boolean');
    this.training = mode;
    for (const child of this.children()) child.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Set requires_grad of every parameter (freezing or unfreezing the module). */
  requires_grad_(requires_grad = true): this {
    for (const p of this.parameters()) p.requires_grad_(requires_grad);
    return this;
  }

  /**
   * Reset the gradients of every parameter: to null by default (Python 2.x's
   * set_to_none=True), or to zeros in place.
   */
  zero_grad(set_to_none = true): this {
    for (const p of this.parameters()) {
      const g = gradOf(p);
      if (g === null || g === undefined) continue;
      if (set_to_none) (p as unknown as { grad: Tensor | null }).grad = null;
      else {
        // Python detaches a grad that has a history, else drops its requires_grad, then zeros it
        no_grad(() => (g.requires_grad && !g.is_leaf ? g.detach_() : g.requires_grad ? g.requires_grad_(false) : g).zero_());
      }
    }
    return this;
  }

  /** Call fn on every submodule (children first) and then on this module, like Python. */
  apply(fn: (m: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  // -- conversion ------------------------------------------------------------------------------

  /**
   * Move and/or cast parameters and buffers in place: `to('cuda')`, `to(torch.float64)`,
   * `to('cuda', torch.float16)`, `to({device, dtype})`. Like Python, dtype applies to floating
   * tensors only, and the same Tensor objects keep serving (their data is replaced in the
   * runtime, as `param.data = param.data.to(...)` does), so optimizers holding them stay valid.
   */
  to(...args: [device: string, dtype?: DType | null] | [dtype: DType] | [{ device?: string | null; dtype?: DType | null; non_blocking?: boolean }]): this {
    let device: string | null = null;
    let dtype: DType | null = null;
    let nonBlocking = false;
    const [a, b] = args;
    if (a instanceof DTypeClass) dtype = a;
    else if (typeof a === 'string') {
      device = a;
      dtype = (b as DType | null | undefined) ?? null;
    } else if (isKwargs(a)) {
      device = (a.device as string | null | undefined) ?? null;
      dtype = (a.dtype as DType | null | undefined) ?? null;
      nonBlocking = (a.non_blocking as boolean | undefined) ?? false;
    } else throw new ArgumentError('Module.to() expects a device, a dtype, or {device, dtype}');
    if (dtype !== null && dtype.category !== 'float' && dtype.category !== 'complex') {
      throw new ArgumentError(`nn.Module.to only accepts floating point or complex dtypes, but got desired dtype=${dtype}`);
    }
    return this._apply((t) => {
      const floating = t.dtype.category === 'float' || t.dtype.category === 'complex';
      const want = floating && dtype !== t.dtype ? dtype : null;
      if ((device === null || device === t.device) && want === null) return t;
      // only the arguments that are set: to(null, ...) would leave the mirror guessing
      if (device === null) return t.to(want!, nonBlocking);
      return want === null ? t.to(device, { non_blocking: nonBlocking }) : t.to(device, want, nonBlocking);
    });
  }

  cuda(device?: number | string): this {
    return this.to(device === undefined ? 'cuda' : typeof device === 'number' ? `cuda:${device}` : device);
  }
  cpu(): this {
    return this.to('cpu');
  }
  float(): this {
    return this.castFloating(float32);
  }
  double(): this {
    return this.castFloating(float64);
  }
  half(): this {
    return this.castFloating(float16);
  }
  bfloat16(): this {
    return this.castFloating(bfloat16);
  }

  private castFloating(dtype: DType): this {
    return this._apply((t) => (t.dtype.category === 'float' && t.dtype !== dtype ? t.to(dtype) : t));
  }

  /**
   * @internal replace the data of every parameter, buffer (and gradient) by fn(data), keeping
   * the same TS handles: the runtime runs `t.data = fn(t)` and the mirror takes the new
   * metadata.
   */
  _apply(fn: (t: Tensor) => Tensor): this {
    const tensors: Tensor[] = [];
    for (const m of this.modules()) {
      for (const [, p] of m._ownParameters()) {
        tensors.push(p);
        const g = gradOf(p);
        if (g) tensors.push(g);
      }
      for (const [, b] of m._ownBuffers()) tensors.push(b);
    }
    const done = new Set<Tensor>();
    no_grad(() => {
      for (const t of tensors) {
        if (done.has(t)) continue;
        done.add(t);
        const converted = fn(t);
        if (converted === t) continue;
        replaceData(t, converted);
      }
    });
    for (const m of this.modules()) m._afterApply();
    return this;
  }

  /** @internal what a module does once _apply has converted its tensors (RNNs repack their weights) */
  _afterApply(): void {}

  // -- state -----------------------------------------------------------------------------------

  /**
   * Parameters and persistent buffers by PyTorch's keys ('fc1.weight', 'bn.running_mean',
   * 'layers.0.bias'), in PyTorch's order. A plain object whose iteration order is that order
   * (keys always contain a '.' or a name, never a bare integer, so JS keeps insertion order;
   * the one exception would be a parameter registered directly under an integer-like name).
   * Values are the module's own tensors, detached unless keep_vars (as in Python).
   */
  state_dict(...args: [{ prefix?: string; keep_vars?: boolean }?]): StateDict {
    const o = args[0] ?? {};
    if (!isKwargs(o)) throw new ArgumentError('state_dict() takes keyword arguments only: state_dict({prefix, keep_vars})');
    const prefix = o.prefix ?? '';
    const keepVars = o.keep_vars ?? false;
    const out: StateDict = {};
    const walk = (m: Module, p: string): void => {
      for (const [k, v] of m._ownParameters()) out[p + k] = keepVars ? v : v.detach();
      for (const [k, v] of m._ownBuffers()) {
        if (m._non_persistent?.has(k)) continue;
        out[p + k] = keepVars ? v : v.detach();
      }
      for (const [k, child] of m._ownChildren()) walk(child, `${p}${k}.`);
    };
    walk(this, prefix);
    return out;
  }

  /**
   * Copy parameters and buffers from a state dict (an object or a Map) in place, under
   * no_grad. Returns {missing_keys, unexpected_keys}; with strict (the default) either one
   * raises Python's RuntimeError, as does any shape mismatch.
   */
  load_state_dict(state_dict: StateDict | Map<string, Tensor>, ...args: [strict?: boolean, assign?: boolean] | [{ strict?: boolean; assign?: boolean }]): IncompatibleKeys {
    const o = positional(args, ['strict', 'assign'], 'load_state_dict');
    const strict = (o.strict as boolean | undefined) ?? true;
    if (o.assign) throw new ArgumentError('load_state_dict(): assign=True is not supported; tensors are copied in place');
    const entries = state_dict instanceof Map ? [...state_dict.entries()] : isKwargs(state_dict) ? Object.entries(state_dict) : null;
    if (entries === null) throw new ArgumentError(`Expected state_dict to be dict-like, got ${describeValue(state_dict)}.`);
    const sd = new Map(entries);
    const missing: string[] = [];
    const unexpected: string[] = [];
    const errors: string[] = [];
    const load = (m: Module, prefix: string): void => {
      const local = new Map<string, Tensor>(m._ownParameters());
      for (const [k, v] of m._ownBuffers()) if (!m._non_persistent?.has(k)) local.set(k, v);
      for (const [name, param] of local) {
        const key = prefix + name;
        const input = sd.get(key);
        if (input === undefined) {
          missing.push(key);
          continue;
        }
        if (!(input instanceof Tensor)) {
          errors.push(`While copying the parameter named "${key}", expected torch.Tensor or Tensor-like object from checkpoint but received ${describeValue(input)}`);
          continue;
        }
        let src = input;
        if (param.ndim === 0 && src.ndim === 1) src = src.select(0, 0); // Python's 0.3 compatibility rule
        if (!sameShape(src.shape, param.shape)) {
          errors.push(`size mismatch for ${key}: copying a param with shape ${sizeRepr(src.shape)} from checkpoint, the shape in current model is ${sizeRepr(param.shape)}.`);
          continue;
        }
        no_grad(() => param.copy_(src));
      }
      const children = new Set(m._ownChildren().map(([k]) => k));
      for (const key of sd.keys()) {
        if (!key.startsWith(prefix)) continue;
        const rest = key.slice(prefix.length);
        const dot = rest.indexOf('.');
        if (dot >= 0 ? !children.has(rest.slice(0, dot)) : !local.has(rest)) unexpected.push(key);
      }
      for (const [k, child] of m._ownChildren()) load(child, `${prefix}${k}.`);
    };
    load(this, '');
    if (strict) {
      if (unexpected.length > 0) errors.unshift(`Unexpected key(s) in state_dict: ${unexpected.map((k) => `"${k}"`).join(', ')}. `);
      if (missing.length > 0) errors.unshift(`Missing key(s) in state_dict: ${missing.map((k) => `"${k}"`).join(', ')}. `);
    }
    if (errors.length > 0) {
      throw new TorchError({ type: 'RuntimeError', message: `Error(s) in loading state_dict for ${this.constructor.name}:\n\t${errors.join('\n\t')}` });
    }
    return { missing_keys: missing, unexpected_keys: unexpected };
  }

  // -- printing --------------------------------------------------------------------------------

  /** Python's extra_repr: the constructor arguments shown by toString(). */
  extra_repr(): string {
    return '';
  }

  /** Python's repr(module): the module tree with each layer's extra_repr. */
  toString(): string {
    const extra = this.extra_repr();
    const kids = this.named_children().map(([k, m]) => `(${k}): ${m.toString().split('\n').join('\n  ')}`);
    const lines = [...(extra ? extra.split('\n') : []), ...kids];
    const name = this.constructor.name;
    if (kids.length === 0) return `${name}(${extra})`;
    return `${name}(\n  ${lines.join('\n  ')}\n)`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** Python-style optional positionals or one keyword object, as {name: value}. */
function positional(args: readonly unknown[], names: readonly string[], method: string): Record<string, unknown> {
  if (args.length === 1 && isKwargs(args[0])) {
    for (const k of Object.keys(args[0])) if (!names.includes(k)) throw new ArgumentError(`${method}() got an unexpected keyword argument '${k}'`);
    return args[0];
  }
  if (args.length > names.length) throw new ArgumentError(`${method}() takes at most ${names.length} argument(s) but ${args.length} were given`);
  return Object.fromEntries(args.map((v, i) => [names[i]!, v]));
}

function checkName(m: Module, what: string, name: string): void {
  if (typeof name !== 'string') throw new ArgumentError(`${what} name should be a string. Got ${describeValue(name)}`);
  if (name === '') throw new ArgumentError(`${what} name can't be empty string ""`);
  if (name.includes('.')) throw new ArgumentError(`${what} name can't contain "."`);
  if (name in m && !Object.prototype.hasOwnProperty.call(m, name)) throw new ArgumentError(`attribute '${name}' already exists`);
}

function describeValue(v: unknown): string {
  if (v === null) return 'None';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The gradient of p where the Tensor autograd API provides one (undefined before it does). */
function gradOf(p: Tensor): Tensor | null | undefined {
  return (p as unknown as { grad?: Tensor | null }).grad;
}

/** In the runtime `t.data = src`; here t takes src's metadata (same handle). src is disposed. */
function replaceData(t: Tensor, src: Tensor): void {
  const s = sessionOf([t, src]);
  s.call(null, HELPER.setattr, [t, 'data', src], null, 0, true);
  const m = src._m;
  if (m !== undefined && t._m !== undefined) t._setMeta({ ...t._m, shape: m.shape, dtype: m.dtype, device: m.device });
  else t._setMeta(undefined);
  src.dispose();
}
