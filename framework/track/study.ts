/**
 * A study in MLflow terms: one experiment per study name, one parent run per study config (found
 * again by its tags on every invocation), one child run per planned run, keyed by `bnx.run_key`.
 * Claiming a child is how a study resumes: finished runs are reused, runs whose owner died are
 * marked KILLED and trained again, runs still alive elsewhere are left alone.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { ARTIFACT, BNX_TAG } from './run-record.js';
import { LIMITS, TAG, type DatasetInput, type Run, type RunStatus, type TrackingStore } from './types.js';

export { BNX_TAG };

export interface StudyRef {
  experimentId: string;
  parentRunId: string;
}

export type Claim = { action: 'skip'; run: Run } | { action: 'train'; runId: string } | { action: 'busy'; run: Run };

function currentUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

/** What MLflow's own client tags every run with (its context providers). */
export function contextTags(): Record<string, string> {
  return { [TAG.sourceName]: 'bnx', [TAG.sourceType]: 'LOCAL', [TAG.user]: currentUser() };
}

/** `host:pid` of this process, the owner recorded on the runs it claims. */
export function ownerId(): string {
  return `${hostname()}:${process.pid}`;
}

/** Oldest first (ties by run id), the order in which every process sees claims. */
export const byStart = (a: Run, b: Run): number => a.info.start_time - b.info.start_time || (a.info.run_id < b.info.run_id ? -1 : a.info.run_id > b.info.run_id ? 1 : 0);

/**
 * The parent run of this study config in its experiment, created on first use with the study file
 * as artifact `study.yaml`. `create: false` (for read-only commands) throws when there is none;
 * `markRunning` flips a reused parent back to RUNNING for a resumed study.
 */
