/**
 * Copy runs from one tracking store to another (typically a local ./mlruns to an MLflow server),
 * idempotently: every run carries its origin in `bnx.source_run_id`, so a second sync finds the
 * copies and only fills in what is missing (new metric points, artifacts, a status that changed).
 * A study's parent is merged with the destination's parent of the same study config, and a finished
 * child is not copied when the destination already holds a finished run with the same run key under
 * that parent, so a study that fell back to ./mlruns mid-way merges back into the server's record.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';
import { BNX_TAG } from './run-record.js';
import { TAG, type ArtifactEntry, type Metric, type Run, type TrackingStore } from './types.js';

export interface SyncedExperiment {
  name: string;
  from_id: string;
  to_id: string;
  runs: number;
}

export interface SyncReport {
  from: string;
  to: string;
  experiments: SyncedExperiment[];
  /** Runs newly copied. */
  created: number;
  /** Copies that got something new (metric points, artifacts, status, tags). */
  updated: number;
  /** Copies already complete. */
  unchanged: number;
  /** Runs the destination already had under another id (a study parent, a finished run with the same key). */
  merged: number;
  metric_points: number;
  artifacts: number;
  /** Params whose value differs between the two stores (MLflow params cannot change): left as they are. */
  conflicts: string[];
}

/** The run a record descends from: itself, or the run it was copied from. */
function originOf(run: Run): string {
  return run.data.tags[BNX_TAG.sourceRunId] ?? run.info.run_id;
}

/** Values as a store returns them: sqlite-backed servers return ±Infinity as ±DBL_MAX. */
function valueKey(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v >= Number.MAX_VALUE) return 'inf';
  if (v <= -Number.MAX_VALUE) return '-inf';
  return String(v);
}

const pointKey = (m: Metric) => `${m.step}|${m.timestamp}|${valueKey(m.value)}`;

/** Parents before children, so every parent id can be remapped before its children are copied. */
function parentsFirst(runs: Run[]): Run[] {
  const ids = new Set(runs.map((r) => r.info.run_id));
  const done = new Set<string>();
  const out: Run[] = [];
  let pending = [...runs].sort((a, b) => a.info.start_time - b.info.start_time);
  while (pending.length) {
    const next: Run[] = [];
    for (const r of pending) {
      const p = r.data.tags[TAG.parentRunId];
      if (!p || !ids.has(p) || done.has(p) || p === r.info.run_id) {
        out.push(r);
        done.add(r.info.run_id);
      } else next.push(r);
    }
    if (next.length === pending.length) {
      out.push(...next); // a cycle: cannot happen in MLflow, but never loop forever
      break;
    }
    pending = next;
  }
  return out;
}

async function allArtifacts(store: TrackingStore, runId: string, path?: string): Promise<ArtifactEntry[]> {
  const out: ArtifactEntry[] = [];
  for (const e of await store.listArtifacts(runId, path)) {
    if (e.is_dir) out.push(...(await allArtifacts(store, runId, e.path)));
    else out.push(e);
  }
  return out;
}

/** Tags that describe where a record lives, not what it is: never copied over. */
const LOCAL_TAGS = new Set<string>([TAG.parentRunId, TAG.runName, BNX_TAG.sourceRunId]);

