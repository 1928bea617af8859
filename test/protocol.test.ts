/**
 * The wire's constants are one list (python/torchbridge_runtime/protocol.json): the TS copy is
 * generated and must be fresh, and the runtime's helpers are the ones the client names.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import torch from '../src/index.js';
import { HELPER } from '../src/transport/protocol.js';
import { root } from './fixtures/run_child.js';

describe('protocol', () => {
  it('src/generated/protocol.ts is what scripts/gen_protocol.mjs writes from protocol.json', () => {
    // exits 1 (and execFileSync throws) when stale
    expect(() => execFileSync(process.execPath, [join(root, 'scripts', 'gen_protocol.mjs'), '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it("the runtime's helper table is protocol.json's list, reported at the handshake", async () => {
    const info = await torch.init();
    expect([...info.helpers].sort()).toEqual(Object.keys(HELPER).sort());
    // and each is reachable under its wire name
    const names = await torch.py.import('torchbridge_runtime.pyobjects').HELPERS.keys();
    const listed = (await torch.py.import('builtins').sorted(names)) as unknown as string[];
    expect(listed).toEqual(Object.keys(HELPER).sort());
  });
});
