#!/usr/bin/env node
// API coverage: the share of torch's public tensor functions callable from TypeScript with typed
// signatures, per namespace. The denominator is stubs/spec.json (every public function of the
// namespace that takes or returns tensors, as the spec generator found them in torch); the
// numerator is what src/generated/ provides, plus the hand-written names (stubs/handwritten.json),
// less the list-returning functions whose length neither a mirror rule nor src/ops/list_length.ts
// can work out.
//   node scripts/api_coverage.mjs      (npm run coverage:api; needs dist/, built by setup)
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const spec = JSON.parse(readFileSync(join(root, 'stubs', 'spec.json'), 'utf8'));
const handwritten = JSON.parse(readFileSync(join(root, 'stubs', 'handwritten.json'), 'utf8'));
await import(join(root, 'dist', 'index.js')); // registers every mirror rule
const { RULES } = await import(join(root, 'dist', 'ops', 'rules.js'));
const { hasListLength } = await import(join(root, 'dist', 'ops', 'list_length.js'));
const FILES = { torch: 'torch', Tensor: 'tensor_methods', 'nn.functional': 'nn_functional', linalg: 'linalg', fft: 'fft', special: 'special' };

const rows = [];
let ok = true;
for (const [ns, file] of Object.entries(FILES)) {
  const gen = await import(join(root, 'dist', 'generated', `${file}.js`));
  const key = (n) => (ns === 'torch' || ns === 'Tensor' ? n : `${ns}.${n}`);
  const callable = new Set([...gen.GENERATED_NAMES.filter((n) => !gen.LIST_RETURNING.includes(n) || RULES.has(key(n)) || hasListLength(key(n))), ...(handwritten[ns] ?? [])]);
  const publicFns = spec.namespaces[ns].filter((e) => e.tensor_api).map((e) => e.name);
  const typed = publicFns.filter((n) => callable.has(n));
  const mirrored = publicFns.filter((n) => RULES.has(key(n)));
  const share = typed.length / publicFns.length;
  ok &&= share >= 0.95;
  rows.push({ ns: ns === 'torch' ? 'torch' : ns === 'Tensor' ? 'Tensor' : `torch.${ns}`, total: publicFns.length, typed: typed.length, share, mirrored: mirrored.length, missing: publicFns.filter((n) => !callable.has(n)) });
}
console.log(`API coverage against torch ${spec.torch_version} (stubs/spec.json)\n`);
console.log('| namespace | public tensor functions | typed in TS | share | with a mirror rule |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.ns} | ${r.total} | ${r.typed} | ${(100 * r.share).toFixed(1)}% | ${r.mirrored} |`);
for (const r of rows) if (r.missing.length) console.log(`\n${r.ns} not yet callable: ${r.missing.join(', ')}`);
process.exit(ok ? 0 : 1);