export async function openStudy(
  store: TrackingStore,
  o: {
    experimentName: string;
    studyName: string;
    configSha256: string;
    studyYaml: string;
    create?: boolean;
    markRunning?: boolean;
    /** Reading a config that never ran as such (runs are found by key): no parent is fine, parentRunId ''. */
    parentOptional?: boolean;
  },
): Promise<StudyRef> {
  const create = o.create ?? true;
  // Reading never writes: a read-only command looks the experiment up instead of creating it.
  const existing = create ? undefined : (await store.listExperiments()).find((e) => e.name === o.experimentName);
  if (!create && !existing) {
    throw new UserError(`No runs of study '${o.studyName}' in ${store.uri} (no experiment '${o.experimentName}')`, ['run the study first: bnx run <study.yaml>']);
  }
  const experimentId = existing ? existing.experiment_id : await store.getOrCreateExperiment(o.experimentName);
  const tags = { [BNX_TAG.kind]: 'study', [BNX_TAG.study]: o.studyName, [BNX_TAG.configSha256]: o.configSha256 };
  // Two processes starting at once may both create a parent; the oldest one is the parent for everyone.
  const parents = (await store.searchRuns(experimentId, { tags })).filter((r) => !r.data.tags[TAG.parentRunId]).sort(byStart);
  let parentRunId: string;
  let fresh = false;
  if (parents[0]) {
    parentRunId = parents[0].info.run_id;
    if (o.markRunning && parents[0].info.status !== 'RUNNING') await store.updateRun(parentRunId, 'RUNNING');
  } else {
    if (!create) {
      if (o.parentOptional) return { experimentId, parentRunId: '' };
      throw new UserError(`No runs of study '${o.studyName}' (config ${o.configSha256.slice(0, 12)}) in ${store.uri}`, ['run the study first: bnx run <study.yaml>']);
    }
    const run = await store.createRun(experimentId, {
      runName: o.studyName,
      tags: { ...contextTags(), ...tags, [TAG.note]: truncate(`# ${o.studyName}\n\nbnx study, config sha256 \`${o.configSha256}\`; its runs are nested below.`, LIMITS.tagValueLength) },
    });
    parentRunId = run.info.run_id;
    fresh = true;
  }
  if (create && (fresh || !(await store.listArtifacts(parentRunId)).some((a) => a.path === ARTIFACT.studyYaml))) {
    const dir = mkdtempSync(join(tmpdir(), 'bnx-study-'));
    try {
      writeFileSync(join(dir, 'study.yaml'), o.studyYaml);
      await store.logArtifact(parentRunId, join(dir, 'study.yaml'), ARTIFACT.studyYaml);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { experimentId, parentRunId };
}

export function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 3)}...`;
}

/**
 * Params, tags and the dataset input of a run. Values longer than MLflow accepts are cut (with
 * `...`) rather than failing the run; the dataset digest is cut to MLflow's 36 characters.
 */
export async function logRunRecord(
  store: TrackingStore,
  runId: string,
  o: { params: Record<string, string>; tags: Record<string, string>; dataset?: DatasetInput },
): Promise<void> {
  const params = Object.fromEntries(Object.entries(o.params).map(([k, v]) => [k, truncate(String(v), LIMITS.paramValueLength)]));
  const tags = Object.fromEntries(Object.entries(o.tags).map(([k, v]) => [k, truncate(String(v), LIMITS.tagValueLength)]));
  await store.logBatch(runId, { params, tags });
  if (o.dataset) {
    const d = o.dataset;
    await store.logInputs(runId, [{ ...d, digest: d.digest.slice(0, LIMITS.datasetDigestLength), context: d.context ?? 'training' }]);
  }
}

/** One epoch's metrics, step = epoch. Non-numbers are dropped; NaN and infinities are kept (MLflow stores them). */
export async function logEpoch(store: TrackingStore, runId: string, epoch: number, metrics: Record<string, number>): Promise<void> {
  const timestamp = Date.now();
  const list = Object.entries(metrics)
    .filter(([, v]) => typeof v === 'number')
    .map(([key, value]) => ({ key, value, timestamp, step: epoch }));
  if (list.length) await store.logBatch(runId, { metrics: list });
}

/** End a run: an optional Markdown note (shown as the run's description in the UI), then status and end time. */
export async function finishRun(store: TrackingStore, runId: string, status: RunStatus, o: { note?: string } = {}): Promise<void> {
  if (o.note !== undefined) await store.setTag(runId, TAG.note, truncate(o.note, LIMITS.tagValueLength));
  await store.updateRun(runId, status, Date.now());
}

/**
 * A nested config as MLflow params: dotted keys (`train.optimizer.lr`), scalars as text, arrays
 * (and empty objects) as JSON, null as `null`; undefined is left out.
 */
export function flattenParams(obj: unknown, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  const visit = (v: unknown, key: string): void => {
    if (v === undefined) return;
    if (v === null) out[key] = 'null';
    else if (Array.isArray(v)) out[key] = JSON.stringify(v);
    else if (typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>);
      if (entries.length === 0 && key) out[key] = '{}';
      for (const [k, child] of entries) visit(child, key ? `${key}.${k}` : k);
    } else out[key] = String(v);
  };
  visit(obj, prefix);
  return out;
}

/**
 * Ctrl-C (and SIGTERM): mark the runs under way KILLED, then exit 128 + signal (130 for SIGINT).
 * A second signal exits at once. Returns a function that removes the handlers.
 */
export function installInterruptHandler(
  store: TrackingStore,
  getActiveRunIds: () => string[],
  o: { signals?: NodeJS.Signals[]; exit?: (code: number) => void; log?: (m: string) => void; timeoutMs?: number } = {},
): () => void {
  const signals = o.signals ?? ['SIGINT', 'SIGTERM'];
  const exit = o.exit ?? ((code: number) => process.exit(code));
  const log = o.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const codes: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
  let handling = false;
  const handler = (signal: NodeJS.Signals): void => {
    const code = codes[signal] ?? 130;
    if (handling) {
      exit(code);
      return;
    }
    handling = true;
    const ids = getActiveRunIds();
    log(`\ninterrupted (${signal}): marking ${ids.length} run${ids.length === 1 ? '' : 's'} KILLED; the next run of this study resumes them`);
    const work = Promise.allSettled(
      ids.map(async (id) => {
        await store.setTag(id, BNX_TAG.killedReason, `interrupted (${signal})`);
        await store.updateRun(id, 'KILLED', Date.now());
      }),
    );
    const timeout = new Promise((r) => setTimeout(r, o.timeoutMs ?? 10_000).unref());
    void Promise.race([work, timeout]).finally(() => exit(code));
  };
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}
