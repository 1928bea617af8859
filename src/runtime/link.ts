/**
 * Where a session's runtime is: a child process (RuntimeProcess) or a runtime served on its
 * own that the client connects to. The session above talks through this and nothing else.
 */
import type { OnFailure, OnMessage, Transport } from '../transport/transport.js';

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** Last lines the runtime wrote to stderr (a child's; empty for a served runtime). */
  stderrTail: string;
  /** Set when the exit means "this Python cannot run the runtime", with the fix. */
  startProblem?: string;
  /** Set when the runtime is not gone but out of reach (a served runtime's lost connection). */
  lost?: string;
  /** Set when a served runtime could not be reached or refused this client, with the fix. */
  connectProblem?: string;
}

export interface RuntimeLink {
  /** The runtime's process id where it is a child of this process. */
  readonly pid: number | undefined;
  /** The ops connection (one per link). */
  openOps(onMessage: OnMessage, onFailure: OnFailure): Transport;
  /** The control connection: served by its own runtime thread, never queued behind ops. */
  openControl(onMessage: OnMessage, onFailure: OnFailure): Transport;
  /** A child: send it a signal. A served runtime: drop the connection. */
  kill(signal?: NodeJS.Signals): void;
  /**
   * The runtime has run this session's SHUTDOWN. A child exits by itself (no method); a served
   * runtime goes on serving others, so its link closes and reports the end.
   */
  ended?(): void;
}
