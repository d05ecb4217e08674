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
import { pidAlive } from '../util/pid.js';
import { ARTIFACT, BNX_TAG } from './run-record.js';
import { LIMITS, TAG, type DatasetInput, type Run, type RunStatus, type TrackingStore } from './types.js';

export { BNX_TAG };

/** A RUNNING run on another host is presumed dead after this long without a heartbeat. */
export const STALE_HEARTBEAT_MS = 5 * 60_000;
/** On this host a live pid vouches for its run, unless it has been silent this long (the pid was reused). */
export const LOCAL_STALE_HEARTBEAT_MS = 60 * 60_000;

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

const byStart = (a: Run, b: Run): number => a.info.start_time - b.info.start_time || (a.info.run_id < b.info.run_id ? -1 : a.info.run_id > b.info.run_id ? 1 : 0);

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

/** Why a RUNNING run's owner is gone, or null while it looks alive. */
export function ownerGone(run: Run, now = Date.now(), o: { staleMs?: number; localStaleMs?: number } = {}): string | null {
  const tags = run.data.tags;
  const owner = tags[BNX_TAG.owner];
  const hb = Number(tags[BNX_TAG.heartbeat]);
  const last = Number.isFinite(hb) && hb > 0 ? hb : run.info.start_time;
  const silent = now - last;
  const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;
  if (owner) {
    const i = owner.lastIndexOf(':');
    const host = owner.slice(0, i);
    const pid = Number(owner.slice(i + 1));
    if (host === hostname()) {
      if (!pidAlive(pid)) return `its process ${pid} on ${host} is gone`;
      if (silent > (o.localStaleMs ?? LOCAL_STALE_HEARTBEAT_MS)) return `no heartbeat for ${minutes(silent)} (pid ${pid} exists but was likely reused)`;
      return null;
    }
  }
  if (silent > (o.staleMs ?? STALE_HEARTBEAT_MS)) return `no heartbeat for ${minutes(silent)} from ${owner ?? 'an unknown owner'}`;
  return null;
}

/** Every bnx child run of the experiment, by run key: one read of the store, whatever parent holds them. */
export async function runsByKey(store: TrackingStore, experimentId: string): Promise<Map<string, Run[]>> {
  const index = new Map<string, Run[]>();
  for (const r of await store.searchRuns(experimentId, {})) {
    const key = r.data.tags[BNX_TAG.runKey];
    if (key) index.set(key, [...(index.get(key) ?? []), r]);
  }
  return index;
}

export interface ClaimOptions {
  force?: boolean;
  staleMs?: number;
  localStaleMs?: number;
  /** Called with every run created, as soon as it exists (an interrupt must be able to end it). */
  onCreated?: (runId: string) => void;
  /** Progress of the claiming pass: runs decided so far, of the total. */
  onProgress?: (done: number, total: number) => void;
  /** Stop claiming (Ctrl-C): the runs not reached yet are left out of the result. */
  signal?: AbortSignal;
}

/** The runs of one claimed batch, final (rivals resolved), by their index in the planned list. */
export type ClaimBatch = { index: number; claim: Claim }[];

export interface BatchedClaimOptions extends ClaimOptions {
  /** How many new runs each batch creates; the first may be smaller so training starts at once (default: all in one). */
  batchSize?: (batch: number) => number;
  /** Once every run is decided from the first read: how many are reused, busy elsewhere and to train. */
  onDecided?: (counts: { skip: number; busy: number; train: number }) => void;
  /** Each batch once final: the first holds every reused and busy run too. The next batch waits for it. */
  onBatch?: (batch: ClaimBatch) => void | Promise<void>;
}

/**
 * Decide what to do with each planned run, reading the store once for the decisions and once more
 * per batch of new runs (not once per run). A run key FINISHED anywhere in the experiment (under
 * any parent: another seed list, another report setting) -> skip (unless force); absent, FAILED or
 * KILLED -> a new child of this study's parent, created SCHEDULED (it becomes RUNNING when it starts
 * training); RUNNING/SCHEDULED -> busy while its owner lives, else marked KILLED and claimed again.
 * After each batch is created, one more read: where another process claimed the same key first
 * (oldest claim wins, as every process sees it), this one yields. Batches let a large plan start
 * training after its first few runs instead of after creating all of them.
 */
