/**
 * What crosses the boundary between the orchestrator and whatever trains a run (a local child
 * process, a queue worker on another machine): plain JSON, so it can go over IPC or Redis.
 */
import type { BackendName, ProbesConfig } from '../config/index.js';
import type { PlannedRun } from '../plan/index.js';
import type { OutcomeKind } from '../track/index.js';

export interface RunJob {
  study: string;
  /** sha256 of the resolved study config; tagged on every child run. */
  configSha256: string;
  trackingUri: string;
  experimentId: string;
  parentRunId: string;
  /** The MLflow run created for this attempt by claimRun. */
  runId: string;
  run: PlannedRun;
  /** `{ name }` or `{ path }` (absolute), exactly as planned. */
  dataset: { name?: string; path?: string };
  /** Digest the plan was made with: training refuses data that changed since. */
  dataDigest: string | null;
  /**
   * The source of that data on the planning machine (`official`, `npm:<pkg>@<version>`,
   * `archive:<md5>`, `path:<abs>`): a queue worker whose data differs names it and leaves the run
   * to another worker. Absent in jobs of older bnx versions.
   */
  dataSource?: string | null;
  /** Times a queue worker left this job for another (it holds other data): not attempts of the run. */
  refused?: number;
  /** --backend, which overrides train.backend without changing the run key. */
  backend?: BackendName;
  exportOnnx: boolean;
  /** The study's `probes:` (absent: none). Not part of the run key: probes never change results. */
  probes?: ProbesConfig;
  /** git commit of the study's repository, when it lives in one. */
  gitCommit?: string;
  studyFile: string;
}

export interface EpochEvent {
  key: string;
  epoch: number;
  epochs: number;
  metrics: Record<string, number>;
}

export interface OnnxFigures {
  path: string;
  test_accuracy: number;
  tfjs_accuracy: number;
  max_abs_diff: number;
  prediction_agreement: number;
}

export interface RunOutcome {
  key: string;
  runId: string;
  /** How the attempt ended; `died` means no process recorded it, so its record still needs closing. */
  kind: OutcomeKind;
  status: 'FINISHED' | 'FAILED' | 'KILLED';
  reason?: string;
  backend: string | null;
  seconds: number;
  epochs: Record<string, number>[];
  onnx: OnnxFigures | null;
}

/**
 * The outcome of an attempt whose training process ended without reporting one: it `died`, or bnx
 * `stopped` it (SIGKILL after an interrupt it did not obey). Its record must be closed by the caller.
 */
export function diedOutcome(job: Pick<RunJob, 'run' | 'runId'>, reason: string, kind: 'died' | 'stopped' = 'died'): RunOutcome {
  return { key: job.run.key, runId: job.runId, kind, status: kind === 'stopped' ? 'KILLED' : 'FAILED', reason, backend: null, seconds: 0, epochs: [], onnx: null };
}
