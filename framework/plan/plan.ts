/**
 * The planner (Hydra's sweeper): a validated study in, the list of runs out. Pure: no I/O, no
 * training; the launcher decides where and whether each run executes.
 */
import { cells, matrixValueText, resolveCell, type MatrixCell } from '../config/resolve.js';
import type { Experiment, RunConfig } from '../config/schema.js';
import { canonicalJson, sha256 } from '../util/hash.js';

export type MatrixValues = MatrixCell;

export interface PlannedRun {
  /** Position in the plan (variant order, then matrix, then seed). */
  index: number;
  /** Stable content hash of what the run computes: its resolved config and its data. */
  key: string;
  /** Readable name, e.g. `batchnorm/lr=0.01/seed=1`. */
  name: string;
  variant: string;
  matrix: MatrixValues;
  seed: number;
  config: RunConfig;
}

export interface StudyPlan {
  study: string;
  /** Hash of the whole resolved study (not where it is tracked): names the MLflow parent run. */
  configSha256: string;
  dataDigest: string | null;
  runs: PlannedRun[];
}

/** Bump when training semantics change so old results are not reused for new code. */
export const KEY_VERSION = 1;

/**
 * The run key: sha256 of the canonical resolved config (key order and YAML formatting cannot change
 * it) and the dataset digest, so new data means new runs. The backend is an execution choice, like
 * --jobs, and stays out of the key; each run records the backend it used.
 */
export function runKey(config: RunConfig, dataDigest: string | null): string {
  const { backend: _backend, ...train } = config.train;
  return sha256(canonicalJson({ v: KEY_VERSION, dataset: config.dataset, model: config.model, train, seed: config.seed, data: dataDigest })).slice(0, 16);
}

export function runName(variant: string, matrix: MatrixValues, seed: number): string {
  const paths = Object.keys(matrix);
  const lasts = paths.map((p) => p.split('.').pop()!);
  const ambiguous = new Set(lasts).size !== lasts.length;
  const parts = paths.map((p, i) => `${ambiguous ? p : lasts[i]}=${matrixValueText(matrix[p])}`);
  return [variant, ...parts, `seed=${seed}`].join('/');
}

export function studyConfigSha256(config: Experiment): string {
  // Hypotheses are read only by the report: stating or editing a claim must not make a new study config.
  const { tracking: _t, description: _d, $schema: _s, hypotheses: _h, ...rest } = config;
  return sha256(canonicalJson(rest));
}

export function planStudy(config: Experiment, o: { dataDigest?: string | null } = {}): StudyPlan {
  const dataDigest = o.dataDigest ?? null;
  const runs: PlannedRun[] = [];
  for (const cell of cells(config)) {
    const { fields, errors } = resolveCell(config, cell);
    // loadStudy has already validated every cell; reaching this means the caller skipped it.
    if (!fields) throw new Error(`planStudy: cell ${cell.variant} is invalid: ${JSON.stringify(errors)}`);
    for (const seed of config.seeds) {
      const runConfig: RunConfig = { ...structuredClone(fields), seed };
      runs.push({
        index: runs.length,
        key: runKey(runConfig, dataDigest),
        name: runName(cell.variant, cell.matrix, seed),
        variant: cell.variant,
        matrix: cell.matrix,
        seed,
        config: runConfig,
      });
    }
  }
  return { study: config.name, configSha256: studyConfigSha256(config), dataDigest, runs };
}
