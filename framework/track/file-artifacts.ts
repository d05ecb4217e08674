/**
 * A file-store run's artifacts: where they are (its artifact_uri, or its own folder when the store was
 * moved) and copying files in and out without a reader ever seeing half a file. Split from
 * file-store.ts: artifacts are plain folders, not MLflow records.
 */
import { cpSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { atomicCopyFile, atomicWriteFile } from '../util/fs.js';
import { TEMP_NAME, isDir, tempName } from './file-ops.js';
import { TrackingError, type ArtifactEntry, type RunInfo } from './types.js';

/** The local folder holding a run's artifacts. */
export function artifactDirOf(info: RunInfo, runDir: string): string {
  const uri = info.artifact_uri;
  let dir: string;
  if (uri.startsWith('file:')) dir = uri.startsWith('file://') ? fileURLToPath(uri) : resolve(decodeURIComponent(uri.slice('file:'.length)));
  else if (isAbsolute(uri)) dir = uri;
  else {
    throw new TrackingError('INVALID_PARAMETER_VALUE', `Run ${info.run_id} keeps its artifacts at ${uri}, which bnx cannot write from a file store`, undefined, [
      'bnx writes artifacts to local folders (file: URIs); log to an MLflow server with proxied artifacts for remote storage',
    ]);
  }
  // A store that was moved or copied keeps absolute artifact URIs pointing at its old place. In
  // MLflow's default layout (<root>/<experiment>/<run>/artifacts) the artifacts live in the run's
  // own folder, so resolve them there: a copy never reads or writes the original's files.
  if (dir.endsWith(`${sep}${basename(dirname(runDir))}${sep}${info.run_id}${sep}artifacts`)) dir = join(runDir, 'artifacts');
  return dir;
}

/** `rel`: a validated artifact path ('/'-separated, inside the artifact folder), here and below. */
export function putArtifact(dir: string, runDir: string, localPath: string, rel: string): void {
  const target = join(dir, ...rel.split('/'));
  // The temp file goes where MLflow never lists it: the run folder's root, else beside the target.
  const inside = !relative(runDir, target).startsWith('..');
  const tmpDir = inside ? runDir : dirname(target);
  atomicCopyFile(localPath, target, { tmp: join(tmpDir, tempName()) });
}

export function getArtifact(dir: string, runId: string, rel: string, localPath: string): void {
  const src = join(dir, ...rel.split('/'));
  if (!existsSync(src)) throw new TrackingError('RESOURCE_DOES_NOT_EXIST', `No artifact '${rel}' in run ${runId}`, 404, [`looked in ${src}`]);
  if (isDir(src)) {
    cpSync(src, localPath, { recursive: true, filter: (p) => !TEMP_NAME.test(p.split(sep).pop() ?? '') });
    return;
  }
  atomicWriteFile(localPath, readFileSync(src));
}

export function listArtifactDir(dir: string, rel: string): ArtifactEntry[] {
  const full = rel ? join(dir, ...rel.split('/')) : dir;
  if (!isDir(full)) return [];
  return readdirSync(full, { withFileTypes: true })
    .filter((e) => !TEMP_NAME.test(e.name) && (e.isDirectory() || e.isFile()))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((e) => {
      const p = rel ? `${rel}/${e.name}` : e.name;
      return e.isDirectory() ? { path: p, is_dir: true } : { path: p, is_dir: false, file_size: statSync(join(full, e.name)).size };
    });
}
