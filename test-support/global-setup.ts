/** Fills the suite's dataset cache once, before any test file runs. */
import { resolve } from 'node:path';

export default async function setup(): Promise<void> {
  process.env.BNX_DATA_DIR = resolve('.bnx/test-data');
  process.env.BNX_OFFLINE = '1';
  const { loadDataset } = await import('../framework/data/index.js');
  await loadDataset({ name: 'fashion-mnist' });
  await loadDataset({ name: 'mnist' });
}
