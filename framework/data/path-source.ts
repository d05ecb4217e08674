/**
 * `dataset: { path: DIR }`: a folder of IDX files or of CIFAR-10 binary batches, loaded directly on every run (not copied into the
 * cache), so editing the folder can never leave a stale copy behind. Uncompressed files load in
 * milliseconds; gzipped ones pay a gunzip per load.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { cifarFromFolder, isCifarFolder } from './cifar.js';
import { imageFolderSet, isImageFolder } from './image-folder.js';
import { IdxError, readIdxFile } from './idx.js';
import { checkSet, IDX_FILES, setOf, type IdxSet, type SetShape } from './idx-set.js';

/** Accepted spellings of one file: `train-images-idx3-ubyte`, `train-images.idx3-ubyte`, each optionally `.gz`. */
function candidates(base: string): string[] {
  const dotted = base.replace(/-idx(\d)-ubyte$/, '.idx$1-ubyte');
  return [base, `${base}.gz`, dotted, `${dotted}.gz`];
}

export function loadIdxFolder(dir: string): { set: IdxSet; shape: SetShape; files: string[] } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UserError(`dataset path ${dir} is not a folder`, [
      'dataset.path must name a folder holding train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz]',
    ]);
  }
  const found = IDX_FILES.map((base) => candidates(base).find((c) => existsSync(join(dir, c))));
  const absent = IDX_FILES.filter((_, i) => !found[i]);
  if (absent.length) {
    const present = readdirSync(dir).slice(0, 12).join(', ') || 'nothing';
    throw new UserError(`dataset path ${dir} lacks ${absent.map((f) => `${f}[.gz]`).join(', ')}`, [
      `the folder holds: ${present}`,
      'expected the four MNIST-style IDX files: train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (each optionally .gz)',
      'or CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin, batches.meta.txt), or PNG images in train/<class>/ and test/<class>/',
    ]);
  }
  const files = found.map((f) => join(dir, f!));
  try {
    const set = setOf(files.map((f) => readIdxFile(f)));
    return { set, shape: checkSet(set, dir), files };
  } catch (err) {
    if (err instanceof IdxError) throw new UserError(`dataset path: ${err.message}`, ['replace the file with a valid IDX file (unsigned bytes, optionally gzipped)']);
    throw err;
  }
}

/**
 * Any folder `dataset: { path }` accepts: CIFAR-10 batches or an image folder (both with their class
 * names), else IDX files.
 */
export function loadFolder(dir: string): { set: IdxSet; shape: SetShape; files: string[]; classNames?: string[] } {
  const kind = !existsSync(dir) ? 'idx' : isCifarFolder(dir) ? 'cifar' : isImageFolder(dir) ? 'images' : 'idx';
  if (kind === 'idx') return loadIdxFolder(dir);
  try {
    const { set, classNames, files } = kind === 'cifar' ? cifarFromFolder(dir) : imageFolderSet(dir);
    return { set, shape: checkSet(set, dir), files, classNames };
  } catch (err) {
    if (err instanceof IdxError) {
      const fix = kind === 'cifar' ? 'replace the file with a valid CIFAR-10 binary batch (records of 1 label + 3072 pixel bytes)' : 'the folder needs train/<class>/*.png and test/<class>/*.png, every image of one size';
      throw new UserError(`dataset path: ${err.message}`, [fix]);
    }
    throw err;
  }
}
