/**
 * The run record: every tag, param, metric and artifact bnx puts in MLflow, with a typed writer and
 * a typed reader for each, so what execute-run writes and what collect, the queue and export read
 * back cannot drift apart. MLflow's own system tags (mlflow.*) are in types.ts (TAG).
 */
import { TAG, type Run } from './types.js';

/** Every `bnx.*` tag. Study bookkeeping (claims, heartbeats, sync origin) and the run's identity. */
export const BNX_TAG = {
  kind: 'bnx.kind',
  study: 'bnx.study',
  configSha256: 'bnx.config_sha256',
  runKey: 'bnx.run_key',
  variant: 'bnx.variant',
  seed: 'bnx.seed',
  matrix: 'bnx.matrix',
  backend: 'bnx.backend',
  backendRequested: 'bnx.backend_requested',
  version: 'bnx.version',
  /** Prefix of the library versions: `bnx.version.tfjs`, `bnx.version.node`, ... */
  versionPrefix: 'bnx.version.',
  host: 'bnx.host',
  cpu: 'bnx.cpu',
  cores: 'bnx.cores',
  owner: 'bnx.owner',
  heartbeat: 'bnx.heartbeat',
  outcome: 'bnx.outcome',
  failureReason: 'bnx.failure_reason',
  killedReason: 'bnx.killed_reason',
  onnxParity: 'bnx.onnx.parity',
  /** Which onnxruntime verified the export (onnxruntime-node, or onnxruntime-web as the fallback). */
  onnxRuntime: 'bnx.onnx.runtime',
  supersededBy: 'bnx.superseded_by',
  sourceRunId: 'bnx.source_run_id',
  sourceParentRunId: 'bnx.source_parent_run_id',
} as const;

/** Per-epoch metrics (step = epoch), in the order they are logged. `epoch_seconds` is the epoch's wall time. */
export const EPOCH_METRICS = ['train_loss', 'train_accuracy', 'test_loss', 'test_accuracy', 'val_loss', 'val_accuracy', 'lr', 'epoch_seconds'] as const;
export type EpochMetric = (typeof EPOCH_METRICS)[number];

/**
 * Training-dynamics probes (framework/train/probes.ts): `probe/<layer>/<name>` and `probe/model/<name>`,
 * step = optimizer steps taken when the probe ran (0: the initial model).
 */
export const PROBE_PREFIX = 'probe/';

/** One probe's values as MLflow metrics. */
export function probeMetrics(step: number, values: Record<string, number>, timestamp = Date.now()): { key: string; value: number; timestamp: number; step: number }[] {
  return Object.entries(values).map(([k, value]) => ({ key: `${PROBE_PREFIX}${k}`, value, timestamp, step }));
}

/** The probe metric names a run has (from its latest metric values). */
export function probeMetricNames(run: Run): string[] {
  return Object.keys(run.data.metrics)
    .filter((k) => k.startsWith(PROBE_PREFIX))
    .sort();
}

/** Metrics logged once per run (step 0). */
export const RUN_METRIC = {
  seconds: 'run_seconds',
  onnxTestAccuracy: 'onnx_test_accuracy',
  onnxMaxAbsDiff: 'onnx_max_abs_diff',
  onnxPredictionAgreement: 'onnx_prediction_agreement',
} as const;

/** Artifact paths under a run's artifact root. */
export const ARTIFACT = {
  config: 'config.yaml',
  metrics: 'metrics.json',
  tfjsModel: 'model/tfjs/model.json',
  tfjsWeights: 'model/tfjs/weights.bin',
  onnx: 'model/model.onnx',
  /** On the study's parent run. */
  studyYaml: 'study.yaml',
  /** On the study's parent run: `report/report.md`, `report/summary.json`, `report/index.html`. */
  report: (file: 'report.md' | 'summary.json' | 'index.html') => `report/${file}`,
} as const;

export const REPORT_FILES = ['report.md', 'summary.json', 'index.html'] as const;

/**
 * How an attempt ended. `died` is a training process that exited without an outcome (a crash, a
 * kill -9, a worker that vanished); `stopped` one that bnx SIGKILLed because it did not obey an
 * interrupt. Their records are still RUNNING and must be closed by whoever saw them end (FAILED and
 * KILLED). Everything else was recorded by the training process itself.
 */
export type OutcomeKind = 'finished' | 'failed' | 'killed' | 'died' | 'stopped';
export const OUTCOME_KINDS: readonly OutcomeKind[] = ['finished', 'failed', 'killed', 'died', 'stopped'];

export function statusOfKind(kind: OutcomeKind): 'FINISHED' | 'FAILED' | 'KILLED' {
  return kind === 'finished' ? 'FINISHED' : kind === 'killed' || kind === 'stopped' ? 'KILLED' : 'FAILED';
}

/** What a child run says about itself, written once its backend is known. */
export interface RunIdentity {
  runKey: string;
  variant: string;
  seed: number;
  matrix: Record<string, unknown>;
  configSha256: string;
  study: string;
  backend: string;
  backendRequested: string;
  bnxVersion: string;
  host: string;
  cpu: string;
  cores: number;
  /** Library versions, e.g. { tfjs: '4.22.0', node: 'v20.11.0' }. */
  versions: Record<string, string>;
  gitCommit?: string;
  sourceName: string;
}

