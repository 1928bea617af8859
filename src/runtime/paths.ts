/** Where the package lives (works from src/ under tsx and from dist/ once compiled). */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Both src/runtime/ and dist/runtime/ sit two levels below the package root. */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The venv `npm run setup` creates. */
export const setupVenvPython = join(packageRoot, '.venv', 'bin', 'python');

/** The directory put on the runtime's PYTHONPATH so it always runs the matching runtime code. */
export const runtimeSourceDir = join(packageRoot, 'python');
