import { defineConfig } from 'vitest/config';

// npm test: unit, golden and CLI tests. The slower integration suites against a real Slurm and sshd cluster
// run with vitest.integration.config.ts (npm run test:integration; CI runs both).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/install packs and installs the tarball (slow, and packing rebuilds dist/ under the other tests): integration config
    exclude: ['test/integration/**', 'test/install/**', 'node_modules/**'],
    // Many tests run the CLI or bash; on a loaded 2-core machine one can pass vitest's 5 s default without
    // anything being wrong. The limit is there to end a hang, not to time anything (benchmarks print figures).
    testTimeout: 30_000,
  },
});
