/**
 * From raw bytes to the float tensors a model trains on, following the study's dataset config:
 *   1. subset: keep the first N of a fixed seeded permutation of each split (fixed seed, independent of
 *      the run seed, so every run of a study sees the same examples); kept in original order;
 *   2. validation: hold out round(fraction x n) of the (subset) train examples, drawn with
 *      `validation.seed` (again independent of the run seed); both parts keep original order;
 *   3. value = (pixel / scale - mean[c]) / std[c] (pixels.ts, the one rule), through a 256-entry table
 *      per channel, applied row by row as rows are copied into a batch (rows.ts): the prepared data is
 *      the dataset's bytes, the table and the chosen indices, never a float copy of the set.
 */
import type { DatasetConfig } from '../config/index.js';
import { UserError } from '../util/errors.js';
import { permutation, rngFor } from '../util/random.js';
import { pixelValue, type Preprocessing } from './pixels.js';
import { ByteRows } from './rows.js';
import type { Dataset, Prepared, Split } from './types.js';

/** The fixed seed of `subset` draws. Changing it changes which examples every smoke test uses. */
const SUBSET_SEED = 0;

/** The dataset config's preprocessing: what training applies and the exporter records in the model. */
export function preprocessingOf(cfg: Pick<DatasetConfig, 'scale' | 'normalize'>): Preprocessing {
  return { scale: cfg.scale, ...(cfg.normalize ? { mean: cfg.normalize.mean, std: cfg.normalize.std } : {}) };
}

/** One Float32 per byte value per channel: the whole preprocessing as a lookup. */
export function pixelTable(scale: number, channels: number, normalize?: { mean: number[]; std: number[] }): Float32Array {
  if (normalize) {
    for (const [key, arr] of [['mean', normalize.mean], ['std', normalize.std]] as const) {
      if (arr.length !== 1 && arr.length !== channels) {
        throw new UserError(`dataset.normalize.${key} has ${arr.length} values; the data has ${channels} channel${channels === 1 ? '' : 's'}`, [
          `give one value per channel (or a single value for all)`,
        ]);
      }
    }
  }
  const table = new Float32Array(256 * channels);
  const p = preprocessingOf({ scale, normalize });
  for (let c = 0; c < channels; c++) for (let v = 0; v < 256; v++) table[c * 256 + v] = pixelValue(v, c, p);
  return table;
}

/** Indices of the first `n` of a fixed permutation, sorted; all indices when n is absent. */
function subsetIndices(count: number, n: number | undefined, purpose: string): Uint32Array {
  if (n === undefined || n >= count) return Uint32Array.from({ length: count }, (_, i) => i);
  return permutation(count, rngFor(SUBSET_SEED, purpose)).slice(0, n).sort();
}

/**
 * The rows `idx` of a split, over the split's own bytes (shared, not copied: a job holds the dataset
 * once, as bytes); only the labels are gathered. All of the split in order needs no index.
 */
function rowsOf(split: Split, idx: Uint32Array, pixels: number, channels: number, table: Float32Array): ByteRows {
  if (idx.length === split.count && idx.every((v, k) => v === k)) {
    return new ByteRows(split.images, split.labels.subarray(0, split.count), pixels, table, channels);
  }
  const labels = new Uint8Array(idx.length);
  for (let k = 0; k < idx.length; k++) labels[k] = split.labels[idx[k]!]!;
  return new ByteRows(split.images, labels, pixels, table, channels, idx);
}

export function prepareData(ds: Dataset, cfg: DatasetConfig, layout: 'flat' | 'image'): Prepared {
  const pixels = ds.height * ds.width * ds.channels;
  const table = pixelTable(cfg.scale, ds.channels, cfg.normalize);
  let trainIdx = subsetIndices(ds.train.count, cfg.subset?.train, 'dataset.subset.train');
  const testIdx = subsetIndices(ds.test.count, cfg.subset?.test, 'dataset.subset.test');

  let valIdx: Uint32Array | undefined;
  if (cfg.validation) {
    const n = trainIdx.length;
    const nVal = Math.round(cfg.validation.fraction * n);
    if (nVal < 1 || nVal > n - 1) {
      throw new UserError(`dataset.validation.fraction ${cfg.validation.fraction} of ${n} training examples leaves ${nVal} for validation and ${n - nVal} for training`, [
        'both parts need at least one example: raise the fraction or the training subset',
      ]);
    }
    const perm = permutation(n, rngFor(cfg.validation.seed, 'dataset.validation'));
    const held = new Uint8Array(n);
    for (let k = 0; k < nVal; k++) held[perm[k]!] = 1;
    const val = new Uint32Array(nVal);
    const rest = new Uint32Array(n - nVal);
    for (let k = 0, v = 0, r = 0; k < n; k++) {
      if (held[k]) val[v++] = trainIdx[k]!;
      else rest[r++] = trainIdx[k]!;
    }
    valIdx = val;
    trainIdx = rest;
  }

  return {
    train: rowsOf(ds.train, trainIdx, pixels, ds.channels, table),
    test: rowsOf(ds.test, testIdx, pixels, ds.channels, table),
    ...(valIdx ? { val: rowsOf(ds.train, valIdx, pixels, ds.channels, table) } : {}),
    inputShape: layout === 'flat' ? [pixels] : [ds.height, ds.width, ds.channels],
    imageShape: [ds.height, ds.width, ds.channels],
    black: Array.from({ length: ds.channels }, (_, c) => table[c * 256]!),
    featureSize: pixels,
    numClasses: ds.classNames.length,
    classNames: ds.classNames,
  };
}
