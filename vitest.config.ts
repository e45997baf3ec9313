import { defineConfig } from 'vitest/config';

// npm test: unit, golden and CLI tests. The slower integration suites against a real Slurm and sshd cluster
// run with vitest.integration.config.ts (npm run test:integration; CI runs both).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/integration/**', 'node_modules/**'],
  },
});
