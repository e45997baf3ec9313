import { defineConfig } from 'vitest/config';

// Real back ends: the test cluster (test/cluster/cluster.sh, root only) is brought up once for the run.
export default defineConfig({
  test: {
    include: ['test/integration/**/*.test.ts'],
    globalSetup: ['test/integration/cluster-setup.ts'],
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 120_000,
  },
});
