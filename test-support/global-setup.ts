/** Fills the suite's dataset cache once, before any test file runs; removes the suite's temporary folder after the last. */
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { TEST_TMP } from './test-tmp.js';

export default async function setup(): Promise<() => void> {
  process.env.BNX_DATA_DIR = resolve('.bnx/test-data');
  process.env.BNX_OFFLINE = '1';
  const { loadDataset } = await import('../framework/data/index.js');
  await loadDataset({ name: 'fashion-mnist' });
  await loadDataset({ name: 'mnist' });
  return () => rmSync(TEST_TMP, { recursive: true, force: true });
}
