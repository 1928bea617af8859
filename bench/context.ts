/** What the orchestrator hands every case: the interpreter and the shared baselines. */
import type { Echo } from './echo/client.js';
import type { Pythonia } from './baselines/pythonia.js';

export interface Context {
  /** The runtime's Python (torch.init().python): used for every Python-side baseline. */
  python: string;
  echo: Echo;
  /** pythonia, or why it could not be started. */
  pythonia: Pythonia | Error;
}
