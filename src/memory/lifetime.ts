/**
 * Deterministic lifetime (DESIGN §5): dispose(), `using`, tidy() for sync and async functions
 * (scopes follow async code through AsyncLocalStorage), keep(); FinalizationRegistry is only
 * the backstop for tensors nobody disposed.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Session } from '../session/session.js';

/** What lifetime management needs from a tensor-like handle. */
export interface Owned {
  readonly id: number;
  dispose(): void;
  _kept: boolean;
  /** registered with the GC backstop */
  _registered: boolean;
  readonly _s: Session;
  readonly _disposed: boolean;
}

class Scope {
  readonly owned: Owned[] = [];
  constructor(readonly parent: Scope | undefined) {}
}

const scopes = new AsyncLocalStorage<Scope>();

// One registry per session, holding bare ids and no unregister tokens: registering that way
// costs ~0.2 µs instead of ~0.8 µs. A disposed tensor is freed again when collected; the
// runtime ignores ids it no longer has (ids are never reused).
/**
 * Called for every new handle. Inside tidy() it joins the scope, which disposes it for sure;
 * only handles that can outlive every scope pay for the GC backstop (~0.8 µs each, most of it
 * in V8's weak-cell processing).
 */
export function adopt(t: Owned): void {
  const scope = scopes.getStore();
  if (scope !== undefined) scope.owned.push(t);
  else backstop(t);
}

function backstop(t: Owned): void {
  if (t._registered || t._disposed) return;
  t._registered = true;
  const session = t._s;
  (session.finalizer ??= new FinalizationRegistry<number>((id) => session.free(id))).register(t, t.id);
}

/**
 * Run fn; every tensor created inside that is not returned (or kept) is disposed when fn
 * finishes, including when it throws. Works for async functions: the scope follows the
 * async context, so concurrent tidies do not mix.
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Scope(scopes.getStore());
  let result: T;
  try {
    result = scopes.run(scope, fn);
  } catch (err) {
    end(scope, undefined);
    throw err;
  }
  if (result instanceof Promise) {
    return result.then(
      (v) => {
        end(scope, v);
        return v;
      },
      (err) => {
        end(scope, undefined);
        throw err;
      },
    ) as T;
  }
  end(scope, result);
  return result;
}

/** Exempt a tensor from the enclosing tidy scopes; it lives until dispose() or GC. */
export function keep<T extends Owned>(t: T): T {
  t._kept = true;
  backstop(t);
  return t;
}

function end(scope: Scope, result: unknown): void {
  const returned = new Set<Owned>();
  collect(result, returned, new Set());
  const parent = scope.parent;
  for (const t of scope.owned) {
    if (t._kept) continue;
    if (!returned.has(t)) t.dispose();
    else if (parent) parent.owned.push(t);
    else backstop(t);
  }
}

function collect(v: unknown, into: Set<Owned>, seen: Set<unknown>): void {
  if (v === null || typeof v !== 'object' || seen.has(v)) return;
  seen.add(v);
  if (isOwned(v)) {
    into.add(v);
    return;
  }
  if (Array.isArray(v)) for (const x of v) collect(x, into, seen);
  else if (v instanceof Map) for (const x of v.values()) collect(x, into, seen);
  else if (Object.getPrototypeOf(v) === Object.prototype) for (const x of Object.values(v)) collect(x, into, seen);
}

function isOwned(v: object): v is Owned {
  return typeof (v as Owned).dispose === 'function' && typeof (v as Owned).id === 'number';
}
