/**
 * Every error kind torchbridge throws. One file, so the list has one home.
 *
 * - TorchError: torch itself refused (raised in the runtime, or predicted by the mirror at
 *   the call site with torch's own message). Carries Python's type, message, traceback.
 * - ArgumentError: the TS call itself is malformed (wrong argument types, unknown dtype...).
 * - DisposedError: a tensor was used after dispose().
 * - PendingMetadataError: metadata read synchronously before the runtime reported it.
 * - RuntimeStartError: no usable Python/torch, with the exact fix.
 *   - RuntimeConnectError: a served runtime could not be reached or refused this client (keys).
 * - RuntimeDiedError: the runtime process exited; pending work is lost, old handles invalid.
 *   - RuntimeLostError: the connection to a served runtime is gone (it stopped, or the link
 *     was dropped); the runtime frees the session after its grace period.
 * - MirrorMismatchError: strict mode found the local mirror disagreeing with torch (a bug).
 */

import type { PyProxy } from './py/proxy.js';

export class TorchBridgeError extends Error {
  override name = 'TorchBridgeError';
}

export interface PythonErrorInfo {
  type: string;
  message: string;
  /** the module of the exception's class ('builtins', 'mypkg.errors') */
  module?: string;
  /** runtime handle of the exception object (torch.py calls): err.pyException */
  exc?: number;
  traceback?: string;
  seq?: number;
  op?: string;
  more?: number;
}

export class TorchError extends TorchBridgeError {
  override name = 'TorchError';
  /** Python exception class name, e.g. 'RuntimeError', 'BadInput'. */
  readonly pyType: string;
  /** The class's qualified name as Python's traceback prints it: 'RuntimeError', 'mypkg.errors.BadInput'. */
  readonly pyQualifiedType: string;
  /**
   * The Python exception object, as a torch.py proxy (its attributes readable:
   * `await err.pyException.field`), for exceptions raised by torch.py calls; else undefined.
   * See torch.py.raises and torch.py.isinstance.
   */
  pyException: PyProxy | undefined;
  /** The exception's message exactly as Python formats it. */
  readonly pyMessage: string;
  /** Python traceback text (empty for errors predicted by the local mirror). */
  readonly pyTraceback: string;
  /** The torch op that failed, e.g. 'add' or '.reshape'. */
  readonly op: string | undefined;
  /** Stack of the TypeScript call that queued the failing op, when it was recorded. */
  readonly callSite: string | undefined;

  constructor(info: PythonErrorInfo, callSite?: string) {
    const more = info.more ? ` (and ${info.more} later op(s) failed too)` : '';
    const qualified = info.module && info.module !== 'builtins' && info.module !== '__main__' ? `${info.module}.${info.type}` : info.type;
    super(`${qualified}: ${info.message}${more}`);
    this.pyType = info.type;
    this.pyQualifiedType = qualified;
    this.pyException = undefined;
    this.pyMessage = info.message;
    this.pyTraceback = info.traceback ?? '';
    this.op = info.op;
    this.callSite = callSite;
    if (callSite) {
      this.stack = `${this.name}: ${this.message}\n    [${opLabel(info.op)} was queued at]\n${callSite}`;
    }
  }
}

function opLabel(op: string | undefined): string {
  if (!op) return 'torch op ?';
  if (op.startsWith('tb.')) return `torch.py call (${op})`;
  return `torch op ${op.startsWith('.') ? `Tensor${op}` : `torch.${op}`}`;
}

/** A torch-style error predicted locally: same type and text torch would raise. */
export function torchError(type: string, message: string, op?: string): TorchError {
  return new TorchError({ type, message, op });
}

export class ArgumentError extends TorchBridgeError {
  override name = 'ArgumentError';
}

export class DisposedError extends TorchBridgeError {
  override name = 'DisposedError';
}

export class PendingMetadataError extends TorchBridgeError {
  override name = 'PendingMetadataError';
}

export class MirrorMismatchError extends TorchBridgeError {
  override name = 'MirrorMismatchError';
}

export class RuntimeStartError extends TorchBridgeError {
  override name = 'RuntimeStartError';
}

export class RuntimeDiedError extends TorchBridgeError {
  override name = 'RuntimeDiedError';
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stderrTail: string;

  constructor(message: string, exitCode: number | null, signal: string | null, stderrTail: string) {
    super(message);
    this.exitCode = exitCode;
    this.signal = signal;
    this.stderrTail = stderrTail;
  }
}

export class RuntimeConnectError extends RuntimeStartError {
  override name = 'RuntimeConnectError';
}

export class RuntimeLostError extends RuntimeDiedError {
  override name = 'RuntimeLostError';

  constructor(message: string) {
    super(message, null, null, '');
  }
}
