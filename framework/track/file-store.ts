/**
 * MLflow's file store (`mlruns/`), written in exactly the layout and types MLflow 2.x writes and
 * reads (mlflow/store/tracking/file_store.py), so `mlflow ui --backend-store-uri ./mlruns` shows
 * bnx runs as if MLflow had logged them.
 *
 * Crash safety: every file is replaced by rename, never rewritten in place, and each record
 * becomes visible only when complete. A run folder gets its tags first and its meta.yaml last (a
 * folder without meta.yaml is skipped by MLflow and by this reader); a run input appears by renaming
 * a finished folder into `inputs/`. Temp files live where MLflow never lists them (the run or
 * experiment folder root), because MLflow reads every file under `params/`, `tags/` and `metrics/`
 * as a record. Metric files are appended one line per write; a torn last line is ignored by the
 * reader and cut off before the next append.
 *
 * This file is the store (what it writes, and the queries); the on-disk formats are in file-format.ts,
 * reading folders into records in file-records.ts, artifact folders in file-artifacts.ts.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { atomicWriteFile } from '../util/fs.js';
import { matchesFilter, parseFilter } from './filter.js';
import { artifactDirOf, getArtifact, listArtifactDir, putArtifact } from './file-artifacts.js';
import { appendMetricLines, isDir, publishFolder, repairTornTail, walkFiles, withLockFile, writeViaTemp } from './file-ops.js';
import {
  DEFAULT_EXPERIMENT_ID,
  EXPERIMENT_ID,
  RESERVED_EXPERIMENT_FOLDERS,
  SOURCE_TYPE_LOCAL,
  TRASH,
  currentUser,
  datasetId,
  datasetMeta,
  inputId,
  inputMeta,
  newExperimentId,
  readMetricFile,
  readYaml,
  toMlflowYaml,
  type RawMeta,
} from './file-format.js';
import { buildRun, experimentIds, findExperiment, findRun, hasTags, infoFromMeta, readExperiment, type RunLocation } from './file-records.js';
import { validateArtifactPath, validateBatch, validateName, validateRunId } from './names.js';
import { formatPythonFloat } from './python-float.js';
import {
  STATUS_TO_INT,
  TAG,
  TrackingError,
  isRunStatus,
  type ArtifactEntry,
  type DatasetInput,
  type Experiment,
  type Metric,
  type Run,
  type RunStatus,
  type SearchFilter,
  type TrackingStore,
} from './types.js';

// The on-disk formats and their readers live in file-format.ts, reading folders into records in
// file-records.ts; re-exported for the tests and tools that check files against MLflow's.
export { fromMlflowYaml, toMlflowYaml, datasetId, inputId, latestMetric } from './file-format.js';

export class FileStore implements TrackingStore {
  readonly kind = 'file' as const;
  readonly uri: string;
  readonly root: string;
  private readonly runLocations = new Map<string, RunLocation>();
  private initialized = false;

  private readonly warned = new Set<string>();
  private readonly warn: (message: string) => void;

  constructor(root: string, o: { warn?: (message: string) => void } = {}) {
    this.root = resolve(root);
    this.uri = this.root;
    this.warn = o.warn ?? ((m) => process.stderr.write(`${m}\n`));
  }

  /**
   * A record whose meta.yaml cannot be read is skipped, as MLflow skips it, and said once: one
   * damaged file must not stop a study or its report. Reading never rewrites it.
   */
  private readonly onDamaged = (path: string, why: string): void => {
    if (this.warned.has(path)) return;
    this.warned.add(path);
    const depth = relative(this.root, path).split(sep).length;
    const what = depth === 2 ? 'an experiment' : depth === 3 ? 'a run' : 'a record';
    this.warn(`warning: skipping ${what} whose ${path} is damaged (${why}); fix or move that folder away to silence this`);
  };

  /** `file:///abs/mlruns`, the base of every experiment's artifact_location. */
  get artifactRootUri(): string {
    return pathToFileURL(this.root).href;
  }

  /** Like MLflow's FileStore constructor: a new root gets experiment 0 "Default" and `.trash/`. */
  private ensureRoot(): void {
    if (this.initialized) return;
    if (!existsSync(this.root)) {
      mkdirSync(this.root, { recursive: true });
      this.writeExperiment(DEFAULT_EXPERIMENT_ID, 'Default', {});
    } else if (!isDir(this.root)) {
      throw new TrackingError('INVALID_PARAMETER_VALUE', `'${this.root}' is not a directory, so it cannot hold an MLflow file store`);
    }
    mkdirSync(join(this.root, TRASH), { recursive: true });
    this.initialized = true;
  }

  // ---------------------------------------------------------------- experiments

  private experimentDir(id: string, includeDeleted = true): string | null {
    if (!EXPERIMENT_ID.test(id)) return null;
    const active = join(this.root, id);
    if (existsSync(join(active, 'meta.yaml'))) return active;
    if (includeDeleted) {
      const deleted = join(this.root, TRASH, id);
      if (existsSync(join(deleted, 'meta.yaml'))) return deleted;
    }
    return null;
  }

  async listExperiments(): Promise<Experiment[]> {
    const out: Experiment[] = [];
    for (const id of experimentIds(this.root)) {
      const e = readExperiment(join(this.root, id), id, this.onDamaged);
      if (e && e.lifecycle_stage === 'active') out.push(e);
    }
    return out.sort((a, b) => (b.creation_time ?? 0) - (a.creation_time ?? 0) || a.experiment_id.localeCompare(b.experiment_id));
  }

  private findExperimentByName(name: string): Experiment | null {
    return findExperiment(this.root, name, this.onDamaged);
  }

  /** Tags first, meta.yaml last: the experiment exists for MLflow only once it is complete. */
  private writeExperiment(id: string, name: string, tags: Record<string, string>): void {
    const dir = join(this.root, id);
    mkdirSync(dir, { recursive: id === DEFAULT_EXPERIMENT_ID });
    for (const [k, v] of Object.entries(tags)) {
      validateName('tag', k);
      writeViaTemp(join(dir, 'tags', k), v, dir);
    }
    const now = Date.now();
    atomicWriteFile(
      join(dir, 'meta.yaml'),
      toMlflowYaml({
        artifact_location: `${this.artifactRootUri}/${id}`,
        creation_time: now,
        experiment_id: id,
        last_update_time: now,
        lifecycle_stage: 'active',
        name,
      }),
    );
  }

  async getOrCreateExperiment(name: string, o: { tags?: Record<string, string> } = {}): Promise<string> {
    if (typeof name !== 'string' || name.trim() === '') throw new TrackingError('INVALID_PARAMETER_VALUE', 'Invalid experiment name: an experiment needs a non-empty name');
    this.ensureRoot();
    const found = this.findExperimentByName(name);
    if (found) return found.experiment_id;
    // Two bnx processes starting the same study must not create two experiments of one name.
    return withLockFile(join(this.root, '.bnx-experiments.lock'), async () => {
      const again = this.findExperimentByName(name);
      if (again) return again.experiment_id;
      let id = newExperimentId();
      while (existsSync(join(this.root, id))) id = newExperimentId();
      this.writeExperiment(id, name, o.tags ?? {});
      return id;
    });
  }

  // ---------------------------------------------------------------- runs

  private locateRun(runId: string): RunLocation {
    validateRunId(runId);
    const cached = this.runLocations.get(runId);
    if (cached && existsSync(join(cached.runDir, 'meta.yaml'))) return cached;
    const loc = findRun(this.root, runId);
    if (loc) {
      this.runLocations.set(runId, loc);
      return loc;
    }
    throw new TrackingError('RESOURCE_DOES_NOT_EXIST', `Run '${runId}' not found`, 404, [`store: ${this.root}`]);
  }

  private readRunMeta(runDir: string): RawMeta {
    const meta = readYaml(join(runDir, 'meta.yaml'), this.onDamaged);
    if (!meta) throw new TrackingError('INVALID_STATE', `Run folder ${runDir} has no readable meta.yaml`);
    return meta;
  }

  private writeRunMeta(runDir: string, meta: RawMeta): void {
    atomicWriteFile(join(runDir, 'meta.yaml'), toMlflowYaml(meta));
  }

  async getRun(runId: string): Promise<Run> {
    const loc = this.locateRun(runId);
    return buildRun(loc, this.readRunMeta(loc.runDir));
  }

  async createRun(experimentId: string, o: { runName: string; startTime?: number; tags?: Record<string, string>; status?: 'RUNNING' | 'SCHEDULED' }): Promise<Run> {
    this.ensureRoot();
    const experimentDir = this.experimentDir(experimentId, false);
    const experiment = experimentDir ? readExperiment(experimentDir, experimentId, this.onDamaged) : null;
    if (!experimentDir || !experiment) {
      throw new TrackingError('RESOURCE_DOES_NOT_EXIST', `Could not find experiment with ID ${experimentId}`, 404, [`store: ${this.root}`]);
    }
    if (experiment.lifecycle_stage !== 'active') {
      throw new TrackingError('INVALID_STATE', `Could not create run under non-active experiment with ID ${experimentId}.`);
    }
    const tags = { ...(o.tags ?? {}) };
    const tagName = tags[TAG.runName];
    if (o.runName && tagName !== undefined && tagName !== o.runName) {
      throw new TrackingError(
        'INVALID_PARAMETER_VALUE',
        `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${o.runName}', mlflow.runName='${tagName}').`,
        400,
      );
    }
    const runName = o.runName || tagName || `run-${randomBytes(3).toString('hex')}`;
    tags[TAG.runName] = runName;
    validateBatch([], [], Object.entries(tags));

    const runId = randomBytes(16).toString('hex');
    const runDir = join(experimentDir, runId);
    mkdirSync(runDir);
    for (const sub of ['metrics', 'params', 'artifacts', 'tags']) mkdirSync(join(runDir, sub));
    for (const [k, v] of Object.entries(tags)) writeViaTemp(join(runDir, 'tags', k), v, runDir);
    const meta: RawMeta = {
      artifact_uri: `${this.experimentArtifactBase(experiment)}/${runId}/artifacts`,
      end_time: null,
      entry_point_name: '',
      experiment_id: experimentId,
      lifecycle_stage: 'active',
      run_id: runId,
      run_name: runName,
      run_uuid: runId,
      source_name: '',
      source_type: SOURCE_TYPE_LOCAL,
      source_version: '',
      start_time: o.startTime ?? Date.now(),
      status: STATUS_TO_INT[o.status ?? 'RUNNING'],
      tags: [],
      user_id: tags[TAG.user] ?? currentUser(),
    };
    // meta.yaml last: before it exists the folder is not a run, for MLflow and for this reader.
    this.writeRunMeta(runDir, meta);
    this.runLocations.set(runId, { experimentDir, runDir });
    return buildRun({ experimentDir, runDir }, meta);
  }

  private activeRun(runId: string): { loc: RunLocation; meta: RawMeta } {
    const loc = this.locateRun(runId);
    const meta = this.readRunMeta(loc.runDir);
    if ((meta.lifecycle_stage ?? 'active') !== 'active') {
      throw new TrackingError('INVALID_STATE', `The run ${runId} must be in the 'active' state. Current state is ${String(meta.lifecycle_stage)}.`);
    }
    return { loc, meta };
  }

  async logBatch(runId: string, o: { metrics?: Metric[]; params?: Record<string, string>; tags?: Record<string, string> }): Promise<void> {
    const metrics = o.metrics ?? [];
    const params = Object.entries(o.params ?? {});
    const tags = Object.entries(o.tags ?? {});
    // Validate everything before writing anything: a rejected batch leaves no partial record.
    validateBatch(metrics, params, tags);
    const { loc, meta } = this.activeRun(runId);
    const runDir = loc.runDir;
    const conflicts: string[] = [];
    for (const [k, v] of params) {
      const p = join(runDir, 'params', k);
      if (existsSync(p)) {
        const old = readFileSync(p, 'utf8');
        if (old !== String(v)) conflicts.push(`Param with key='${k}' was already logged with value='${old}' for run ID='${runId}'. Attempted logging new value '${String(v)}'.`);
      }
    }
    if (conflicts.length) throw new TrackingError('INVALID_PARAMETER_VALUE', `Changing param values is not allowed. ${conflicts.join(' ')}`, 400);

    for (const [k, v] of params) {
      const p = join(runDir, 'params', k);
      if (!existsSync(p)) writeViaTemp(p, String(v), runDir);
    }
    const lines = new Map<string, string>();
    for (const m of metrics) lines.set(m.key, `${lines.get(m.key) ?? ''}${m.timestamp} ${formatPythonFloat(m.value)} ${m.step}\n`);
    for (const [key, text] of lines) appendMetricLines(join(runDir, 'metrics', key), text);
    for (const [k, v] of tags) {
      writeViaTemp(join(runDir, 'tags', k), String(v), runDir);
      if (k === TAG.runName && meta.run_name !== v) {
        meta.run_name = String(v);
        this.writeRunMeta(runDir, meta);
      }
    }
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.logBatch(runId, { tags: { [key]: value } });
  }

  async updateRun(runId: string, status: RunStatus, endTime?: number): Promise<void> {
    if (!isRunStatus(status)) throw new TrackingError('INVALID_PARAMETER_VALUE', `Invalid run status '${String(status)}'; expected one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED`);
    const { loc, meta } = this.activeRun(runId);
    // A scheduled run starts now: its clock starts with it, so MLflow's Duration is the run's own time.
    if (status === 'RUNNING' && meta.status === STATUS_TO_INT.SCHEDULED) meta.start_time = Date.now();
    meta.status = STATUS_TO_INT[status];
    if (endTime !== undefined) meta.end_time = endTime;
    if (status !== 'RUNNING' && status !== 'SCHEDULED') {
      // A writer that died mid-append may have left a torn line; MLflow's reader would choke on it.
      const dir = join(loc.runDir, 'metrics');
      for (const key of walkFiles(dir)) repairTornTail(join(dir, key));
    }
    this.writeRunMeta(loc.runDir, meta);
  }

  async logInputs(runId: string, datasets: DatasetInput[]): Promise<void> {
    const { loc } = this.activeRun(runId);
    for (const d of datasets) {
      const dsId = datasetId(d.name, d.digest);
      const datasetsDir = join(loc.experimentDir, 'datasets');
      const dsDir = join(datasetsDir, dsId);
      if (!existsSync(join(dsDir, 'meta.yaml'))) {
        // MLflow reads datasets/ only by exact id, so a temp folder beside it is never seen.
        publishFolder(datasetsDir, dsDir, toMlflowYaml(datasetMeta(d)));
      }
      const inId = inputId(dsId, runId);
      const inputsDir = join(loc.runDir, 'inputs');
      const inDir = join(inputsDir, inId);
      if (!existsSync(join(inDir, 'meta.yaml'))) {
        // MLflow reads every folder in inputs/, so the input is built at the run root and renamed in.
        mkdirSync(inputsDir, { recursive: true });
        publishFolder(loc.runDir, inDir, toMlflowYaml(inputMeta(dsId, d)));
      }
    }
  }

  // ---------------------------------------------------------------- artifacts (file-artifacts.ts)

  private artifactDir(runId: string): { dir: string; runDir: string } {
    const loc = this.locateRun(runId);
    return { dir: artifactDirOf(infoFromMeta(this.readRunMeta(loc.runDir), loc.runDir), loc.runDir), runDir: loc.runDir };
  }

  /** Where a run's artifact is on this machine (resolved as logArtifact writes it). */
  localArtifactPath(runId: string, artifactPath: string): string {
    return join(this.artifactDir(runId).dir, validateArtifactPath(artifactPath));
  }

  /**
   * The artifact base for new runs of an experiment: its artifact_location, unless that is MLflow's
   * default layout under another root (a moved or copied store), then the same layout under this one.
   */
  private experimentArtifactBase(e: Experiment): string {
    const loc = e.artifact_location;
    const own = `${this.artifactRootUri}/${e.experiment_id}`;
    if (loc === own || !loc.startsWith('file:') || !loc.endsWith(`/${e.experiment_id}`)) return loc || own;
    return own;
  }

  async logArtifact(runId: string, localPath: string, artifactPath: string): Promise<void> {
    const rel = validateArtifactPath(artifactPath);
    const { dir, runDir } = this.artifactDir(runId);
    putArtifact(dir, runDir, localPath, rel);
  }

  async downloadArtifact(runId: string, artifactPath: string, localPath: string): Promise<void> {
    const rel = validateArtifactPath(artifactPath);
    getArtifact(this.artifactDir(runId).dir, runId, rel, localPath);
  }

  async listArtifacts(runId: string, path?: string): Promise<ArtifactEntry[]> {
    const rel = path ? validateArtifactPath(path) : '';
    return listArtifactDir(this.artifactDir(runId).dir, rel);
  }

  // ---------------------------------------------------------------- queries

  async searchRuns(experimentId: string, o: SearchFilter = {}): Promise<Run[]> {
    const experimentDir = this.experimentDir(experimentId, false);
    if (!experimentDir) return [];
    const want = { ...(o.tags ?? {}), ...(o.parentRunId !== undefined ? { [TAG.parentRunId]: o.parentRunId } : {}) };
    const clauses = o.filter ? parseFilter(o.filter) : [];
    const runs: Run[] = [];
    for (const e of readdirSync(experimentDir, { withFileTypes: true })) {
      if (!e.isDirectory() || RESERVED_EXPERIMENT_FOLDERS.has(e.name) || e.name.startsWith('.')) continue;
      const runDir = join(experimentDir, e.name);
      const meta = readYaml(join(runDir, 'meta.yaml'), this.onDamaged);
      if (!meta || String(meta.experiment_id) !== experimentId || (meta.lifecycle_stage ?? 'active') !== 'active') continue;
      // Filter on tags before reading metrics: a study's lookups touch many runs, few match.
      if (!hasTags(runDir, want)) continue;
      const loc = { experimentDir, runDir };
      const run = buildRun(loc, meta);
      this.runLocations.set(run.info.run_id, loc);
      if (matchesFilter(run, clauses)) runs.push(run);
    }
    return runs.sort((a, b) => b.info.start_time - a.info.start_time || (a.info.run_id < b.info.run_id ? -1 : 1));
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    validateName('metric', key);
    const loc = this.locateRun(runId);
    return readMetricFile(join(loc.runDir, 'metrics', key), key);
  }
}
