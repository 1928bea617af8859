import { defineConfig } from 'vitest/config';

// Every test file talks to a real Python runtime (real torch); on a 2-core machine
// a couple of files at a time keeps startup (torch import) from starving the rest.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    // Strict mode: the runtime reports every mirrored result and the client checks the mirror.
    env: { TORCHBRIDGE_STRICT: '1' },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
