/** Which Python runs the runtime: explicit option, then TORCHBRIDGE_PYTHON, then the setup venv. */
import { existsSync } from 'node:fs';
import { RuntimeStartError } from '../errors.js';
import { setupVenvPython } from './paths.js';

export const FIX_HINT =
  'Run `npm run setup` in the torchbridge package (it creates .venv with torch), ' +
  'or set TORCHBRIDGE_PYTHON to a Python that has torch>=2, numpy, pyzmq and msgpack installed.';

export function resolvePython(explicit?: string): { python: string; source: string } {
  if (explicit) return { python: explicit, source: 'the `python` option' };
  const env = process.env.TORCHBRIDGE_PYTHON;
  if (env) return { python: env, source: 'TORCHBRIDGE_PYTHON' };
  if (existsSync(setupVenvPython)) return { python: setupVenvPython, source: 'the setup venv' };
  throw new RuntimeStartError(`No Python with torch was found (no TORCHBRIDGE_PYTHON, no ${setupVenvPython}). ${FIX_HINT}`);
}