export async function syncStore(
  from: TrackingStore,
  to: TrackingStore,
  o: { experimentName?: string; log?: (message: string) => void } = {},
): Promise<SyncReport> {
  const log = o.log ?? (() => {});
  const report: SyncReport = { from: from.uri, to: to.uri, experiments: [], created: 0, updated: 0, unchanged: 0, merged: 0, metric_points: 0, artifacts: 0, conflicts: [] };
  const experiments = (await from.listExperiments()).filter((e) => o.experimentName === undefined || e.name === o.experimentName);
  if (o.experimentName !== undefined && experiments.length === 0) {
    throw new UserError(`No experiment named '${o.experimentName}' in ${from.uri}`);
  }
  const work = mkdtempSync(join(tmpdir(), 'bnx-sync-'));
  try {
    for (const exp of experiments) {
      const runs = await from.searchRuns(exp.experiment_id);
      if (!runs.length) continue;
      const toId = await to.getOrCreateExperiment(exp.name, { tags: exp.tags });
      report.experiments.push({ name: exp.name, from_id: exp.experiment_id, to_id: toId, runs: runs.length });
      log(`${exp.name}: ${runs.length} runs from ${from.uri} -> ${to.uri} (experiment ${toId})`);
      const existing = await to.searchRuns(toId);
      const byOrigin = new Map<string, Run>();
      for (const r of existing) if (!byOrigin.has(originOf(r))) byOrigin.set(originOf(r), r);
      const idMap = new Map<string, string>();

      for (const src of parentsFirst(runs)) {
        const srcParent = src.data.tags[TAG.parentRunId];
        const toParent = srcParent ? idMap.get(srcParent) : undefined;
        let dest = byOrigin.get(originOf(src));
        if (!dest) {
          // Only runs that were there before this sync: two forced retrains of one key are two copies.
          const merged = findEquivalent(src, existing, toParent);
          if (merged) {
            idMap.set(src.info.run_id, merged.info.run_id);
            report.merged++;
            continue;
          }
        }
        let created = false;
        // A run still waiting for a process is copied once it starts: MLflow's REST API cannot move a
        // run's start time, and the local store resets it when the run starts, so a copy made while
        // SCHEDULED would keep the waiting time in its Duration and differ from its source.
        if (!dest && src.info.status === 'SCHEDULED') continue;
        if (!dest) {
          dest = await createCopy(to, toId, src, toParent, srcParent);
          created = true;
          byOrigin.set(originOf(src), dest);
        }
        idMap.set(src.info.run_id, dest.info.run_id);
        const changed = await fillIn(from, to, src, dest, work, report);
        if (created) report.created++;
        else if (changed) report.updated++;
        else report.unchanged++;
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return report;
}

/** A destination run that already is this source run in substance. */
function findEquivalent(src: Run, existing: Run[], toParent: string | undefined): Run | undefined {
  const t = src.data.tags;
  if (t[BNX_TAG.kind] === 'study' && !t[TAG.parentRunId]) {
    return existing
      .filter(
        (r) =>
          r.data.tags[BNX_TAG.kind] === 'study' &&
          !r.data.tags[TAG.parentRunId] &&
          r.data.tags[BNX_TAG.study] === t[BNX_TAG.study] &&
          r.data.tags[BNX_TAG.configSha256] === t[BNX_TAG.configSha256],
      )
      .sort((a, b) => a.info.start_time - b.info.start_time)[0];
  }
  if (t[BNX_TAG.runKey] && toParent && src.info.status === 'FINISHED') {
    return existing.find(
      (r) => r.info.status === 'FINISHED' && r.data.tags[BNX_TAG.runKey] === t[BNX_TAG.runKey] && r.data.tags[TAG.parentRunId] === toParent,
    );
  }
  return undefined;
}

async function createCopy(to: TrackingStore, toId: string, src: Run, toParent: string | undefined, srcParent: string | undefined): Promise<Run> {
  const tags: Record<string, string> = { [BNX_TAG.sourceRunId]: originOf(src) };
  if (toParent) tags[TAG.parentRunId] = toParent;
  else if (srcParent) tags[BNX_TAG.sourceParentRunId] = srcParent;
  for (const k of [TAG.user, TAG.sourceName, TAG.sourceType]) if (src.data.tags[k] !== undefined) tags[k] = src.data.tags[k]!;
  return to.createRun(toId, { runName: src.info.run_name || src.data.tags[TAG.runName] || src.info.run_id, startTime: src.info.start_time, tags });
}

/** Bring `dest` up to `src`: params, tags, metric points, inputs, artifacts, then status. True when anything was written. */
async function fillIn(from: TrackingStore, to: TrackingStore, src: Run, dest: Run, work: string, report: SyncReport): Promise<boolean> {
  let changed = false;
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(src.data.params)) {
    const have = dest.data.params[k];
    if (have === undefined) params[k] = v;
    else if (have !== v) report.conflicts.push(`${src.info.run_id} param ${k}: '${v}' here, '${have}' at the destination`);
  }
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(src.data.tags)) if (!LOCAL_TAGS.has(k) && dest.data.tags[k] !== v) tags[k] = v;

  const metrics: Metric[] = [];
  for (const key of Object.keys(src.data.metrics)) {
    const have = new Map<string, number>();
    if (key in dest.data.metrics) for (const m of await to.getMetricHistory(dest.info.run_id, key)) have.set(pointKey(m), (have.get(pointKey(m)) ?? 0) + 1);
    for (const m of await from.getMetricHistory(src.info.run_id, key)) {
      const n = have.get(pointKey(m)) ?? 0;
      if (n > 0) have.set(pointKey(m), n - 1);
      else metrics.push(m);
    }
  }
  if (Object.keys(params).length || Object.keys(tags).length || metrics.length) {
    await to.logBatch(dest.info.run_id, { params, tags, metrics });
    report.metric_points += metrics.length;
    changed = true;
  }

  const haveInputs = new Set((dest.inputs ?? []).map((d) => `${d.name}\u0000${d.digest}`));
  const inputs = (src.inputs ?? []).filter((d) => !haveInputs.has(`${d.name}\u0000${d.digest}`));
  if (inputs.length) {
    await to.logInputs(dest.info.run_id, inputs);
    changed = true;
  }

  const destFiles = new Map((await allArtifacts(to, dest.info.run_id)).map((e) => [e.path, e.file_size]));
  for (const e of await allArtifacts(from, src.info.run_id)) {
    if (destFiles.has(e.path) && destFiles.get(e.path) === e.file_size) continue;
    const local = join(work, 'artifact');
    await from.downloadArtifact(src.info.run_id, e.path, local);
    await to.logArtifact(dest.info.run_id, local, e.path);
    rmSync(local, { force: true });
    report.artifacts++;
    changed = true;
  }

  if (src.info.status !== dest.info.status || (src.info.end_time !== null && src.info.end_time !== dest.info.end_time)) {
    await to.updateRun(dest.info.run_id, src.info.status, src.info.end_time ?? undefined);
    changed = true;
  }
  return changed;
}
