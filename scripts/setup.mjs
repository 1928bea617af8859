#!/usr/bin/env node
// One-time (and idempotent, quick the second time) setup of everything torchbridge needs:
// npm dependencies, the native shared-memory addon, the compiled library (dist/), and the
// Python venv (.venv) with pinned torch for the runtime.
//
//   node scripts/setup.mjs          (what `npm run setup`, `npm test` and `npm run demo` run first)
//
// TORCHBRIDGE_SETUP_PYTHON picks the interpreter the venv is made from (default: python3).
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (msg) => console.log(`torchbridge setup: ${msg}`);
const run = (cmd, args, { quiet = false } = {}) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8' });
  if (r.status !== 0) {
    if (quiet) process.stderr.write(`${r.stdout ?? ''}${r.stderr ?? ''}`);
    console.error(`torchbridge setup: \`${cmd} ${args.join(' ')}\` failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
};
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
const newest = (dir) => {
  let m = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    m = Math.max(m, e.isDirectory() ? newest(p) : mtime(p));
  }
  return m;
};

// 1. npm dependencies (npm install also builds the addon through our install script).
const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(installed) || mtime(installed) < Math.max(mtime(lock), mtime(join(root, 'package.json')))) {
  log('installing npm dependencies');
  run('npm', ['install', '--no-audit', '--no-fund']);
} else log('npm dependencies up to date');

// 2. The native addon (no-op when up to date).
run(process.execPath, [join(root, 'scripts', 'build-addon.mjs')]);

// 3. The library itself, compiled to dist/ (what `import torch from 'torchbridge'` loads).
if (mtime(join(root, 'dist', 'index.js')) < Math.max(newest(join(root, 'src')), mtime(join(root, 'tsconfig.json')))) {
  log('compiling TypeScript to dist/');
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
} else log('dist/ up to date');

// 4. The Python venv for the runtime, keyed by a hash of the pinned requirements.
const venv = join(root, '.venv');
const venvPython = join(venv, 'bin', 'python');
const reqFile = join(root, 'python', 'requirements.txt');
// optional for the runtime (pandas, pyarrow: tables as Apache Arrow), installed for the tests
const extrasFile = join(root, 'python', 'requirements-extras.txt');
const stampFile = join(venv, '.torchbridge-requirements');
const want = createHash('sha256').update(readFileSync(reqFile)).update(readFileSync(extrasFile)).update(readFileSync(join(root, 'python', 'pyproject.toml'))).digest('hex');
const have = existsSync(stampFile) ? readFileSync(stampFile, 'utf8').trim() : '';
// the editable install of python/ also puts the `torchbridge-runtime` console script in .venv/bin
const consoleScript = join(venv, 'bin', 'torchbridge-runtime');
if (have !== want || !existsSync(venvPython) || !existsSync(consoleScript)) {
  const base = process.env.TORCHBRIDGE_SETUP_PYTHON || 'python3';
  if (!existsSync(venvPython)) {
    log(`creating the runtime venv (.venv) with ${base}`);
    run(base, ['-m', 'venv', venv]);
  }
  log('installing the runtime\'s pinned Python packages (torch is large: the first time takes a few minutes)');
  run(venvPython, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', reqFile, '-r', extrasFile]);
  run(venvPython, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '-e', join(root, 'python')], { quiet: true });
  if (!existsSync(consoleScript)) {
    console.error(`torchbridge setup: ${consoleScript} is missing after installing python/ (needs pip >= 21.3 for editable pyproject installs)`);
    process.exit(1);
  }
  writeFileSync(stampFile, want + '\n');
} else log('Python venv up to date');

// 5. Check the runtime's Python really works.
const versions = execFileSync(venvPython, ['-c', 'import torch, numpy, zmq, msgpack; print(torch.__version__)'], { encoding: 'utf8' }).trim();
log(`ready (torch ${versions} in ${venvPython})`);
