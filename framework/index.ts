/**
 * bnx as a library (`import { runStudy } from 'bnx'`): the same steps as the command line, typed,
 * for notebooks and other tools. Validation problems come back as data; everything else a user can
 * fix throws a UserError (ConfigError for a bad study) with the message the CLI would print.
 * Heavy stages (TensorFlow, onnxruntime, tracking) load only when a function needs them.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, loadStudy, parseStudy, type LoadedStudy, type Problem, type BackendName } from './config/index.js';
import type { StudyPlan } from './plan/index.js';
import type { Summary } from './report/index.js';
import { EXIT, UserError } from './util/errors.js';
import { BNX_VERSION } from './util/version.js';

export { ConfigError, UserError, loadStudy, parseStudy, BNX_VERSION, EXIT };
export type { LoadedStudy, Problem, StudyPlan, Summary, BackendName };
export type { Experiment, RunConfig, DatasetConfig, ModelConfig, TrainConfig, NormConfig, OptimizerConfig, ScheduleConfig } from './config/index.js';
export type { PlannedRun, MatrixValues } from './plan/index.js';
export type { VariantStats, Comparison, RunRecord, EpochRecord, RunStatus } from './report/index.js';
export type { ClaimResult, ClaimSide, ClaimVerdict } from './report/index.js';
export type { Hypothesis, Selector, ClaimMetric, ClaimTest } from './config/index.js';

export interface StudyOptions {
  /** `key=value` overrides of base keys, as `bnx --set` (typed through the schema). */
  set?: string[];
}

export type Validation = { ok: true; study: LoadedStudy; runs: number } | { ok: false; problems: Problem[] };

/** `bnx validate`: every problem of a study file at once, each with file:line:col; never throws for a bad study. */
export async function validateStudy(file: string, o: StudyOptions = {}): Promise<Validation> {
  try {
    const study = loadStudy(file, { set: o.set ?? [] });
    const { planStudy: planPure } = await import('./plan/index.js');
    return { ok: true, study, runs: planPure(study.config).runs.length };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, problems: err.problems };
    throw err;
  }
}

/**
 * `bnx plan`: every run (variant x matrix cell x seed) with its key. The keys include the dataset's
 * digest, as `bnx run` computes them, so the dataset is loaded (and cached) once.
 */
export async function planStudy(study: string | LoadedStudy, o: StudyOptions & { log?: (m: string) => void } = {}): Promise<StudyPlan> {
  const loaded = typeof study === 'string' ? loadStudy(study, { set: o.set ?? [] }) : study;
  const { planWithData } = await import('./cli/study-commands.js');
  return planWithData(loaded, o.log);
}

export interface RunStudyOptions extends StudyOptions {
  /** Parallel training processes (default: one per core). */
  jobs?: number;
  backend?: BackendName;
  /** A folder (MLflow file store) or http(s):// MLflow server; default as the CLI ($MLFLOW_TRACKING_URI, tracking.uri, ./mlruns). */
  trackingUri?: string;
  /** Retrain runs that already FINISHED. */
  force?: boolean;
  /** redis://… : hand the runs to `bnx worker` processes instead of training here. */
  queue?: string;
  /** As `--check`: exit code 1 when a claim of the study is refuted. */
  check?: boolean;
  /** Progress and messages, one line per call (default: stderr). */
  log?: (line: string) => void;
}

export interface StudyResult {
  /** As the CLI: 0 every run finished, 1 some run failed (or, with `check`, a claim was refuted), 130 interrupted. */
  exitCode: number;
  /** summary.json's content (undefined when interrupted before the report). */
  summary?: Summary;
  /** Absolute path of the report folder (reports/<study> under the working directory). */
  reportDir?: string;
}

/**
 * `bnx run`: train what is not finished, log to MLflow, export and verify ONNX, write the report.
 * Runs train in child processes; Ctrl-C while it runs interrupts the study as in the CLI.
 */
export async function runStudy(file: string, o: RunStudyOptions = {}): Promise<StudyResult> {
  const { runCommand } = await import('./cli/run-command.js');
  let written: { summary: Summary; dir: string } | undefined;
  const exitCode = await runCommand(file, {
    set: o.set ?? [],
    ...(o.jobs !== undefined ? { jobs: o.jobs } : {}),
    ...(o.backend ? { backend: o.backend } : {}),
    ...(o.trackingUri ? { trackingUri: o.trackingUri } : {}),
    ...(o.force ? { force: o.force } : {}),
    ...(o.queue ? { queue: o.queue } : {}),
    ...(o.check ? { check: o.check } : {}),
    log: o.log ?? ((m) => process.stderr.write(`${m}\n`)),
    print: () => {},
    onReport: (r) => (written = r),
  });
  return { exitCode, ...(written ? { summary: written.summary, reportDir: written.dir } : {}) };
}

/**
 * The study's statistics computed from its runs in the tracking store (what `bnx report` writes as
 * summary.json), without training and without writing anything.
 */
export async function readResults(file: string, o: StudyOptions & { trackingUri?: string; log?: (m: string) => void } = {}): Promise<Summary> {
  const { openContext } = await import('./cli/run-command.js');
  const ctx = await openContext(file, { set: o.set ?? [], ...(o.trackingUri ? { trackingUri: o.trackingUri } : {}), forWriting: false, log: o.log ?? (() => {}) });
  const { collectStudy } = await import('./launch/index.js');
  const { buildSummary } = await import('./report/index.js');
  const input = await collectStudy(ctx);
  if (!input.study.runs.some((r) => r.status === 'FINISHED')) {
    throw new UserError(`${ctx.plan.study}: no finished runs in ${ctx.store.uri} yet; run the study first`);
  }
  return buildSummary(input.study);
}

/** A written report's summary.json: pass the report folder (reports/<study>) or the file itself. */
export function readSummary(path: string): Summary {
  const file = path.endsWith('.json') ? resolve(path) : join(resolve(path), 'summary.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, [
      'write it with `bnx run STUDY.yaml` or `bnx report STUDY.yaml`',
    ]);
  }
  return JSON.parse(text) as Summary;
}
