/**
 * Grad mode, tracked locally (the mirror needs it to predict requires_grad) and sent to the
 * runtime in order with the ops, so both sides always agree.
 */
let enabled = true;
let listener: ((enabled: boolean) => void) | undefined;

export function is_grad_enabled(): boolean {
  return enabled;
}

/** The current session registers here so mode changes reach its runtime in op order. */
export function onGradModeChange(fn: (enabled: boolean) => void): void {
  listener = fn;
}

function setMode(mode: boolean): void {
  if (mode === enabled) return;
  enabled = mode;
  listener?.(mode);
}

/** A mode guard: usable as `using _ = torch.no_grad()` or `torch.no_grad(() => ...)`. */
export interface GradModeGuard extends Disposable {
  restore(): void;
}

function guard(mode: boolean): GradModeGuard {
  const previous = enabled;
  setMode(mode);
  let done = false;
  const restore = () => {
    if (!done) {
      done = true;
      setMode(previous);
    }
  };
  return { restore, [Symbol.dispose]: restore };
}

function scoped<T>(mode: boolean, fn: () => T): T {
  const g = guard(mode);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    g.restore();
    throw err;
  }
  if (result instanceof Promise) return result.finally(() => g.restore()) as T;
  g.restore();
  return result;
}

export function no_grad(): GradModeGuard;
export function no_grad<T>(fn: () => T): T;
export function no_grad<T>(fn?: () => T): T | GradModeGuard {
  return fn ? scoped(false, fn) : guard(false);
}

export function enable_grad(): GradModeGuard;
export function enable_grad<T>(fn: () => T): T;
export function enable_grad<T>(fn?: () => T): T | GradModeGuard {
  return fn ? scoped(true, fn) : guard(true);
}

export function set_grad_enabled(mode: boolean): GradModeGuard;
export function set_grad_enabled<T>(mode: boolean, fn: () => T): T;
export function set_grad_enabled<T>(mode: boolean, fn?: () => T): T | GradModeGuard {
  return fn ? scoped(mode, fn) : guard(mode);
}

/**
 * torch.inference_mode: like no_grad for everything the mirror tracks (results never require
 * grad). The runtime runs the ops with grad disabled; it does not mark results as inference
 * tensors, so they may still be used in autograd later (torch would refuse that).
 */
export function inference_mode(mode?: boolean): GradModeGuard;
export function inference_mode<T>(fn: () => T): T;
export function inference_mode<T>(arg?: boolean | (() => T)): T | GradModeGuard {
  if (typeof arg === 'function') return scoped(false, arg);
  return guard(arg === false ? enabled : false);
}
