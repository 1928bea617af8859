/** What the orchestrator hands every case: the interpreter and the shared baselines. */
import type { Echo } from './echo/client.js';
import type { Pythonia } from './baselines/pythonia.js';
import type { Row } from './table.js';

export interface Context {
  /** The runtime's Python (torch.init().python): used for every Python-side baseline. */
  python: string;
  echo: Echo;
  /** pythonia, or why it could not be started. */
  pythonia: Pythonia | Error;
}

/** What a case gives back: its table rows and any remarks for below the table. */
export interface CaseResult {
  rows: Row[];
  notes?: string[];
}
