/**
 * Datasets published as one archive (CIFAR-10): downloaded with its published MD5 when online, or
 * imported from a file the user downloaded (`bnx data import cifar-10 FILE`), converted once into
 * the cache. No npm package ships the images, so there is no offline fallback: the error says what
 * to download and how to import it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import type { MetaInput } from './cache.js';
import type { ArchiveDataset } from './catalog.js';
import { cifarFromArchive } from './cifar.js';
import { DownloadError, downloadArchive, md5Hex, offline } from './download.js';
import { IdxError } from './idx.js';
import { checkSet, type IdxSet } from './idx-set.js';

export interface ArchiveFill {
  set: IdxSet;
  meta: MetaInput;
}

/** What to do without the network: one line the offline error and `bnx data info` both print. */
export const importHint = (ds: ArchiveDataset): string =>
  `download ${ds.archive.urls[0]} (${ds.archive.file}, about ${ds.archive.megabytes} MB, MD5 ${ds.archive.md5}) on any machine, then run: bnx data import ${ds.name} ./${ds.archive.file}`;

/** Convert archive bytes; an official archive (the published MD5) must hold the official counts. */
async function convert(ds: ArchiveDataset, bytes: Uint8Array, where: string, official: boolean): Promise<{ set: IdxSet; classNames: string[] }> {
  const content = await cifarFromArchive(bytes, where);
  const shape = checkSet(content.set, where);
  if (official && (shape.train !== ds.official.train || shape.test !== ds.official.test)) {
    throw new IdxError(`${where}: ${shape.train}/${shape.test} examples, expected ${ds.official.train}/${ds.official.test}`);
  }
  return content;
}

/** Online: the published archive. Throws UserError naming each failure and what to do offline. */
export async function fillFromArchiveUrl(ds: ArchiveDataset, cacheDir: string, log: (m: string) => void, progress?: boolean): Promise<ArchiveFill> {
  const failures: string[] = [];
  if (offline()) {
    failures.push('network skipped: BNX_OFFLINE is set');
  } else {
    try {
      const { bytes, url } = await downloadArchive(ds.archive.urls, ds.archive.md5, ds.archive.file, { log, progress });
      log(`${ds.name}: downloaded ${url} (MD5 verified); converting it`);
      const t0 = performance.now();
      const { set, classNames } = await convert(ds, bytes, url, true);
      log(`${ds.name}: converted ${set.trainLabels.dims[0]} train / ${set.testLabels.dims[0]} test images in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      return { set, meta: { name: ds.name, source: 'official', origin: url, approximate_split: false, class_names: classNames } };
    } catch (err) {
      if (!(err instanceof DownloadError || err instanceof IdxError)) throw err;
      failures.push(err.message);
    }
  }
  throw new UserError(`cannot get dataset ${ds.name}: no source is available`, [
    ...failures,
    `no npm package ships the ${ds.name} images; ${importHint(ds)}`,
    `the import fills the cache at ${cacheDir} (set BNX_DATA_DIR to put it elsewhere)`,
  ]);
}

/**
 * `bnx data import NAME FILE`: the archive a user downloaded. The published MD5 makes it the
 * official source; any other archive in the same format (a test's, a re-packed one) is imported as
 * `archive:<md5>`, so run keys and queue workers can tell the two apart.
 */
export async function fillFromArchiveFile(ds: ArchiveDataset, file: string, log: (m: string) => void): Promise<ArchiveFill> {
  const path = resolve(file);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (err as Error).message}`, [importHint(ds)]);
  }
  const sum = md5Hex(bytes);
  const official = sum === ds.archive.md5;
  if (!official) log(`${ds.name}: ${path} has MD5 ${sum}, not the published ${ds.archive.md5}; importing it as source archive:${sum} (not the official files)`);
  try {
    const { set, classNames } = await convert(ds, bytes, path, official);
    return {
      set,
      meta: { name: ds.name, source: official ? 'official' : `archive:${sum}`, origin: path, approximate_split: false, class_names: classNames },
    };
  } catch (err) {
    if (err instanceof IdxError) throw new UserError(`cannot import ${ds.name}: ${err.message}`, [importHint(ds)]);
    throw err;
  }
}
