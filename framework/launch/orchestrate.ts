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
import { DEFAULT_TRACKING_URI, type Run, type TrackingStore } from '../track/index.js';
import type { Executor } from './executor.js';
import { JobFeed } from './job-feed.js';
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
  const uri = flag ?? (process.env.MLFLOW_TRACKING_URI || undefined) ?? study.config.tracking.uri ?? DEFAULT_TRACKING_URI;
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
  /** Planned runs whose resolved config repeats an earlier one: served by that run, never trained twice. */
  repeats: PlannedRun[];
}

export interface ClaimHooks {
  /** Each run created, as soon as it exists, so an interrupt during claiming can end it. */
  onCreated?: (runId: string) => void;
  onProgress?: (done: number, total: number) => void;
  /** Once every run is decided from the first read of the store (before any is created). */
  onDecided?: (counts: { skip: number; busy: number; train: number }) => void;
  /** Each batch of claimed runs once final, ready to train (the first holds the reused and busy runs too). */
  onBatch?: (batch: Claimed) => void;
  /** New runs per batch after the first (default: all at once). */
  batchSize?: number;
  /** New runs in the first batch, so training starts before a large plan is fully claimed. */
  firstBatch?: number;
  signal?: AbortSignal;
}

/**
 * Claim every distinct run key of the plan (see claimRuns): finished anywhere in the experiment ->
 * reused, new -> created SCHEDULED under this study's parent, in batches handed to `onBatch`.
 */
export async function claimAll(ctx: StudyContext, o: { force?: boolean } & ClaimHooks): Promise<Claimed> {
  const { claimRuns } = await import('../track/index.js');
  const claimed: Claimed = { toTrain: [], skipped: [], busy: [], repeats: [] };
  const distinct = ctx.plan.runs.filter((r) => r.sameAs === undefined);
  claimed.repeats = ctx.plan.runs.filter((r) => r.sameAs !== undefined);
  await claimRuns(
    ctx.store,
    { experimentId: ctx.experimentId, parentRunId: ctx.parentRunId },
    distinct.map((r) => ({ runKey: r.key, runName: r.name })),
    {
      force: o.force,
      onCreated: o.onCreated,
      onProgress: o.onProgress,
      onDecided: o.onDecided,
      signal: o.signal,
      batchSize: (b) => (b === 0 ? (o.firstBatch ?? o.batchSize) : o.batchSize) ?? distinct.length,
      onBatch: (batch) => {
        const part: Claimed = { toTrain: [], skipped: [], busy: [], repeats: [] };
        for (const { index, claim: c } of batch) {
          const run = distinct[index]!;
          if (c.action === 'train') part.toTrain.push({ run, runId: c.runId });
          else if (c.action === 'skip') part.skipped.push({ run, record: c.run });
          else part.busy.push({ run, record: c.run });
        }
        claimed.toTrain.push(...part.toTrain);
        claimed.skipped.push(...part.skipped);
        claimed.busy.push(...part.busy);
        o.onBatch?.(part);
      },
    },
  );
  return claimed;
}

const commits = new Map<string, string | undefined>();

export function jobsFor(ctx: StudyContext, toTrain: Claimed['toTrain'], o: { backend?: BackendName }): RunJob[] {
  const dir = dirname(resolve(ctx.study.file));
  if (!commits.has(dir)) commits.set(dir, gitCommit(dir));
  const commit = commits.get(dir);
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
    dataSource: ctx.plan.dataSource,
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
export async function executeAll(
  ctx: StudyContext,
  executor: Executor,
  jobs: RunJob[] | JobFeed<RunJob>,
  events: Parameters<Executor['execute']>[1],
): Promise<RunOutcome[]> {
  const { finishRun, outcomeTags, statusOfKind } = await import('../track/index.js');
  const outcomes = await executor.execute(Array.isArray(jobs) ? JobFeed.of(jobs) : jobs, events);
  for (const o of outcomes) {
    // The process could not record its own end: record it here (FAILED if it died, KILLED if stopped).
    if (o.kind !== 'died' && o.kind !== 'stopped') continue;
    await ctx.store.logBatch(o.runId, { tags: outcomeTags(o.kind, o.reason) });
    await finishRun(ctx.store, o.runId, statusOfKind(o.kind), { note: o.reason });
  }
  return outcomes;
}

/**
 * Another `bnx run` of the same runs is training some of them: wait until each has ended (one read of
 * the store per poll), so this invocation can report them instead of giving up. A run whose owner
 * died meanwhile is not waited for (the next `bnx run` trains it again).
 */
export async function waitForOthers(
  ctx: StudyContext,
  busy: Claimed['busy'],
  o: { signal?: AbortSignal; everyMs?: number } = {},
): Promise<{ waiting: PlannedRun[]; abandoned: PlannedRun[] }> {
  const { runsByKey, ownerGone } = await import('../track/index.js');
  let waiting = busy.map((b) => b.run);
  const abandoned: PlannedRun[] = [];
  while (waiting.length && !o.signal?.aborted) {
    const index = await runsByKey(ctx.store, ctx.experimentId);
    waiting = waiting.filter((run) => {
      const records = index.get(run.key) ?? [];
      if (records.some((r) => r.info.status === 'FINISHED')) return false;
      const active = records.filter((r) => r.info.status === 'RUNNING' || r.info.status === 'SCHEDULED');
      if (active.length === 0) return false;
      if (active.every((r) => ownerGone(r) !== null)) {
        abandoned.push(run);
        return false;
      }
      return true;
    });
    if (waiting.length) await sleep(o.everyMs ?? 2000, o.signal);
  }
  return { waiting, abandoned };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
