/**
 * A study from plan to report: claim each planned run in the tracking store (skipping finished
 * ones), hand the rest to an executor, then build the report from what the store holds. The store
 * is the single record of truth, so `bnx report` and a resumed `bnx run` see exactly the same runs.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { dirname, relative, resolve } from 'node:path';
import type { LoadedStudy, BackendName } from '../config/index.js';
import type { PlannedRun, StudyPlan } from '../plan/index.js';
import type { Run, TrackingStore } from '../track/index.js';
import type { Executor } from './executor.js';
import type { RunJob, RunOutcome } from './job.js';

export interface StudyContext {
  study: LoadedStudy;
  plan: StudyPlan;
  store: TrackingStore;
  experimentId: string;
  parentRunId: string;
  dataset: { name?: string; path?: string };
}

export function trackingUriFor(study: LoadedStudy, flag?: string): string {
  const uri = flag ?? (process.env.MLFLOW_TRACKING_URI || undefined) ?? study.config.tracking.uri ?? './mlruns';
  // Any URI with a scheme (http:, file:, and unsupported ones like s3:, which openStore refuses) is
  // passed on as written; one-letter "schemes" are Windows drive letters.
  if (/^[a-z][a-z0-9+.-]+:/i.test(uri)) return uri;
  // A relative store path in the study file is relative to where bnx runs (like MLflow's ./mlruns).
  return resolve(uri);
}

export function gitCommit(dir: string): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface Claimed {
  toTrain: { run: PlannedRun; runId: string }[];
  skipped: { run: PlannedRun; record: Run }[];
  busy: { run: PlannedRun; record: Run }[];
}

export async function claimAll(ctx: StudyContext, o: { force?: boolean }): Promise<Claimed> {
  const { claimRun } = await import('../track/index.js');
  const claimed: Claimed = { toTrain: [], skipped: [], busy: [] };
  for (const run of ctx.plan.runs) {
    const c = await claimRun(ctx.store, { experimentId: ctx.experimentId, parentRunId: ctx.parentRunId }, { runKey: run.key, runName: run.name, force: o.force });
    if (c.action === 'train') claimed.toTrain.push({ run, runId: c.runId });
    else if (c.action === 'skip') claimed.skipped.push({ run, record: c.run });
    else claimed.busy.push({ run, record: c.run });
  }
  return claimed;
}

export function jobsFor(ctx: StudyContext, toTrain: Claimed['toTrain'], o: { backend?: BackendName }): RunJob[] {
  const commit = gitCommit(dirname(resolve(ctx.study.file)));
  return toTrain.map(({ run, runId }) => ({
    study: ctx.plan.study,
    configSha256: ctx.plan.configSha256,
    trackingUri: ctx.store.uri,
    experimentId: ctx.experimentId,
    parentRunId: ctx.parentRunId,
    runId,
    run,
    dataset: ctx.dataset,
    dataDigest: ctx.plan.dataDigest,
    backend: o.backend,
    exportOnnx: ctx.study.config.export.onnx,
    ...(ctx.study.config.probes ? { probes: ctx.study.config.probes } : {}),
    gitCommit: commit,
    studyFile: relative(process.cwd(), resolve(ctx.study.file)) || ctx.study.file,
  }));
}

export function defaultJobs(): number {
  return Math.max(1, cpus().length);
}

/** Runs the executor; a run whose process died is recorded FAILED so the store never lies. */
export async function executeAll(ctx: StudyContext, executor: Executor, jobs: RunJob[], events: Parameters<Executor['execute']>[1]): Promise<RunOutcome[]> {
  const { finishRun, outcomeTags, statusOfKind } = await import('../track/index.js');
  const outcomes = await executor.execute(jobs, events);
  for (const o of outcomes) {
    // The process could not record its own end: record it here (FAILED if it died, KILLED if stopped).
    if (o.kind !== 'died' && o.kind !== 'stopped') continue;
    await ctx.store.logBatch(o.runId, { tags: outcomeTags(o.kind, o.reason) });
    await finishRun(ctx.store, o.runId, statusOfKind(o.kind), { note: o.reason });
  }
  return outcomes;
}
