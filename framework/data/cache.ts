/**
 * The dataset cache shared by all runs and processes: `$BNX_DATA_DIR`, else ~/.cache/bnx/datasets.
 * One folder per dataset holding the four uncompressed IDX files and meta.json.
 *
 * Filling is atomic per dataset: everything is written into a private temp folder that is then
 * renamed into place, so a reader sees a complete folder or none. When two processes fill at once,
 * the first rename wins and the other adopts the winner's folder (after validating it). Every load
 * validates magic numbers, sizes against meta.json, and the sha256 digest; a bad cache is reported,
 * never used.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BNX_VERSION } from '../util/version.js';
import { IdxError, parseIdx, type IdxArray } from './idx.js';
import { checkSet, fileSha256, IDX_FILES, setDigest, setFiles, setOf, type IdxFileName, type IdxSet } from './idx-set.js';

export const META_FILE = 'meta.json';
const FORMAT = 1;

export interface CacheMeta {
  format: number;
  name: string;
  /** Where the bytes came from: 'official' | 'npm:<pkg>@<version>' | 'archive:<md5>' | 'path:<abs>'. */
  source: string;
  /** The mirror URL (official) or folder the bytes were read from. */
  origin?: string;
  /** True when the train/test split is not the official one (npm fallback). */
  approximate_split: boolean;
  split_note?: string;
  counts: { train: number; test: number };
  shape: { height: number; width: number; channels: number };
  class_names: string[];
  files: Record<IdxFileName, { bytes: number; sha256: string }>;
  /** sha256 over the four files in IDX_FILES order. */
  digest: string;
  created: string;
  bnx_version: string;
}

export type MetaInput = Omit<CacheMeta, 'format' | 'files' | 'digest' | 'created' | 'bnx_version' | 'counts' | 'shape'>;

export type CacheState =
  | { status: 'missing' }
  | { status: 'corrupt'; problem: string }
  | { status: 'ok'; meta: CacheMeta; set: IdxSet };

/** The cache root: an explicit folder, else $BNX_DATA_DIR, else ~/.cache/bnx/datasets. */
export function dataRoot(dataDir?: string): string {
  return dataDir ?? (process.env.BNX_DATA_DIR || join(homedir(), '.cache', 'bnx', 'datasets'));
}

const isCode = (err: unknown, ...codes: string[]) => codes.includes((err as NodeJS.ErrnoException).code ?? '');

function parseMeta(text: string): CacheMeta | string {
  let m: CacheMeta;
  try {
    m = JSON.parse(text) as CacheMeta;
  } catch (err) {
    return `meta.json is not valid JSON (${(err as Error).message})`;
  }
  if (m?.format !== FORMAT) return `meta.json has format ${String(m?.format)}, this bnx reads format ${FORMAT}`;
  const missing = IDX_FILES.filter((f) => typeof m.files?.[f]?.bytes !== 'number' || typeof m.files[f].sha256 !== 'string');
  if (missing.length) return `meta.json lacks the size or sha256 of ${missing.join(', ')}`;
  if (typeof m.digest !== 'string' || typeof m.counts?.train !== 'number' || !Array.isArray(m.class_names)) {
    return 'meta.json lacks digest, counts or class_names';
  }
  return m;
}

/**
 * Read meta.json and check the files' sizes against it, without reading the files: what
 * `datasetIdentity` trusts. A full `readCache` still validates every byte when data is loaded.
 */
export function readMetaCheap(dir: string): CacheMeta | undefined {
  try {
    const m = parseMeta(readFileSync(join(dir, META_FILE), 'utf8'));
    if (typeof m === 'string') return undefined;
    for (const f of IDX_FILES) if (statSync(join(dir, f)).size !== m.files[f].bytes) return undefined;
    return m;
  } catch {
    return undefined;
  }
}

