/**
 * Finding the user's own Python code: `torch.init({ pythonPath: ['python', 'vendor'] })` and
 * TORCHBRIDGE_PYTHONPATH (':'-separated, like PYTHONPATH) put directories first on the runtime's
 * sys.path, so `torch.py.import('mypkg.features')` imports the user's package.
 *
 * Relative directories resolve against the client's working directory. They are sent to the
 * runtime as the first op of the session (the helper tb.sys_path), for a child runtime and a
 * served one alike; a served runtime on another host or in a container sees its own file
 * system, so a directory it does not have fails that op, and its FileNotFoundError (naming the
 * directory) surfaces at the session's first read. A served runtime's sys.path is shared by the
 * sessions it serves.
 */
import { resolve } from 'node:path';
import { ArgumentError } from '../errors.js';

/** The option's directories, then the environment's, absolute, each once. */
export function pythonPathOf(option: readonly string[] | undefined, env = process.env.TORCHBRIDGE_PYTHONPATH): string[] {
  if (option !== undefined && (!Array.isArray(option) || option.some((d) => typeof d !== 'string' || d === ''))) {
    throw new ArgumentError(`torch.init(): pythonPath takes an array of directory names, got ${JSON.stringify(option)}`);
  }
  const dirs = [...(option ?? []), ...(env ?? '').split(':').filter(Boolean)].map((d) => resolve(d));
  return [...new Set(dirs)];
}
