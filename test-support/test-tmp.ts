/**
 * The suite's temporary folder: every folder the tests make with os.tmpdir(), and the bnx processes
 * they start (which inherit TMPDIR), goes below it, and the global setup removes it when the suite
 * ends. Tests that kill training processes on purpose leave those processes' work folders behind, and
 * a test that fails skips its own clean-up: without this, each suite run left ~70 MB in /tmp.
 * Computed from the vitest main process's pid, so vitest.config.ts and the global setup (both run in
 * that process) agree on it.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TEST_TMP = join(tmpdir(), `bnx-tests-${process.pid}`);