/** Read and fully validate one cache folder. */
export function readCache(dir: string): CacheState {
  let text: string;
  try {
    text = readFileSync(join(dir, META_FILE), 'utf8');
  } catch (err) {
    if (!isCode(err, 'ENOENT')) return { status: 'corrupt', problem: `cannot read meta.json: ${(err as Error).message}` };
    try {
      statSync(dir);
    } catch {
      return { status: 'missing' };
    }
    return { status: 'corrupt', problem: 'meta.json is missing' };
  }
  const meta = parseMeta(text);
  if (typeof meta === 'string') return { status: 'corrupt', problem: meta };
  const arrays: IdxArray[] = [];
  for (const f of IDX_FILES) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(join(dir, f));
    } catch (err) {
      return { status: 'corrupt', problem: isCode(err, 'ENOENT') ? `${f} is missing` : `cannot read ${f}: ${(err as Error).message}` };
    }
    const want = meta.files[f].bytes;
    if (bytes.length !== want) {
      return { status: 'corrupt', problem: `${f} is ${bytes.length < want ? 'truncated' : 'too long'}: ${bytes.length} bytes, meta.json records ${want}` };
    }
    try {
      arrays.push(parseIdx(bytes, f));
    } catch (err) {
      if (err instanceof IdxError) return { status: 'corrupt', problem: err.message };
      throw err;
    }
  }
  const set = setOf(arrays);
  try {
    const shape = checkSet(set, dir);
    if (shape.train !== meta.counts.train || shape.test !== meta.counts.test) {
      return {
        status: 'corrupt',
        problem: `the files hold ${shape.train} train / ${shape.test} test examples, meta.json records ${meta.counts.train} / ${meta.counts.test}`,
      };
    }
  } catch (err) {
    if (err instanceof IdxError) return { status: 'corrupt', problem: err.message };
    throw err;
  }
  const digest = setDigest(set);
  if (digest !== meta.digest) {
    // Only now pay for per-file hashes, to name the file that changed.
    const changed = setFiles(set)
      .filter(([f, a]) => fileSha256(a) !== meta.files[f].sha256)
      .map(([f]) => f);
    const which = changed.length ? `${changed.join(', ')} changed` : 'meta.json digest does not match its files';
    return { status: 'corrupt', problem: `digest mismatch: ${which} (sha256 over the files is ${digest.slice(0, 16)}..., meta.json records ${meta.digest.slice(0, 16)}...)` };
  }
  return { status: 'ok', meta, set };
}

export function buildMeta(set: IdxSet, input: MetaInput): CacheMeta {
  const shape = checkSet(set, input.name);
  const files = Object.fromEntries(setFiles(set).map(([f, a]) => [f, { bytes: a.raw.length, sha256: fileSha256(a) }])) as CacheMeta['files'];
  return {
    format: FORMAT,
    ...input,
    counts: { train: shape.train, test: shape.test },
    shape: { height: shape.height, width: shape.width, channels: shape.channels },
    files,
    digest: setDigest(set),
    created: new Date().toISOString(),
    bnx_version: BNX_VERSION,
  };
}

/**
 * Write a dataset into `<root>/<key>` atomically. Without `replace`, a valid folder another process
 * renamed into place first is adopted (`ours: false`) and ours is discarded; with `replace` (a
 * forced refresh or a corrupt folder) the old folder is moved aside and removed.
 */
export function writeCache(
  root: string,
  key: string,
  set: IdxSet,
  input: MetaInput,
  opts: { replace?: boolean } = {},
): { dir: string; meta: CacheMeta; set: IdxSet; ours: boolean } {
  const dir = join(root, key);
  mkdirSync(root, { recursive: true });
  sweepStale(root, key);
  const meta = buildMeta(set, input);
  const tmp = mkdtempSync(join(root, `.${key}.tmp-`));
  try {
    chmodSync(tmp, 0o755); // mkdtemp makes it private; the cache is meant to be readable like any cache

    for (const [f, a] of setFiles(set)) writeFileSync(join(tmp, f), a.raw);
    writeFileSync(join(tmp, META_FILE), `${JSON.stringify(meta, null, 2)}\n`);
    for (let attempt = 0; ; attempt++) {
      try {
        renameSync(tmp, dir);
        return { dir, meta, set, ours: true };
      } catch (err) {
        if (!isCode(err, 'ENOTEMPTY', 'EEXIST') || attempt >= 5) throw err;
      }
      if (!opts.replace) {
        const theirs = readCache(dir);
        if (theirs.status === 'ok') return { dir, meta: theirs.meta, set: theirs.set, ours: false };
      }
      const trash = join(root, `.${key}.old-${process.pid}-${randomBytes(4).toString('hex')}`);
      try {
        renameSync(dir, trash);
      } catch (err) {
        if (!isCode(err, 'ENOENT')) throw err;
      }
      rmSync(trash, { recursive: true, force: true });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Temp folders left by a process killed mid-fill; an hour is far longer than any fill takes. */
function sweepStale(root: string, key: string): void {
  const cutoff = Date.now() - 3600_000;
  for (const e of readdirSync(root)) {
    if (!e.startsWith(`.${key}.tmp-`) && !e.startsWith(`.${key}.old-`)) continue;
    try {
      if (statSync(join(root, e)).mtimeMs < cutoff) rmSync(join(root, e), { recursive: true, force: true });
    } catch {
      // Another process removed it first.
    }
  }
}
