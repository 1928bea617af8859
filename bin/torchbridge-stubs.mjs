#!/usr/bin/env node
/**
 * torchbridge-stubs MODULE... [--out DIR] [--pythonPath DIR]...
 *
 * Generates `.d.ts` stubs for Python modules so that `torch.py.import('mypkg.features')` is typed
 * (python/torchbridge_runtime/stubs.py does the work). It runs the Python the runtime would run
 * (src/runtime/python.ts: TORCHBRIDGE_PYTHON, else the setup venv), with the same directories on
 * its path as the runtime gets (--pythonPath, TORCHBRIDGE_PYTHONPATH; relative to the cwd), so the
 * modules import exactly as `torch.py.import` will import them. Plain JS: it works from a fresh
 * clone before anything is compiled, and from an installed package.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const venvPython = join(packageRoot, '.venv', 'bin', 'python');

const USAGE = `usage: torchbridge-stubs MODULE [MODULE...] [--out DIR] [--pythonPath DIR]... [--python PYTHON]

Writes DIR/<module>.d.ts (default DIR: typings) for each Python module. Include DIR in your
tsconfig; torch.py.import('<module>') is then typed.
  --pythonPath DIR   put DIR on Python's sys.path (repeatable; also TORCHBRIDGE_PYTHONPATH)
  --python PYTHON    the Python to run (default: TORCHBRIDGE_PYTHON, else torchbridge's setup venv)`;

function fail(message, code = 2) {
  process.stderr.write(`torchbridge-stubs: ${message}\n`);
  process.exit(code);
}

const passOn = [];
const modules = [];
const pathDirs = [];
let python;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
  if (flag === '--pythonPath' || flag === '--python') {
    const v = inline ?? argv[++i];
    if (v === undefined || v === '') fail(`${flag} needs a value\n${USAGE}`);
    if (flag === '--python') python = v;
    else pathDirs.push(...v.split(delimiter).filter(Boolean));
  } else if (flag === '--out') {
    const v = inline ?? argv[++i];
    if (v === undefined || v === '') fail(`--out needs a directory\n${USAGE}`);
    passOn.push('--out', v);
  } else if (flag === '-h' || flag === '--help') {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  } else if (a.startsWith('-')) {
    fail(`unknown option ${a}\n${USAGE}`);
  } else {
    modules.push(a);
    passOn.push(a);
  }
}
if (modules.length === 0) fail(`name at least one module\n${USAGE}`);

python ??= process.env.TORCHBRIDGE_PYTHON || (existsSync(venvPython) ? venvPython : undefined);
if (!python) {
  fail(
    `no Python was found (no --python, no TORCHBRIDGE_PYTHON, no ${venvPython}). Run \`npm run setup\` in the torchbridge package, ` +
      'or set TORCHBRIDGE_PYTHON to the Python your runtime uses.',
    1,
  );
}

const userDirs = [...pathDirs, ...(process.env.TORCHBRIDGE_PYTHONPATH ?? '').split(delimiter).filter(Boolean)].map((d) => resolve(d));
const PYTHONPATH = [join(packageRoot, 'python'), ...userDirs, process.env.PYTHONPATH].filter(Boolean).join(delimiter);
const run = spawnSync(python, ['-m', 'torchbridge_runtime.stubs', ...passOn], { stdio: 'inherit', env: { ...process.env, PYTHONPATH } });
if (run.error) fail(`cannot run ${python}: ${run.error.message}`, 1);
process.exit(run.status ?? 1);