export async function claimRuns(
  store: TrackingStore,
  study: StudyRef,
  runs: { runKey: string; runName: string }[],
  o: BatchedClaimOptions = {},
): Promise<(Claim | undefined)[]> {
  const before = await runsByKey(store, study.experimentId);
  const now = Date.now();
  const decisions = runs.map((r) => decide(before.get(r.runKey) ?? [], o, now));
  const toCreate = decisions.flatMap((d, i) => (d.action === 'create' ? [i] : []));
  o.onDecided?.({ skip: count(decisions, 'skip'), busy: count(decisions, 'busy'), train: toCreate.length });
  const claims: (Claim | undefined)[] = decisions.map((d) => (d.action === 'create' ? undefined : d));
  let batch: ClaimBatch = claims.flatMap((c, index) => (c ? [{ index, claim: c }] : []));
  let done = 0;
  const every = Math.max(1, Math.floor(toCreate.length / 100));
  for (let b = 0, next = 0; next < toCreate.length || b === 0; b++) {
    const size = Math.max(1, o.batchSize?.(b) ?? toCreate.length);
    const created = new Map<number, Run>();
    for (const i of toCreate.slice(next, next + size)) {
      if (o.signal?.aborted) break;
      const d = decisions[i] as Extract<Decision, { action: 'create' }>;
      const run = await createClaim(store, study, runs[i]!, d, o);
      created.set(i, run);
      claims[i] = { action: 'train', runId: run.info.run_id };
      done++;
      if (done % every === 0 || done === toCreate.length) o.onProgress?.(done, toCreate.length);
    }
    next += size;
    if (created.size) await yieldToRivals(store, study, runs, before, created, claims, o);
    batch = [...batch, ...[...created.keys()].map((index) => ({ index, claim: claims[index]! }))];
    if (batch.length) await o.onBatch?.(batch);
    batch = [];
    if (o.signal?.aborted) break;
  }
  // One per planned run, in its order; undefined for a run not reached before an interrupt.
  return claims;
}

type Decision = Claim | { action: 'create'; finished: Run[]; dead: { run: Run; reason: string }[] };

const count = (ds: Decision[], action: Decision['action']): number => ds.filter((d) => d.action === action).length;

/** What one planned run needs, from its records in the experiment (pure). */
function decide(siblings: Run[], opts: ClaimOptions, now: number): Decision {
  const finished = siblings.filter((r) => r.info.status === 'FINISHED').sort(byStart);
  if (finished.length && !opts.force) return { action: 'skip', run: finished[finished.length - 1]! };
  const active = siblings.filter((r) => r.info.status === 'RUNNING' || r.info.status === 'SCHEDULED');
  const dead: { run: Run; reason: string }[] = [];
  for (const r of active) {
    const reason = ownerGone(r, now, opts);
    if (reason === null) return { action: 'busy', run: r };
    dead.push({ run: r, reason });
  }
  return { action: 'create', finished, dead };
}

/** Where another process claimed the same key first (oldest claim wins, as every process sees it), this one yields. */
async function yieldToRivals(
  store: TrackingStore,
  study: StudyRef,
  runs: { runKey: string }[],
  before: Map<string, Run[]>,
  created: Map<number, Run>,
  claims: (Claim | undefined)[],
  o: ClaimOptions,
): Promise<void> {
  const after = await runsByKey(store, study.experimentId);
  for (const [i, mine] of created) {
    const known = new Set((before.get(runs[i]!.runKey) ?? []).map((r) => r.info.run_id));
    const rival = (after.get(runs[i]!.runKey) ?? []).find(
      (r) =>
        r.info.run_id !== mine.info.run_id &&
        (((r.info.status === 'RUNNING' || r.info.status === 'SCHEDULED') && byStart(r, mine) < 0 && ownerGone(r, Date.now(), o) === null) ||
          (r.info.status === 'FINISHED' && !o.force && !known.has(r.info.run_id))),
    );
    if (!rival) continue;
    await store.setTag(mine.info.run_id, BNX_TAG.killedReason, `another process claimed this run first (${rival.info.run_id})`);
    await store.updateRun(mine.info.run_id, 'KILLED', Date.now());
    claims[i] = rival.info.status === 'FINISHED' ? { action: 'skip', run: rival } : { action: 'busy', run: rival };
  }
}