export function identityTags(r: RunIdentity): Record<string, string> {
  return {
    [BNX_TAG.runKey]: r.runKey,
    [BNX_TAG.variant]: r.variant,
    [BNX_TAG.seed]: String(r.seed),
    [BNX_TAG.matrix]: JSON.stringify(r.matrix),
    [BNX_TAG.configSha256]: r.configSha256,
    [BNX_TAG.study]: r.study,
    [BNX_TAG.backend]: r.backend,
    [BNX_TAG.backendRequested]: r.backendRequested,
    [BNX_TAG.version]: r.bnxVersion,
    [BNX_TAG.host]: r.host,
    [BNX_TAG.cpu]: r.cpu,
    [BNX_TAG.cores]: String(r.cores),
    ...Object.fromEntries(Object.entries(r.versions).map(([k, v]) => [`${BNX_TAG.versionPrefix}${k}`, String(v)])),
    ...(r.gitCommit ? { [TAG.gitCommit]: r.gitCommit } : {}),
    [TAG.sourceName]: r.sourceName,
  };
}

/** The tags a finished attempt adds: its outcome kind, and why when it did not finish. */
export function outcomeTags(kind: OutcomeKind, reason?: string): Record<string, string> {
  const tags: Record<string, string> = { [BNX_TAG.outcome]: kind };
  if (reason && (kind === 'killed' || kind === 'stopped')) tags[BNX_TAG.killedReason] = reason.slice(0, 4000);
  else if (reason) tags[BNX_TAG.failureReason] = reason.slice(0, 4000);
  return tags;
}

/** A child run as bnx reads it back: identity, environment, outcome and the once-per-run figures. */
export interface RunRecordView {
  runKey?: string;
  variant?: string;
  seed?: number;
  backend: string | null;
  bnxVersion?: string;
  cpu?: string;
  cores?: number;
  versions: Record<string, string>;
  outcome?: OutcomeKind;
  failureReason?: string;
  killedReason?: string;
  seconds: number | null;
  onnx: { test_accuracy: number; max_abs_diff: number; prediction_agreement?: number } | null;
  sourceRunId?: string;
}

export function readRunRecord(run: Run): RunRecordView {
  const t = run.data.tags;
  const m = run.data.metrics;
  const seed = t[BNX_TAG.seed] !== undefined ? Number(t[BNX_TAG.seed]) : undefined;
  const cores = t[BNX_TAG.cores] !== undefined ? Number(t[BNX_TAG.cores]) : undefined;
  const outcome = OUTCOME_KINDS.find((k) => k === t[BNX_TAG.outcome]);
  const versions = Object.fromEntries(
    Object.entries(t)
      .filter(([k]) => k.startsWith(BNX_TAG.versionPrefix))
      .map(([k, v]) => [k.slice(BNX_TAG.versionPrefix.length), v]),
  );
  const def = <K extends keyof RunRecordView>(k: K, v: RunRecordView[K] | undefined) => (v === undefined ? {} : { [k]: v });
  return {
    ...def('runKey', t[BNX_TAG.runKey]),
    ...def('variant', t[BNX_TAG.variant]),
    ...def('seed', Number.isFinite(seed) ? seed : undefined),
    backend: t[BNX_TAG.backend] ?? null,
    ...def('bnxVersion', t[BNX_TAG.version]),
    ...def('cpu', t[BNX_TAG.cpu]),
    ...def('cores', Number.isFinite(cores) ? cores : undefined),
    versions,
    ...def('outcome', outcome),
    ...def('failureReason', t[BNX_TAG.failureReason]),
    ...def('killedReason', t[BNX_TAG.killedReason]),
    seconds: m[RUN_METRIC.seconds] ?? null,
    onnx:
      m[RUN_METRIC.onnxMaxAbsDiff] !== undefined && m[RUN_METRIC.onnxTestAccuracy] !== undefined
        ? {
            test_accuracy: m[RUN_METRIC.onnxTestAccuracy]!,
            max_abs_diff: m[RUN_METRIC.onnxMaxAbsDiff]!,
            ...(m[RUN_METRIC.onnxPredictionAgreement] !== undefined ? { prediction_agreement: m[RUN_METRIC.onnxPredictionAgreement] } : {}),
          }
        : null,
    ...def('sourceRunId', t[BNX_TAG.sourceRunId]),
  };
}

/** The per-epoch metrics of a training callback's figures (`seconds` becomes epoch_seconds). */
export function epochMetrics(m: Record<string, number | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of EPOCH_METRICS) {
    const v = k === 'epoch_seconds' ? m.seconds : m[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out;
}

/**
 * A metric name on the study's parent run: `<group>/<metric>.<stat>`, e.g. `batchnorm/test_accuracy.mean`
 * (MLflow's chart view groups metrics by the part before `/`). A group is the variant plus its matrix
 * cell (`baseline.lr_0.01`); characters MLflow does not allow in names become `_`.
 */
export function studyMetricName(variant: string, matrix: Record<string, unknown>, metric: string, stat: 'mean' | 'ci95_low' | 'ci95_high'): string {
  const clean = (s: string) => s.replace(/[^\p{L}\p{N}_.\- ]/gu, '_');
  const cell = Object.entries(matrix).map(([k, v]) => `${clean(k.split('.').pop()!)}_${clean(String(v))}`);
  return `${[clean(variant), ...cell].join('.')}/${metric}.${stat}`;
}
