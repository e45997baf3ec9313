import { defineConfig } from 'vitest/config';

// Real back ends: each suite brings the test cluster (test/cluster/cluster.sh, root only) up fresh.
export default defineConfig({
  test: {
    include: ['test/integration/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 120_000,
  },
});