/** A new child for a run to train: its dead predecessors marked KILLED first, superseded finished runs tagged (force). */
async function createClaim(
  store: TrackingStore,
  study: StudyRef,
  o: { runKey: string; runName: string },
  d: Extract<Decision, { action: 'create' }>,
  opts: ClaimOptions,
): Promise<Run> {
  const now = Date.now();
  for (const { run, reason } of d.dead) {
    await store.setTag(run.info.run_id, BNX_TAG.killedReason, truncate(`owner gone: ${reason}`, LIMITS.tagValueLength));
    await store.updateRun(run.info.run_id, 'KILLED', now);
  }
  const run = await store.createRun(study.experimentId, {
    runName: o.runName,
    tags: {
      ...contextTags(),
      [TAG.parentRunId]: study.parentRunId,
      [BNX_TAG.runKey]: o.runKey,
      [BNX_TAG.owner]: ownerId(),
      [BNX_TAG.heartbeat]: String(Date.now()),
    },
    // Waiting for a free process or worker is not training: MLflow shows it SCHEDULED until adoptRun().
    // Created so, not moved there: a spool drainer copying it in between would give the server a
    // RUNNING copy with the creation time as its start, which REST can never move.
    status: 'SCHEDULED',
  });
  opts.onCreated?.(run.info.run_id);
  if (opts.force) for (const f of d.finished) await store.setTag(f.info.run_id, BNX_TAG.supersededBy, run.info.run_id);
  return run;
}

/** Claim one planned run (see claimRuns). */
export async function claimRun(
  store: TrackingStore,
  study: StudyRef,
  o: { runKey: string; runName: string } & ClaimOptions,
): Promise<Claim> {
  return (await claimRuns(store, study, [{ runKey: o.runKey, runName: o.runName }], o))[0]!;
}

/** Proof of life for a run being trained; call it every epoch. */
export async function heartbeat(store: TrackingStore, runId: string): Promise<void> {
  await store.setTag(runId, BNX_TAG.heartbeat, String(Date.now()));
}

/**
 * Heartbeat every run `getRunIds()` returns, every `everyMs`, until stopped. For runs claimed up
 * front but still waiting for a free worker: without it, another host would see them go stale after
 * STALE_HEARTBEAT_MS and take them over. Errors are reported, never thrown (a missed beat is harmless).
 */
export function keepAlive(store: TrackingStore, getRunIds: () => string[], o: { everyMs?: number; onError?: (err: unknown) => void } = {}): () => void {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void Promise.allSettled(getRunIds().map((id) => heartbeat(store, id)))
      .then((results) => {
        for (const r of results) if (r.status === 'rejected') o.onError?.(r.reason);
      })
      .finally(() => {
        busy = false;
      });
  }, o.everyMs ?? 60_000);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The process that trains a claimed run takes it over when training starts: its host:pid becomes the
 * owner and the run goes SCHEDULED -> RUNNING (a file store also restarts its clock then, so MLflow's
 * Duration is the training time; MLflow's REST API cannot move a start time).
 */
export async function adoptRun(store: TrackingStore, runId: string): Promise<void> {
  await store.logBatch(runId, { tags: { [BNX_TAG.owner]: ownerId(), [BNX_TAG.heartbeat]: String(Date.now()) } });
  await store.updateRun(runId, 'RUNNING');
}

function truncate(s: string, max: number): string {
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
