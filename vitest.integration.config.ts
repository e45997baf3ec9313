import { defineConfig } from 'vitest/config';

// Real back ends: each suite brings the test cluster (test/cluster/cluster.sh, root only) up fresh.
export default defineConfig({
  test: {
    include: ['test/integration/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 240_000,
    hookTimeout: 120_000,
    // The stand-in prime-rl checkout (test/standins/make-prime-rl.mjs) is a one-commit repo whose hash has no
    // map of prime-rl's config keys: check keys against the default map, while node.sh still checks the
    // checkout against run.prime_rl_revision (src/compiler/emit/prime-rl/keys.ts MAP_OVERRIDE_ENV).
    env: { RLSTACK_PRIME_RL_MAP: '559b447' },
  },
});
