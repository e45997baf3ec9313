import { defineConfig } from 'vitest/config';

// npm test: unit, golden and CLI tests. The slower integration suites against a real Slurm and sshd cluster
// run with vitest.integration.config.ts (npm run test:integration; CI runs both).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // test/install packs and installs the tarball (slow, and packing rebuilds dist/ under the other tests): integration config
    exclude: ['test/integration/**', 'test/install/**', 'node_modules/**'],
  },
});
