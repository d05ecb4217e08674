/**
 * The CIFAR binary format (https://www.cs.toronto.edu/~kriz/cifar.html): batch files of records of
 * 1 label byte + 3072 pixel bytes, the 1024 red values of a 32x32 image row by row, then the green,
 * then the blue plane. cifar-10-binary.tar.gz holds `cifar-10-batches-bin/` with data_batch_1..5.bin
 * (train, in that order), test_batch.bin and batches.meta.txt (one class name per line).
 *
 * bnx converts the planes to channels-last (NHWC), the layout every other part of bnx uses, once,
 * into 4-dim IDX files in the cache; the digest covers the converted files.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Parser } from 'tar';
import { IdxError, isGzip } from './idx.js';
import { makeSet, type IdxSet } from './idx-set.js';

export const CIFAR_SIDE = 32;
export const CIFAR_CHANNELS = 3;
const PLANE = CIFAR_SIDE * CIFAR_SIDE;
const RECORD = 1 + CIFAR_CHANNELS * PLANE;

export const CIFAR_TRAIN_BATCHES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR_TEST_BATCH = 'test_batch.bin';
export const CIFAR_META = 'batches.meta.txt';
export const CIFAR_FILES = [...CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH, CIFAR_META];

/** Records of one or more batch files -> NHWC images and labels. Throws IdxError naming the file. */
function decodeBatches(batches: { name: string; bytes: Uint8Array }[], where: string): { images: Uint8Array; labels: Uint8Array } {
  for (const b of batches) {
    if (b.bytes.length === 0 || b.bytes.length % RECORD !== 0) {
      throw new IdxError(
        `${where}/${b.name}: ${b.bytes.length} bytes is not a whole number of ${RECORD}-byte records (1 label + 32x32x3 pixels); the file is truncated or not a CIFAR-10 batch`,
      );
    }
  }
  const n = batches.reduce((k, b) => k + b.bytes.length / RECORD, 0);
  const images = new Uint8Array(n * RECORD - n);
  const labels = new Uint8Array(n);
  let i = 0;
  for (const b of batches) {
    for (let r = 0; r < b.bytes.length; r += RECORD, i++) {
      labels[i] = b.bytes[r]!;
      const out = i * (RECORD - 1);
      for (let p = 0; p < PLANE; p++) {
        for (let c = 0; c < CIFAR_CHANNELS; c++) images[out + p * CIFAR_CHANNELS + c] = b.bytes[r + 1 + c * PLANE + p]!;
      }
    }
  }
  return { images, labels };
}

/** batches.meta.txt: one class name per line (the official file pads with blank lines). */
export function parseClassNames(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

export interface CifarContent {
  set: IdxSet;
  classNames: string[];
}

/** The files of one CIFAR-10 batch folder (by base name) -> the dataset; IdxError when one is missing or malformed. */
export function cifarFromFiles(files: Map<string, Uint8Array>, where: string): CifarContent {
  const missing = CIFAR_FILES.filter((f) => !files.has(f));
  if (missing.length) throw new IdxError(`${where} lacks ${missing.join(', ')} (a CIFAR-10 binary batch folder holds ${CIFAR_FILES.join(', ')})`);
  const train = decodeBatches(CIFAR_TRAIN_BATCHES.map((name) => ({ name, bytes: files.get(name)! })), where);
  const test = decodeBatches([{ name: CIFAR_TEST_BATCH, bytes: files.get(CIFAR_TEST_BATCH)! }], where);
  const classNames = parseClassNames(Buffer.from(files.get(CIFAR_META)!).toString('utf8'));
  let max = 0;
  for (const labels of [train.labels, test.labels]) for (const l of labels) if (l > max) max = l;
  if (max >= classNames.length) {
    throw new IdxError(`${where}: a label is ${max} but ${CIFAR_META} names ${classNames.length} classes; the archive is corrupt`);
  }
  return { set: makeSet(CIFAR_SIDE, CIFAR_SIDE, train, test, CIFAR_CHANNELS), classNames };
}

/**
 * The batch files inside a (gzipped) tar archive, by base name, wherever they sit in it (the official
 * archive nests them in cifar-10-batches-bin/). Rejects a truncated or corrupt gzip or tar stream.
 */
export async function readTarFiles(archive: Uint8Array, where: string): Promise<Map<string, Uint8Array>> {
  let tarBytes: Uint8Array;
  try {
    tarBytes = isGzip(archive) ? gunzipSync(archive) : archive;
  } catch (err) {
    throw new IdxError(`${where}: not a valid gzip stream (${(err as Error).message}); the download is probably truncated or corrupt`);
  }
  const files = new Map<string, Uint8Array>();
  const wanted = new Set(CIFAR_FILES);
  await new Promise<void>((resolve, reject) => {
    // strict: a bad header or a truncated entry is an error, not a warning that drops the rest.
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry) => {
        const base = entry.path.split('/').pop() ?? '';
        if (entry.type !== 'File' || !wanted.has(base)) {
          entry.resume();
          return;
        }
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => files.set(base, Buffer.concat(chunks)));
      },
    });
    parser.on('error', (err: Error) => reject(new IdxError(`${where}: not a valid tar archive (${err.message}); the file is truncated or corrupt`)));
    parser.on('close', () => resolve());
    parser.end(Buffer.from(tarBytes.buffer, tarBytes.byteOffset, tarBytes.byteLength));
  });
  return files;
}

/** cifar-10-binary.tar.gz bytes -> the dataset. */
export async function cifarFromArchive(archive: Uint8Array, where: string): Promise<CifarContent> {
  const files = await readTarFiles(archive, where);
  if (files.size === 0) throw new IdxError(`${where}: the archive holds none of ${CIFAR_FILES.join(', ')}; is it cifar-10-binary.tar.gz (not the python or matlab version)?`);
  return cifarFromFiles(files, where);
}

/** Is `dir` a folder of CIFAR-10 binary batches (`dataset: { path }`)? */
export function isCifarFolder(dir: string): boolean {
  return existsSync(join(dir, CIFAR_TEST_BATCH)) && existsSync(join(dir, CIFAR_TRAIN_BATCHES[0]!));
}

/** A folder of CIFAR-10 binary batches -> the dataset (read on every load, like IDX folders). */
export function cifarFromFolder(dir: string): CifarContent & { files: string[] } {
  const files = new Map<string, Uint8Array>();
  const paths: string[] = [];
  for (const f of CIFAR_FILES) {
    const p = join(dir, f);
    if (existsSync(p) && statSync(p).isFile()) {
      files.set(f, readFileSync(p));
      paths.push(p);
    }
  }
  return { ...cifarFromFiles(files, dir), files: paths };
}
