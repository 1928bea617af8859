/**
 * torch.nn.Sequential, ModuleList, ModuleDict (torch/nn/modules/container.py). Containers keep
 * their children in an ordered Map, so names like '0', '1' keep Python's order (a JS object
 * would enumerate integer-like keys first); children are also reachable as properties
 * (`seq[0]`, `list[1]`, `seq.conv1`) except in ModuleDict, whose keys use get()/set().
 */
import type { Tensor } from '../../tensor/tensor.js';
import { ArgumentError, TorchError } from '../../errors.js';
import { Module } from '../module.js';

const indexError = (message: string): TorchError => new TorchError({ type: 'IndexError', message });

/** Children in an ordered Map, then any fields a subclass adds. */
abstract class Container extends Module {
  /** @internal */ _modules = new Map<string, Module>();

  override _members(): Iterable<[string, unknown]> {
    return [...this._modules, ...super._members()];
  }

  /** @internal a child by name, also as a non-enumerable property when asProperty */
  _put(name: string, module: Module, asProperty: boolean): void {
    if (!(module instanceof Module)) throw new ArgumentError(`${describe(module)} is not a Module subclass`);
    if (asProperty && name in this && !this._modules.has(name)) throw new ArgumentError(`attribute '${name}' already exists`);
    this._modules.set(name, module);
    if (asProperty) Object.defineProperty(this, name, { value: module, configurable: true, enumerable: false, writable: true });
  }

  /** @internal renumber children 0..n-1 after an insertion or removal, as Python does */
  _renumber(modules: Module[]): void {
    for (const k of this._modules.keys()) delete (this as Record<string, unknown>)[k];
    this._modules.clear();
    modules.forEach((m, i) => this._put(String(i), m, true));
  }

  /** Python's len(container). */
  get length(): number {
    return this._modules.size;
  }

  /** @internal an integer index as Python reads it (negative from the end) */
  _index(idx: number, what: string): number {
    const n = this._modules.size;
    if (!Number.isInteger(idx) || idx < -n || idx >= n) throw indexError(`index ${idx} is out of range`);
    void what;
    return idx < 0 ? idx + n : idx;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  return typeof v === 'object' ? ((v as object).constructor?.name ?? 'object') : typeof v;
}

/**
 * Modules applied in order: `new nn.Sequential(a, b, c)` names them '0', '1', '2';
 * `new nn.Sequential(new Map([['conv', conv], ['act', act]]))` keeps the names (Python's OrderedDict).
 */
export class Sequential extends Container {
  [index: number]: Module;

  constructor(...args: Module[] | [Map<string, Module>]) {
    super();
    const first = args[0];
    if (args.length === 1 && first instanceof Map) for (const [k, m] of first) this._put(k, m, true);
    else (args as Module[]).forEach((m, i) => this._put(String(i), m, true));
  }

  override add_module(name: string, module: Module | null): void {
    if (module === null) throw new ArgumentError('Sequential children cannot be None here');
    this._put(name, module, true);
  }

  /** The i-th module (negative from the end), like seq[i] in Python. */
  at(idx: number): Module {
    return [...this._modules.values()][this._index(idx, 'Sequential')]!;
  }

  append(module: Module): this {
    this._put(String(this._modules.size), module, true);
    return this;
  }

  extend(modules: Iterable<Module>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  insert(index: number, module: Module): this {
    const list = [...this._modules.values()];
    const n = list.length;
    if (!Number.isInteger(index) || index < -n || index > n) throw indexError(`Index out of range: ${index}`);
    list.splice(index < 0 ? index + n : index, 0, module);
    this._renumber(list);
    return this;
  }

  pop(idx: number): Module {
    const list = [...this._modules.values()];
    const [m] = list.splice(this._index(idx, 'Sequential'), 1);
    this._renumber(list);
    return m!;
  }

  [Symbol.iterator](): Iterator<Module> {
    return this._modules.values();
  }

  /** Feeds the input through every module in order. */
  override forward(input: Tensor): Tensor;
  override forward(input: unknown): unknown;
  override forward(input: unknown): unknown {
    let x = input;
    for (const m of this._modules.values()) x = (m.forward as (v: unknown) => unknown).call(m, x);
    return x;
  }
}

/** A list of modules, registered and indexed '0', '1', ... (no forward of its own). */
export class ModuleList<T extends Module = Module> extends Container {
  [index: number]: T;

  constructor(modules: Iterable<T> = []) {
    super();
    this.extend(modules);
  }

  override add_module(name: string, module: Module | null): void {
    if (module === null) throw new ArgumentError('ModuleList children cannot be None here');
    this._put(name, module, true);
  }

  /** The i-th module (negative from the end), like list[i] in Python. */
  at(idx: number): T {
    return [...this._modules.values()][this._index(idx, 'ModuleList')] as T;
  }

  append(module: T): this {
    this._put(String(this._modules.size), module, true);
    return this;
  }

  extend(modules: Iterable<T>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  insert(index: number, module: T): void {
    const list = [...this._modules.values()];
    const n = list.length;
    // Python's list.insert clamps the index
    const at = index < 0 ? Math.max(0, index + n) : Math.min(index, n);
    list.splice(at, 0, module);
    this._renumber(list);
  }

  pop(idx = -1): T {
    const list = [...this._modules.values()];
    const [m] = list.splice(this._index(idx, 'ModuleList'), 1);
    this._renumber(list);
    return m as T;
  }

  [Symbol.iterator](): Iterator<T> {
    return this._modules.values() as Iterator<T>;
  }
}

/** Modules by string key, in insertion order: get/set/has/delete, keys/values/items. */
export class ModuleDict<T extends Module = Module> extends Container {
  constructor(modules: Map<string, T> | Record<string, T> | Iterable<[string, T]> = new Map()) {
    super();
    this.update(modules);
  }

  override add_module(name: string, module: Module | null): void {
    if (module === null) throw new ArgumentError('ModuleDict values cannot be None here');
    this._put(name, module, false);
  }

  /** Python's d[key]. */
  get(key: string): T {
    const m = this._modules.get(key);
    if (m === undefined) throw new TorchError({ type: 'KeyError', message: `'${key}'` });
    return m as T;
  }

  /** Python's d[key] = module. */
  set(key: string, module: T): this {
    if (typeof key !== 'string' || key === '' || key.includes('.')) throw new ArgumentError(`module name should be a non-empty string without '.', got ${String(key)}`);
    this._put(key, module, false);
    return this;
  }

  /** Python's `key in d`. */
  has(key: string): boolean {
    return this._modules.has(key);
  }

  pop(key: string): T {
    const m = this.get(key);
    this._modules.delete(key);
    return m;
  }

  clear(): void {
    this._modules.clear();
  }

  keys(): string[] {
    return [...this._modules.keys()];
  }

  values(): T[] {
    return [...this._modules.values()] as T[];
  }

  items(): [string, T][] {
    return [...this._modules] as [string, T][];
  }

  update(modules: Map<string, T> | Record<string, T> | Iterable<[string, T]>): void {
    const entries =
      modules instanceof Map ? modules.entries() : Symbol.iterator in Object(modules) ? (modules as Iterable<[string, T]>) : Object.entries(modules);
    for (const [k, m] of entries) this.set(k, m);
  }

  [Symbol.iterator](): Iterator<string> {
    return this._modules.keys();
  }
}
