/**
 * Run-by-run comparison of one experiment in two tracking stores (a spool and the server it was
 * copied to): every run of `from` must have exactly one copy in `to` (found by bnx.source_run_id)
 * with the same status, end time, params, tags, full metric histories, dataset inputs, artifacts
 * (paths and bytes) and parent link. Returns the differences, empty when the stores agree.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArtifactEntry, Run, TrackingStore } from '../framework/track/index.js';

/** Tags that say where a record lives, not what it is (sync never copies them). */
const PLACE_TAGS = new Set(['mlflow.parentRunId', 'mlflow.runName', 'bnx.source_run_id', 'bnx.source_parent_run_id']);

async function files(store: TrackingStore, runId: string, path?: string): Promise<ArtifactEntry[]> {
  const out: ArtifactEntry[] = [];
  for (const e of await store.listArtifacts(runId, path)) out.push(...(e.is_dir ? await files(store, runId, e.path) : [e]));
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

const tagsOf = (r: Run) => Object.fromEntries(Object.entries(r.data.tags).filter(([k]) => !PLACE_TAGS.has(k)).sort());
const sorted = <T>(xs: T[]) => xs.map((x) => JSON.stringify(x)).sort();

export async function storeDiff(from: TrackingStore, to: TrackingStore, experimentName: string): Promise<{ diffs: string[]; runs: number }> {
  const diffs: string[] = [];
  const expOf = async (s: TrackingStore) => (await s.listExperiments()).find((e) => e.name === experimentName);
  const [ef, et] = [await expOf(from), await expOf(to)];
  if (!ef || !et) return { diffs: [`experiment ${experimentName} missing in ${ef ? to.uri : from.uri}`], runs: 0 };
  const src = await from.searchRuns(ef.experiment_id);
  const dst = await to.searchRuns(et.experiment_id);
  const copyOf = new Map<string, Run[]>();
  for (const r of dst) {
    const origin = r.data.tags['bnx.source_run_id'] ?? r.info.run_id;
    copyOf.set(origin, [...(copyOf.get(origin) ?? []), r]);
  }
  if (dst.length !== src.length) diffs.push(`${src.length} runs in ${from.uri}, ${dst.length} in ${to.uri}`);
  const work = mkdtempSync(join(tmpdir(), 'bnx-compare-'));
  try {
    for (const a of src) {
      const id = `${a.info.run_name} (${a.info.run_id})`;
      const copies = copyOf.get(a.data.tags['bnx.source_run_id'] ?? a.info.run_id) ?? [];
      if (copies.length !== 1) {
        diffs.push(`${id}: ${copies.length} copies`);
        continue;
      }
      const b = copies[0]!;
      const same = (what: string, x: unknown, y: unknown) => {
        if (JSON.stringify(x) !== JSON.stringify(y)) diffs.push(`${id}: ${what} differ: ${JSON.stringify(x).slice(0, 300)} vs ${JSON.stringify(y).slice(0, 300)}`);
      };
      same('status', a.info.status, b.info.status);
      same('end_time', a.info.end_time, b.info.end_time);
      same('start_time', a.info.start_time, b.info.start_time);
      same('run name', a.info.run_name, b.info.run_name);
      same('params', Object.entries(a.data.params).sort(), Object.entries(b.data.params).sort());
      same('tags', tagsOf(a), tagsOf(b));
      same('metric keys', Object.keys(a.data.metrics).sort(), Object.keys(b.data.metrics).sort());
      for (const key of Object.keys(a.data.metrics)) {
        same(`history of ${key}`, sorted(await from.getMetricHistory(a.info.run_id, key)), sorted(await to.getMetricHistory(b.info.run_id, key)));
      }
      same('inputs', sorted(a.inputs ?? []), sorted(b.inputs ?? []));
      const fa = await files(from, a.info.run_id);
      same('artifacts', fa.map((f) => [f.path, f.file_size]), (await files(to, b.info.run_id)).map((f) => [f.path, f.file_size]));
      for (const f of fa) {
        await from.downloadArtifact(a.info.run_id, f.path, join(work, 'a'));
        const got = await to.downloadArtifact(b.info.run_id, f.path, join(work, 'b')).then(
          () => true,
          () => false,
        );
        if (!got || !readFileSync(join(work, 'a')).equals(readFileSync(join(work, 'b')))) diffs.push(`${id}: bytes of ${f.path} differ`);
        rmSync(join(work, 'b'), { force: true });
      }
      const pa = a.data.tags['mlflow.parentRunId'];
      const pb = b.data.tags['mlflow.parentRunId'];
      if (pa) {
        const parentCopy = copyOf.get(src.find((r) => r.info.run_id === pa)?.data.tags['bnx.source_run_id'] ?? pa)?.[0];
        if (!parentCopy || parentCopy.info.run_id !== pb) diffs.push(`${id}: parent link ${pb} is not the copy of ${pa}`);
      } else if (pb) diffs.push(`${id}: has a parent only in ${to.uri}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { diffs, runs: src.length };
}
