#!/usr/bin/env node
// Builds torchbridge's shared-memory addon (native/shm.cc -> build/Release/torchbridge_shm.node)
// with node-gyp, against the headers of the Node that runs this script.
//
//   node scripts/build-addon.mjs [--force]
//
// Runs on `npm install` (package.json "install"). Skips the build when the addon is newer than
// its sources, unless --force. Prints one line; exits non-zero when the build fails.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const addon = join(root, 'build', 'Release', 'torchbridge_shm.node');
const sources = [join(root, 'native', 'shm.cc'), join(root, 'binding.gyp')];
const force = process.argv.slice(2).includes('--force');
const rel = (p) => p.slice(root.length + 1);

function fail(message) {
  console.error(`torchbridge: shared-memory addon build failed: ${message}`);
  process.exit(1);
}

if (!force && existsSync(addon)) {
  const built = statSync(addon).mtimeMs;
  if (sources.every((s) => existsSync(s) && statSync(s).mtimeMs <= built)) {
    console.log(`torchbridge: ${rel(addon)} is up to date (skipped build; --force to rebuild)`);
    process.exit(0);
  }
}

// node-gyp: this package's own copy, else wherever Node resolves it from here (hoisted
// installs), else the copy npm bundles and names in npm_config_node_gyp during `npm install`.
let nodeGyp = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
if (!existsSync(nodeGyp)) {
  try {
    nodeGyp = createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    const fromNpm = process.env.npm_config_node_gyp;
    if (fromNpm && existsSync(fromNpm)) nodeGyp = fromNpm;
    else fail('node-gyp is not installed (it is a devDependency: run `npm install`)');
  }
}

// Build against the installed headers of this Node: node-gyp cannot download them offline.
const args = [nodeGyp, 'rebuild'];
const nodeDir = dirname(dirname(process.execPath));
const hasHeaders = existsSync(join(nodeDir, 'include', 'node', 'node_api.h'));
if (hasHeaders) args.push(`--nodedir=${nodeDir}`);

const started = Date.now();
const result = spawnSync(process.execPath, args, {
  cwd: root,
  encoding: 'utf8',
  // binding.gyp runs `node -p ...`: make sure it finds this same Node.
  env: { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` },
});
if (result.error) fail(`could not run node-gyp: ${result.error.message}`);
if (result.status !== 0 || !existsSync(addon)) {
  process.stderr.write(result.stdout ?? '');
  process.stderr.write(result.stderr ?? '');
  fail(
    `node-gyp rebuild exited with ${result.status ?? result.signal}` +
      (hasHeaders ? ` (headers from ${nodeDir})` : ' (node-gyp default headers)') +
      '; a C++ compiler, make and python3 are required',
  );
}
const seconds = ((Date.now() - started) / 1000).toFixed(1);
const headers = hasHeaders ? `headers from ${nodeDir}` : 'node-gyp default headers';
console.log(`torchbridge: built ${rel(addon)} in ${seconds}s (${headers})`);
