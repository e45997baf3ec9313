import { defineConfig } from 'vitest/config';

// Real back ends: each suite brings the test cluster (test/cluster/cluster.sh, root only) up fresh.
// test/install packs and installs the tarball: no cluster, but too slow (npm pack + npm install) for npm test.
export default defineConfig({
  test: {
    include: ['test/integration/**/*.test.ts', 'test/install/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 120_000,
  },
});
