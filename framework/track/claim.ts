/**
 * Claiming planned runs and owning them while they train: which runs a study reuses, waits for or
 * creates (claimRuns, in batches), how a dead owner is recognised (ownerGone), and the heartbeat and
 * adoption that keep a claim alive. Split from study.ts, which opens a study and logs its runs.
 */
import { hostname } from 'node:os';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { pidAlive } from '../util/pid.js';
import { BNX_TAG } from './run-record.js';
import { byStart, contextTags, ownerId, truncate, type Claim, type StudyRef } from './study.js';
import { LIMITS, TAG, type Run, type TrackingStore } from './types.js';

/** A RUNNING run on another host is presumed dead after this long without a heartbeat. */
export const STALE_HEARTBEAT_MS = 5 * 60_000;
/** On this host a live pid vouches for its run, unless it has been silent this long (the pid was reused). */
export const LOCAL_STALE_HEARTBEAT_MS = 60 * 60_000;

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
      // A file store works synchronously: without a turn of the event loop now and then, the runs
      // already training could not report an epoch (or hear Ctrl-C) until every claim is written.
      if (done % 10 === 0) await yieldToEventLoop();
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
