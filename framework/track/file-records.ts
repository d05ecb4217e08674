/**
 * Reading the MLflow file store's folders into bnx's records: an experiment folder into an
 * `Experiment`, a run folder (meta.yaml, params/, tags/, metrics/, inputs/) into a `Run`. Pure
 * reads: everything the store writes stays in file-store.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDir, walkFiles } from './file-ops.js';
import { EXPERIMENT_ID, TRASH, latestMetric, readMetricFile, readValues, readYaml, type OnDamaged, type RawMeta } from './file-format.js';
import { INT_TO_STATUS, TAG, TrackingError, isRunStatus, type DatasetInput, type Experiment, type Run, type RunInfo, type RunStatus } from './types.js';

/** Where a run lives: its experiment's folder (for datasets/) and its own. */
export interface RunLocation {
  experimentDir: string;
  runDir: string;
}

/** The experiment ids under a store root (or its .trash/). */
export function experimentIds(parent: string): string[] {
  if (!isDir(parent)) return [];
  return readdirSync(parent, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== TRASH && EXPERIMENT_ID.test(e.name))
    .map((e) => e.name);
}

export function readExperiment(dir: string, id: string, onDamaged?: OnDamaged): Experiment | null {
  const meta = readYaml(join(dir, 'meta.yaml'), onDamaged);
  if (!meta) return null;
  const expId = String(meta.experiment_id);
  if (expId !== id) return null; // MLflow ignores an experiment whose meta disagrees with its folder
  return {
    experiment_id: expId,
    name: String(meta.name),
    artifact_location: String(meta.artifact_location ?? ''),
    lifecycle_stage: String(meta.lifecycle_stage ?? 'active'),
    ...(typeof meta.creation_time === 'number' ? { creation_time: meta.creation_time } : {}),
    ...(typeof meta.last_update_time === 'number' ? { last_update_time: meta.last_update_time } : {}),
    tags: readValues(join(dir, 'tags')),
  };
}

export function infoFromMeta(meta: RawMeta, runDir: string): RunInfo {
  const statusRaw = meta.status;
  const status: RunStatus =
    typeof statusRaw === 'number' ? (INT_TO_STATUS[statusRaw] ?? 'RUNNING') : isRunStatus(statusRaw) ? statusRaw : 'RUNNING';
  const runId = String(meta.run_id ?? meta.run_uuid);
  let runName = typeof meta.run_name === 'string' ? meta.run_name : '';
  if (!runName) {
    const p = join(runDir, 'tags', TAG.runName);
    if (existsSync(p)) runName = readFileSync(p, 'utf8');
  }
  return {
    run_id: runId,
    experiment_id: String(meta.experiment_id),
    run_name: runName,
    status,
    start_time: Number(meta.start_time ?? 0),
    end_time: meta.end_time === null || meta.end_time === undefined ? null : Number(meta.end_time),
    artifact_uri: String(meta.artifact_uri ?? ''),
    lifecycle_stage: String(meta.lifecycle_stage ?? 'active'),
  };
}

function readInputs(loc: RunLocation): DatasetInput[] {
  const inputsDir = join(loc.runDir, 'inputs');
  const datasetsDir = join(loc.experimentDir, 'datasets');
  if (!isDir(inputsDir) || !isDir(datasetsDir)) return [];
  const out: DatasetInput[] = [];
  for (const entry of readdirSync(inputsDir).sort()) {
    const meta = readYaml(join(inputsDir, entry, 'meta.yaml'));
    if (!meta || meta.source_type !== 'DATASET') continue;
    const ds = readYaml(join(datasetsDir, String(meta.source_id), 'meta.yaml'));
    if (!ds) continue;
    const tags = (meta.tags && typeof meta.tags === 'object' ? meta.tags : {}) as Record<string, unknown>;
    const context = tags[TAG.datasetContext];
    out.push({
      name: String(ds.name),
      digest: String(ds.digest),
      source_type: String(ds.source_type),
      source: String(ds.source),
      ...(typeof ds.schema === 'string' ? { schema: ds.schema } : {}),
      ...(typeof ds.profile === 'string' ? { profile: ds.profile } : {}),
      ...(typeof context === 'string' ? { context } : {}),
    });
  }
  return out;
}

/** A whole run: info, params, tags, each metric's latest value (MLflow's rule), dataset inputs. */
export function buildRun(loc: RunLocation, meta: RawMeta): Run {
  const info = infoFromMeta(meta, loc.runDir);
  const params = readValues(join(loc.runDir, 'params'));
  const tags = readValues(join(loc.runDir, 'tags'));
  const metrics: Record<string, number> = {};
  const metricsDir = join(loc.runDir, 'metrics');
  for (const key of walkFiles(metricsDir)) {
    const latest = latestMetric(readMetricFile(join(metricsDir, key), key));
    if (latest) metrics[key] = latest.value;
  }
  return { info, data: { params, tags, metrics }, inputs: readInputs(loc) };
}

/** The folder of run `runId`, in an active or a deleted experiment; undefined when there is none. */
export function findRun(root: string, runId: string): RunLocation | undefined {
  for (const parent of [root, join(root, TRASH)]) {
    for (const id of experimentIds(parent)) {
      const experimentDir = join(parent, id);
      const runDir = join(experimentDir, runId);
      if (existsSync(join(runDir, 'meta.yaml'))) return { experimentDir, runDir };
    }
  }
  return undefined;
}

/** True when the run folder has every tag of `want` with exactly that value. */
export function hasTags(runDir: string, want: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(want)) {
    const p = join(runDir, 'tags', k);
    if (!existsSync(p) || readFileSync(p, 'utf8') !== v) return false;
  }
  return true;
}

/**
 * The active experiment called `name`, or null; a deleted one of that name is MLflow's
 * RESOURCE_ALREADY_EXISTS (the name stays taken until it is restored or purged).
 */
export function findExperiment(root: string, name: string, onDamaged?: OnDamaged): Experiment | null {
  for (const id of experimentIds(root)) {
    const e = readExperiment(join(root, id), id, onDamaged);
    if (e && e.name === name && e.lifecycle_stage === 'active') return e;
  }
  for (const id of experimentIds(join(root, TRASH))) {
    const e = readExperiment(join(root, TRASH, id), id, onDamaged);
    if (e && e.name === name) {
      throw new TrackingError(
        'RESOURCE_ALREADY_EXISTS',
        `Experiment '${name}' already exists in deleted state. You can restore the experiment, or permanently delete the experiment from the .trash folder (under tracking server's root folder) in order to use this experiment name again.`,
        undefined,
        [`store: ${root}`],
      );
    }
  }
  return null;
}
