/**
 * The tracking store contract: what bnx needs from MLflow, whether MLflow is a folder of files
 * (FileStore) or a server (RestStore). Shapes follow MLflow's own entities so records read the
 * same everywhere; statuses are strings here and integers only inside a file store's meta.yaml.
 */
import { UserError } from '../util/errors.js';

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

export const RUN_STATUSES: readonly RunStatus[] = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];

/** MLflow's RunStatus enum, as stored in a file store's meta.yaml. */
export const STATUS_TO_INT: Record<RunStatus, number> = { RUNNING: 1, SCHEDULED: 2, FINISHED: 3, FAILED: 4, KILLED: 5 };
export const INT_TO_STATUS: Record<number, RunStatus> = { 1: 'RUNNING', 2: 'SCHEDULED', 3: 'FINISHED', 4: 'FAILED', 5: 'KILLED' };

export function isRunStatus(s: unknown): s is RunStatus {
  return typeof s === 'string' && (RUN_STATUSES as readonly string[]).includes(s);
}

export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

export interface RunInfo {
  run_id: string;
  experiment_id: string;
  run_name: string;
  status: RunStatus;
  start_time: number;
  end_time: number | null;
  artifact_uri: string;
  lifecycle_stage: string;
}

export interface RunData {
  params: Record<string, string>;
  tags: Record<string, string>;
  /** The latest value of each metric: max by (step, timestamp, value), as MLflow defines it. */
  metrics: Record<string, number>;
}

export interface DatasetInput {
  name: string;
  /** At most 36 characters (MLflow's limit). */
  digest: string;
  source_type: string;
  /** JSON text. */
  source: string;
  schema?: string;
  profile?: string;
  /** The `mlflow.data.context` input tag, e.g. `training`. */
  context?: string;
}

export interface Run {
  info: RunInfo;
  data: RunData;
  /** Dataset inputs, when the store returned them (getRun and searchRuns do). */
  inputs?: DatasetInput[];
}

export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  creation_time?: number;
  last_update_time?: number;
  tags: Record<string, string>;
}

export interface ArtifactEntry {
  /** Relative to the run's artifact root, `/`-separated (e.g. `model/model.onnx`). */
  path: string;
  is_dir: boolean;
  file_size?: number;
}

export interface SearchFilter {
  /** Every tag must equal the given value. */
  tags?: Record<string, string>;
  /** Only children of this run (tag `mlflow.parentRunId`). */
  parentRunId?: string;
  /** An MLflow filter string, e.g. ``params.`model.norm.type` = 'batch'`` (see filter.ts for the grammar). */
  filter?: string;
}

export interface TrackingStore {
  /** An absolute folder for a file store, the server URL for a REST store; openStore() accepts it back. */
  readonly uri: string;
  readonly kind: 'file' | 'rest';
  /** The id of the active experiment with this name, created (with `tags`) when missing. */
  getOrCreateExperiment(name: string, o?: { tags?: Record<string, string> }): Promise<string>;
  /** Active experiments, for sync. */
  listExperiments(): Promise<Experiment[]>;
  /** `status: 'SCHEDULED'` creates a run that waits for a worker; a file store writes it in the run's first meta.yaml, so no reader ever sees it RUNNING first. */
  createRun(experimentId: string, o: { runName: string; startTime?: number; tags?: Record<string, string>; status?: 'RUNNING' | 'SCHEDULED' }): Promise<Run>;
  logBatch(runId: string, o: { metrics?: Metric[]; params?: Record<string, string>; tags?: Record<string, string> }): Promise<void>;
  logInputs(runId: string, datasets: DatasetInput[]): Promise<void>;
  /** Copy a local file to `artifactPath` (e.g. `model/model.onnx`) under the run's artifact root. */
  logArtifact(runId: string, localPath: string, artifactPath: string): Promise<void>;
  downloadArtifact(runId: string, artifactPath: string, localPath: string): Promise<void>;
  /** Direct entries of `path` (default: the artifact root), with paths relative to the root. */
  listArtifacts(runId: string, path?: string): Promise<ArtifactEntry[]>;
  setTag(runId: string, key: string, value: string): Promise<void>;
  /** Set the status; `endTime` is kept as it was when not given. */
  updateRun(runId: string, status: RunStatus, endTime?: number): Promise<void>;
  getRun(runId: string): Promise<Run>;
  /** Active runs of the experiment, newest first. */
  searchRuns(experimentId: string, o?: SearchFilter): Promise<Run[]>;
  getMetricHistory(runId: string, key: string): Promise<Metric[]>;
}

/** MLflow's error codes that bnx handles. */
export type MlflowErrorCode = 'RESOURCE_DOES_NOT_EXIST' | 'RESOURCE_ALREADY_EXISTS' | 'INVALID_PARAMETER_VALUE' | 'INVALID_STATE' | string;

/**
 * An error MLflow reported (or would report: the file store raises the same codes). Carries MLflow's
 * error_code and message so callers can branch on the code and users see MLflow's own words.
 */
export class TrackingError extends UserError {
  constructor(
    readonly code: MlflowErrorCode,
    message: string,
    readonly status?: number,
    details: string[] = [],
  ) {
    super(message, details);
    this.name = 'TrackingError';
  }
}

/** The server could not be reached (connection refused, timeout, repeated 5xx) after every retry. */
export class TrackingConnectionError extends Error {
  constructor(
    message: string,
    readonly uri: string,
    /** What went wrong, without the server's address (e.g. `connect ECONNREFUSED 127.0.0.1:5000`). */
    readonly reason: string = message,
  ) {
    super(message);
    this.name = 'TrackingConnectionError';
  }
}

export function isTrackingError(err: unknown, code?: MlflowErrorCode): err is TrackingError {
  return err instanceof TrackingError && (code === undefined || err.code === code);
}

/** MLflow's limits (2.12): values longer than these are rejected by the server. */
export const LIMITS = {
  keyLength: 250,
  paramValueLength: 6000,
  tagValueLength: 5000,
  datasetDigestLength: 36,
  batchMetrics: 1000,
  batchParams: 100,
  batchTags: 100,
  batchTotal: 1000,
  /** Keep request bodies well under MLflow's 1 MB. */
  batchBytes: 900_000,
} as const;

/** System tags MLflow's UI understands. */
export const TAG = {
  runName: 'mlflow.runName',
  parentRunId: 'mlflow.parentRunId',
  user: 'mlflow.user',
  sourceName: 'mlflow.source.name',
  sourceType: 'mlflow.source.type',
  gitCommit: 'mlflow.source.git.commit',
  note: 'mlflow.note.content',
  datasetContext: 'mlflow.data.context',
} as const;
