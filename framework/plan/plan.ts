/**
 * The planner (Hydra's sweeper): a validated study in, the list of runs out. Pure: no I/O, no
 * training; the launcher decides where and whether each run executes.
 */
import { cells, matrixValueText, normalizeConfig, resolveCell, type Experiment, type MatrixCell, type RunConfig } from '../config/index.js';
// The constant alone, not train/index.ts: planning must not load TensorFlow.
import { SEMANTICS_VERSION } from '../train/semantics.js';
import { canonicalJson, sha256 } from '../util/hash.js';

export type MatrixValues = MatrixCell;

export interface PlannedRun {
  /** Position in the plan (variant order, then matrix, then seed). */
  index: number;
  /** Stable content hash of what the run computes: its resolved config and its data. */
  key: string;
  /**
   * Index of the earlier planned run with the same key: both variants resolve to the same computation,
   * so it is trained once and its result serves both.
   */
  sameAs?: number;
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
  /** Where the planning machine's data came from (`official`, `npm:...`, `archive:<md5>`, `path:...`): what a worker with other bytes names. */
  dataSource: string | null;
  runs: PlannedRun[];
}

/** Bump when the key's recipe changes (what is hashed and how); engine changes bump SEMANTICS_VERSION. */
export const KEY_VERSION = 2;

/**
 * The run key: sha256 of the normalised config (framework/config normalizeConfig: key order, YAML
 * formatting, defaults written or implicit and options without effect cannot change it), the dataset
 * digest (new data means new runs) and the engine's semantics version (new training code means new
 * runs). The backend is an execution choice, like --jobs, and stays out; each run records the one used.
 */
export function runKey(config: RunConfig, dataDigest: string | null): string {
  return sha256(canonicalJson({ v: KEY_VERSION, semantics: SEMANTICS_VERSION, config: normalizeConfig(config), data: dataDigest })).slice(0, 16);
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

export function planStudy(config: Experiment, o: { dataDigest?: string | null; dataSource?: string | null } = {}): StudyPlan {
  const dataDigest = o.dataDigest ?? null;
  const runs: PlannedRun[] = [];
  const firstByKey = new Map<string, number>();
  for (const cell of cells(config)) {
    const { fields, errors } = resolveCell(config, cell);
    // loadStudy has already validated every cell; reaching this means the caller skipped it.
    if (!fields) throw new Error(`planStudy: cell ${cell.variant} is invalid: ${JSON.stringify(errors)}`);
    for (const seed of config.seeds) {
      const runConfig: RunConfig = { ...structuredClone(fields), seed };
      const key = runKey(runConfig, dataDigest);
      const first = firstByKey.get(key);
      if (first === undefined) firstByKey.set(key, runs.length);
      runs.push({
        index: runs.length,
        key,
        ...(first === undefined ? {} : { sameAs: first }),
        name: runName(cell.variant, cell.matrix, seed),
        variant: cell.variant,
        matrix: cell.matrix,
        seed,
        config: runConfig,
      });
    }
  }
  return { study: config.name, configSha256: studyConfigSha256(config), dataDigest, dataSource: o.dataSource ?? null, runs };
}
