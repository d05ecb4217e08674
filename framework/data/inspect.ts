/**
 * What `bnx data info` and `bnx data import` ask of the data stage, as values: the cli/ command prints
 * them. (The cache layout, its validation and the archive rules stay here.)
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { UserError } from '../util/errors.js';
import { dataRoot, readCache, type CacheMeta } from './cache.js';
import { importHint } from './archive-source.js';
import { BUILTIN } from './catalog.js';
import { IDX_FILES } from './idx-set.js';
import { cacheDir, fixHint, identityFromMeta, loadBuiltin, loadDataset, refFromArg, resolveSpec } from './load.js';
import { loadFolder } from './path-source.js';
import type { Dataset, DatasetIdentity, LoadOptions } from './types.js';

export type DatasetStatus =
  /** A folder of IDX files (or images), read in place: its files and their sizes in bytes. */
  | { status: 'folder'; identity: DatasetIdentity; files: Record<string, number>; sizeBytes: number }
  /** A cache folder whose every byte matched its digest (checked in `seconds`); `files` in IDX order. */
  | { status: 'valid'; identity: DatasetIdentity; meta: CacheMeta; files: CacheMeta['files']; sizeBytes: number; seconds: number }
  /** Not cached: where it would be, and the command(s) that fill it. */
  | { status: 'missing'; name: string; location: string; root: string; fill: string }
  | { status: 'corrupt'; name: string; location: string; problem: string; fix: string };

/** NAME is a built-in dataset or a folder; the cache is validated, never filled. */
export async function datasetStatus(name: string): Promise<DatasetStatus> {
  const ref = refFromArg(name);
  const spec = resolveSpec(ref);
  if (spec.kind === 'path') {
    const ds = await loadDataset(ref);
    const { files } = loadFolder(spec.dir);
    const sizes = Object.fromEntries(files.map((f) => [basename(f), statSync(f).size]));
    return { status: 'folder', identity: ds.identity, files: sizes, sizeBytes: Object.values(sizes).reduce((a, b) => a + b, 0) };
  }
  const dir = cacheDir(spec.ds);
  const t0 = performance.now();
  const state = readCache(dir);
  const seconds = (performance.now() - t0) / 1000;
  const dsName = spec.ds.name;
  if (state.status === 'missing') {
    const fill = spec.ds.format === 'cifar-binary' ? `bnx data fetch ${dsName} (online), or ${importHint(spec.ds)}` : `bnx data fetch ${dsName}`;
    return { status: 'missing', name: dsName, location: dir, root: dataRoot(), fill };
  }
  if (state.status === 'corrupt') return { status: 'corrupt', name: dsName, location: dir, problem: state.problem, fix: fixHint(dsName) };
  const { meta } = state;
  const sizeBytes = IDX_FILES.reduce((n, f) => n + meta.files[f].bytes, 0);
  const files = Object.fromEntries(IDX_FILES.map((f) => [f, meta.files[f]])) as CacheMeta['files'];
  return { status: 'valid', identity: identityFromMeta(meta, dir), meta, files, sizeBytes, seconds };
}

/** Fill the cache of an archive dataset (cifar-10) from a downloaded archive FILE. */
export async function importArchive(name: string, file: string, opts: Pick<LoadOptions, 'log'> = {}): Promise<Dataset> {
  const spec = resolveSpec({ name });
  if (spec.kind !== 'builtin' || spec.ds.format !== 'cifar-binary') {
    const archives = Object.values(BUILTIN).filter((d) => d.format === 'cifar-binary').map((d) => d.name);
    throw new UserError(`bnx data import fills the cache of an archive dataset (${archives.join(', ')}); ${name} is not one`, [`to fill the cache of ${name}: bnx data fetch ${name}`]);
  }
  return loadBuiltin(spec.ds, opts, { kind: 'file', file });
}
