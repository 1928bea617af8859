/** The process-wide current session: started lazily on first use, replaced by init(). */
import { Session, type RuntimeInfo, type SessionOptions } from './session.js';
import { is_grad_enabled, onGradModeChange } from '../autograd/grad_mode.js';

let current: Session | undefined;
let defaults: SessionOptions = {};

function start(opts: SessionOptions): Session {
  const s = new Session(opts);
  if (!is_grad_enabled()) s.call(null, 'set_grad_enabled', [false], null);
  current = s;
  return s;
}

onGradModeChange((mode) => {
  if (current?.alive) current.call(null, 'set_grad_enabled', [mode], null);
});

/**
 * The session new tensors are created in. After the runtime dies it stays the dead session
 * (so calls say so) until init() starts a fresh one.
 */
export function currentSession(): Session {
  return current ?? start(defaults);
}

export function hasSession(): boolean {
  return current !== undefined;
}

/** Start the runtime now (or reuse a live one) and return its info. */
export async function init(opts?: SessionOptions): Promise<RuntimeInfo> {
  if (opts) defaults = opts;
  if (!current || !current.alive) start(defaults);
  return current!.ready;
}

/** Run everything queued, stop the runtime, and wait for it to exit. */
export async function shutdown(): Promise<void> {
  const s = current;
  current = undefined;
  if (s) await s.shutdown();
}
