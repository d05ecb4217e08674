/**
 * Study bookkeeping: one parent per study config, claims that skip finished runs, resume runs whose
 * owner died, and leave live ones alone. The owners here are real processes: a child process (bnx's
 * own TypeScript, loaded through Vite's module runner) claims a run and is SIGKILLed, or gets a
 * SIGINT, or is killed in the middle of a stream of writes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore, fromMlflowYaml } from './file-store.js';
import { adoptRun, BNX_TAG, claimRun, claimRuns, finishRun, flattenParams, heartbeat, keepAlive, logRunRecord, openStudy, ownerGone, type StudyRef } from './index.js';
import { until } from '../../test-support/until.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const VITE = join(repoRoot, 'node_modules/vite/dist/node/index.js');
const TRACK = join(repoRoot, 'framework/track/index.ts');

const CHILD_SCRIPT = `
import { pathToFileURL } from 'node:url';
const [vite, track, root, mode, storeDir, ...rest] = process.argv.slice(2);
const { runnerImport } = await import(pathToFileURL(vite).href);
const { module: t } = await runnerImport(track, { configFile: false, logLevel: 'silent', root });
const store = t.openStore(storeDir);
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
if (mode === 'claim' || mode === 'interrupt') {
  const [name, key] = rest;
  const study = await t.openStudy(store, { experimentName: name, studyName: name, configSha256: 'sha', studyYaml: 'name: ' + name + '\\n' });
  const claim = await t.claimRun(store, study, { runKey: key, runName: key + '/seed=1' });
  await t.logEpoch(store, claim.runId, 0, { loss: 1.5 });
  if (mode === 'interrupt') t.installInterruptHandler(store, () => [claim.runId], { log: () => {} });
  say({ claim, pid: process.pid });
  setInterval(() => {}, 1000);
} else if (mode === 'write-loop') {
  const [runId] = rest;
  for (let i = 0; ; i++) {
    await store.logBatch(runId, { params: { ['p' + i]: 'v'.repeat(3000) }, tags: { step: String(i), note: 'x'.repeat(4000) }, metrics: [{ key: 'm', value: i / 3, timestamp: Date.now(), step: i }] });
    await store.updateRun(runId, 'RUNNING', Date.now());
    if (i === 0) say({ ready: true });
  }
}
`;

let work: string;
let script: string;
const children: ChildProcess[] = [];
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'bnx-study-test-'));
  script = join(work, 'child.mjs');
  writeFileSync(script, CHILD_SCRIPT);
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

/** Start a child and wait for its first JSON line. */
async function startChild(args: string[]): Promise<{ child: ChildProcess; first: Record<string, unknown> }> {
  const child = spawn(process.execPath, [script, VITE, TRACK, repoRoot, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const first = await new Promise<Record<string, unknown>>((resolvePromise, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => resolvePromise(JSON.parse(line) as Record<string, unknown>));
    child.once('exit', (code) => reject(new Error(`child exited ${code} before reporting: ${stderr}`)));
  });
  return { child, first };
}

const exited = (c: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => {
    if (c.exitCode !== null || c.signalCode !== null) r({ code: c.exitCode, signal: c.signalCode });
    else c.once('exit', (code, signal) => r({ code, signal }));
  });

async function study(store: FileStore, name: string, sha = 'sha'): Promise<StudyRef> {
  return openStudy(store, { experimentName: name, studyName: name, configSha256: sha, studyYaml: `name: ${name}\n` });
}

/** The store, and how many times searchRuns was called on it (claiming must not search once per run). */
function countingSearches(store: FileStore): { counting: FileStore; searches: () => number } {
  let n = 0;
  const counting = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'searchRuns') n++;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { counting, searches: () => n };
}

describe('the study parent', () => {
  it('is created once per study config and found again on the next invocation', async () => {
    const store = new FileStore(join(work, 'parents'));
    const a = await study(store, 's');
    const b = await openStudy(new FileStore(join(work, 'parents')), { experimentName: 's', studyName: 's', configSha256: 'sha', studyYaml: 'x', create: false });
    expect(b).toEqual(a);
    const other = await study(store, 's', 'other-sha');
    expect(other.experimentId).toBe(a.experimentId);
    expect(other.parentRunId).not.toBe(a.parentRunId);
    const parent = await store.getRun(a.parentRunId);
    expect(parent.data.tags).toMatchObject({ [BNX_TAG.kind]: 'study', [BNX_TAG.study]: 's', [BNX_TAG.configSha256]: 'sha', 'mlflow.runName': 's', 'mlflow.source.name': 'bnx' });
    expect(await store.listArtifacts(a.parentRunId)).toEqual([{ path: 'study.yaml', is_dir: false, file_size: 8 }]);
    // A child carrying the study's sha is not mistaken for a parent.
    await claimRun(store, a, { runKey: 'k', runName: 'k' });
    await store.setTag((await store.searchRuns(a.experimentId, { parentRunId: a.parentRunId }))[0]!.info.run_id, BNX_TAG.configSha256, 'sha');
    expect((await study(store, 's')).parentRunId).toBe(a.parentRunId);
    await expect(openStudy(store, { experimentName: 's', studyName: 'nope', configSha256: 'sha', studyYaml: '', create: false })).rejects.toThrow(/No runs of study 'nope'/);
    // A read-only open of a study whose experiment does not exist creates nothing.
    const before = (await store.listExperiments()).map((e) => e.name);
    await expect(openStudy(store, { experimentName: 'other', studyName: 'other', configSha256: 'sha', studyYaml: '', create: false })).rejects.toThrow(
      /No runs of study 'other' in .* \(no experiment 'other'\)/,
    );
    expect((await store.listExperiments()).map((e) => e.name)).toEqual(before);
  });

  it('is marked RUNNING again when a finished study resumes, if asked', async () => {
    const store = new FileStore(join(work, 'parents2'));
    const a = await study(store, 's');
    await finishRun(store, a.parentRunId, 'FINISHED');
    await openStudy(store, { experimentName: 's', studyName: 's', configSha256: 'sha', studyYaml: '', markRunning: true });
    expect((await store.getRun(a.parentRunId)).info.status).toBe('RUNNING');
  });
});

describe('claiming runs', () => {
  it('trains absent runs, skips finished ones, retrains failed and killed ones, and --force retrains', async () => {
    const store = new FileStore(join(work, 'claims'));
    const s = await study(store, 'claims');
    const first = await claimRun(store, s, { runKey: 'k1', runName: 'baseline/seed=1' });
    expect(first.action).toBe('train');
    const id1 = (first as { runId: string }).runId;
    const child = await store.getRun(id1);
    expect(child.data.tags).toMatchObject({ 'mlflow.parentRunId': s.parentRunId, [BNX_TAG.runKey]: 'k1', [BNX_TAG.owner]: `${hostname()}:${process.pid}`, 'mlflow.runName': 'baseline/seed=1' });
    expect(Number(child.data.tags[BNX_TAG.heartbeat])).toBeGreaterThan(Date.now() - 60_000);
    await finishRun(store, id1, 'FINISHED');

    const again = await claimRun(store, s, { runKey: 'k1', runName: 'baseline/seed=1' });
    expect(again).toMatchObject({ action: 'skip', run: { info: { run_id: id1, status: 'FINISHED' } } });

    const forced = await claimRun(store, s, { runKey: 'k1', runName: 'baseline/seed=1', force: true });
    expect(forced.action).toBe('train');
    expect((forced as { runId: string }).runId).not.toBe(id1);
    expect((await store.getRun(id1)).data.tags[BNX_TAG.supersededBy]).toBe((forced as { runId: string }).runId);

    for (const status of ['FAILED', 'KILLED'] as const) {
      const c = await claimRun(store, s, { runKey: `k-${status}`, runName: 'r' });
      await finishRun(store, (c as { runId: string }).runId, status);
      const retry = await claimRun(store, s, { runKey: `k-${status}`, runName: 'r' });
      expect(retry.action).toBe('train');
      expect((retry as { runId: string }).runId).not.toBe((c as { runId: string }).runId);
    }
  });

  it('leaves a run with a fresh heartbeat from another host alone, takes over a stale one', async () => {
    const store = new FileStore(join(work, 'remote'));
    const s = await study(store, 'remote');
    const c = await claimRun(store, s, { runKey: 'k', runName: 'r' });
    const id = (c as { runId: string }).runId;
    await store.logBatch(id, { tags: { [BNX_TAG.owner]: 'gpu-box-7:4242', [BNX_TAG.heartbeat]: String(Date.now() - 60_000) } });
    expect(await claimRun(store, s, { runKey: 'k', runName: 'r' })).toMatchObject({ action: 'busy', run: { info: { run_id: id } } });
    await store.setTag(id, BNX_TAG.heartbeat, String(Date.now() - 6 * 60_000));
    const takeover = await claimRun(store, s, { runKey: 'k', runName: 'r' });
    expect(takeover.action).toBe('train');
    const old = await store.getRun(id);
    expect(old.info.status).toBe('KILLED');
    expect(old.info.end_time).not.toBeNull();
    expect(old.data.tags[BNX_TAG.killedReason]).toMatch(/no heartbeat for 6\.0 min from gpu-box-7:4242/);

    // heartbeat() keeps a run alive in others' eyes.
    const live = (takeover as { runId: string }).runId;
    await store.setTag(live, BNX_TAG.owner, 'gpu-box-7:1');
    await store.setTag(live, BNX_TAG.heartbeat, '1');
    expect(ownerGone(await store.getRun(live))).toMatch(/no heartbeat/);
    await heartbeat(store, live);
    expect(ownerGone(await store.getRun(live))).toBeNull();

    // keepAlive() beats for runs still waiting for a worker.
    await store.setTag(live, BNX_TAG.heartbeat, '1');
    const stop = keepAlive(store, () => [live], { everyMs: 20 });
    await until('a heartbeat from keepAlive', async () => ownerGone(await store.getRun(live)) === null);
    stop();
  });

  it('gives a run to exactly one of two concurrent claimers', async () => {
    const store = new FileStore(join(work, 'race'));
    const s = await study(store, 'race');
    const results = await Promise.all([claimRun(store, s, { runKey: 'k', runName: 'r' }), claimRun(new FileStore(join(work, 'race')), s, { runKey: 'k', runName: 'r' })]);
    expect(results.map((r) => r.action).sort()).toEqual(['busy', 'train']);
    const runs = await store.searchRuns(s.experimentId, { tags: { [BNX_TAG.runKey]: 'k' } });
    expect(runs.filter((r) => r.info.status === 'SCHEDULED')).toHaveLength(1); // claimed, not started
  });
});

describe('a study is a cache of runs', () => {
  it('reuses a run key FINISHED under another parent (another seed list or report setting)', async () => {
    const store = new FileStore(join(work, 'cache'));
    const a = await study(store, 'cache', 'sha-a');
    const b = await study(store, 'cache', 'sha-b');
    expect(b.parentRunId).not.toBe(a.parentRunId);
    const c = (await claimRun(store, a, { runKey: 'k', runName: 'r' })) as { runId: string };
    await finishRun(store, c.runId, 'FINISHED');
    expect(await claimRun(store, b, { runKey: 'k', runName: 'r' })).toMatchObject({ action: 'skip', run: { info: { run_id: c.runId } } });
    const fresh = await claimRun(store, b, { runKey: 'new', runName: 'n' });
    expect(fresh.action).toBe('train');
    expect((await store.getRun((fresh as { runId: string }).runId)).data.tags['mlflow.parentRunId']).toBe(b.parentRunId);
  });

  it('claims a whole plan with two reads of the store, not one search per run', async () => {
    const store = new FileStore(join(work, 'batch'));
    const s = await study(store, 'batch');
    const { counting, searches } = countingSearches(store);
    const seen: number[] = [];
    const runs = Array.from({ length: 150 }, (_, i) => ({ runKey: `k${i}`, runName: `r${i}` }));
    const claims = await claimRuns(counting, s, runs, { onProgress: (done) => seen.push(done) });
    expect(claims.every((c) => c?.action === 'train')).toBe(true);
    expect(searches()).toBe(2);
    expect(seen[seen.length - 1]).toBe(150);
    expect(seen.length).toBeGreaterThan(10); // progress while claiming, not only at the end
  });

  it('claims in batches: each batch final (rivals checked) and handed over before the next is created', async () => {
    const store = new FileStore(join(work, 'batches'));
    const s = await study(store, 'batches');
    const done = (await claimRun(store, s, { runKey: 'k3', runName: 'r3' })) as { runId: string };
    await finishRun(store, done.runId, 'FINISHED');
    const { counting, searches } = countingSearches(store);
    const runs = Array.from({ length: 25 }, (_, i) => ({ runKey: `k${i}`, runName: `r${i}` }));
    const batches: { indices: number[]; inStore: number }[] = [];
    let decided: unknown;
    const claims = await claimRuns(counting, s, runs, {
      batchSize: (b) => (b === 0 ? 2 : 10),
      onDecided: (c) => (decided = c),
      onBatch: async (batch) => {
        const inStore = (await store.searchRuns(s.experimentId, { parentRunId: s.parentRunId })).length;
        batches.push({ indices: batch.map((x) => x.index), inStore });
      },
    });
    expect(decided).toEqual({ skip: 1, busy: 0, train: 24 });
    // The reused run comes with the first batch; 24 new runs in batches of 2, 10, 10, 2.
    expect(batches.map((b) => b.indices.length)).toEqual([3, 10, 10, 2]);
    expect(batches[0]!.indices).toEqual([3, 0, 1]);
    // Handed over before the next batch exists: the store then holds the finished run and the runs created so far.
    expect(batches.map((b) => b.inStore)).toEqual([3, 13, 23, 25]);
    expect(searches()).toBe(1 + 4);
    expect(claims[3]).toMatchObject({ action: 'skip', run: { info: { run_id: done.runId } } });
    expect(claims.filter((c) => c?.action === 'train')).toHaveLength(24);
  });

  it('creates claimed runs SCHEDULED; they become RUNNING, with their clock started, when training starts', async () => {
    const store = new FileStore(join(work, 'scheduled'));
    const s = await study(store, 'scheduled');
    const c = (await claimRun(store, s, { runKey: 'k', runName: 'r' })) as { runId: string };
    const waiting = await store.getRun(c.runId);
    expect(waiting.info.status).toBe('SCHEDULED');
    while (Date.now() <= waiting.info.start_time) {
      /* let the clock pass the claim time: adoptRun must restart it */
    }
    const before = Date.now();
    await adoptRun(store, c.runId);
    const started = await store.getRun(c.runId);
    expect(started.info.status).toBe('RUNNING');
    expect(started.info.start_time).toBeGreaterThanOrEqual(before);
    expect(started.info.start_time).toBeGreaterThan(waiting.info.start_time);
  });

  it('stops claiming when aborted, reporting every run it created', async () => {
    const store = new FileStore(join(work, 'abort'));
    const s = await study(store, 'abort');
    const abort = new AbortController();
    const created: string[] = [];
    const runs = Array.from({ length: 20 }, (_, i) => ({ runKey: `k${i}`, runName: `r${i}` }));
    const claims = await claimRuns(store, s, runs, {
      signal: abort.signal,
      onCreated: (id) => {
        created.push(id);
        if (created.length === 5) abort.abort();
      },
    });
    expect(claims).toHaveLength(20);
    expect(claims.filter((c) => c !== undefined)).toHaveLength(5);
    const all = await store.searchRuns(s.experimentId, { parentRunId: s.parentRunId });
    expect(all.map((r) => r.info.run_id).sort()).toEqual([...created].sort());
  });
});

describe('resume after a killed process', () => {
  it('leaves a live owner alone, then marks its run KILLED and trains again once it is SIGKILLed', async () => {
    const dir = join(work, 'resume');
    const { child, first } = await startChild(['claim', dir, 'resume', 'key-a']);
    const claim = first.claim as { action: string; runId: string };
    expect(claim.action).toBe('train');
    const store = new FileStore(dir);
    const s = await study(store, 'resume');
    // A finished sibling is skipped throughout.
    const done = (await claimRun(store, s, { runKey: 'key-b', runName: 'b' })) as { runId: string };
    await finishRun(store, done.runId, 'FINISHED');

    expect(await claimRun(store, s, { runKey: 'key-a', runName: 'key-a/seed=1' })).toMatchObject({ action: 'busy', run: { info: { run_id: claim.runId } } });

    child.kill('SIGKILL');
    expect((await exited(child)).signal).toBe('SIGKILL');
    const retry = await claimRun(store, s, { runKey: 'key-a', runName: 'key-a/seed=1' });
    expect(retry.action).toBe('train');
    expect((retry as { runId: string }).runId).not.toBe(claim.runId);
    const dead = await store.getRun(claim.runId);
    expect(dead.info.status).toBe('KILLED');
    expect(dead.data.tags[BNX_TAG.killedReason]).toBe(`owner gone: its process ${first.pid} on ${hostname()} is gone`);
    expect(dead.data.metrics.loss).toBe(1.5);
    expect(await claimRun(store, s, { runKey: 'key-b', runName: 'b' })).toMatchObject({ action: 'skip', run: { info: { run_id: done.runId } } });
    // The killed attempt stays in the record as history; one live child remains.
    const attempts = await store.searchRuns(s.experimentId, { parentRunId: s.parentRunId, tags: { [BNX_TAG.runKey]: 'key-a' } });
    expect(attempts.map((r) => r.info.status).sort()).toEqual(['KILLED', 'SCHEDULED']);
  });

  it('Ctrl-C marks the runs under way KILLED and exits 130', async () => {
    const dir = join(work, 'sigint');
    const { child, first } = await startChild(['interrupt', dir, 'sigint', 'key-i']);
    const runId = (first.claim as { runId: string }).runId;
    child.kill('SIGINT');
    expect(await exited(child)).toEqual({ code: 130, signal: null });
    const run = await new FileStore(dir).getRun(runId);
    expect(run.info.status).toBe('KILLED');
    expect(run.data.tags[BNX_TAG.killedReason]).toBe('interrupted (SIGINT)');
    expect(run.info.end_time).not.toBeNull();
  });

  it('never leaves a torn meta.yaml, param or tag when a writer is SIGKILLed mid-stream', async () => {
    const dir = join(work, 'atomic');
    const store = new FileStore(dir);
    const run = await store.createRun(await store.getOrCreateExperiment('atomic'), { runName: 'w' });
    const runDir = join(dir, run.info.experiment_id, run.info.run_id);
    for (const delay of [40, 170, 330]) {
      const { child } = await startChild(['write-loop', dir, run.info.run_id]);
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await exited(child);
      const meta = fromMlflowYaml(readFileSync(join(runDir, 'meta.yaml'), 'utf8')) as Record<string, unknown>;
      expect(Object.keys(meta).sort()).toEqual([
        'artifact_uri', 'end_time', 'entry_point_name', 'experiment_id', 'lifecycle_stage', 'run_id', 'run_name', 'run_uuid',
        'source_name', 'source_type', 'source_version', 'start_time', 'status', 'tags', 'user_id',
      ]);
      expect(meta.status).toBe(1);
      for (const p of readdirSync(join(runDir, 'params'))) expect(readFileSync(join(runDir, 'params', p), 'utf8')).toBe('v'.repeat(3000));
      expect(readFileSync(join(runDir, 'tags', 'note'), 'utf8')).toBe('x'.repeat(4000));
      for (const sub of ['params', 'tags', 'metrics']) expect(readdirSync(join(runDir, sub)).filter((n) => n.startsWith('.'))).toEqual([]);
      const back = await store.getRun(run.info.run_id);
      expect(Object.keys(back.data.params).length).toBeGreaterThan(0);
    }
    const history = await store.getMetricHistory(run.info.run_id, 'm');
    expect(history.length).toBeGreaterThan(3);
    for (const m of history) expect(m.value).toBeCloseTo(m.step / 3, 12);
    await store.updateRun(run.info.run_id, 'KILLED', Date.now());
    expect(readFileSync(join(runDir, 'metrics', 'm'), 'utf8')).toMatch(/\n$/);
    expect(existsSync(join(runDir, 'meta.yaml'))).toBe(true);
  });
});

describe('run records', () => {
  it('flattens a config to dotted params', () => {
    expect(
      flattenParams({ dataset: { name: 'fashion-mnist', val: 0.1 }, model: { hidden: [256, 128], norm: { type: 'batch', momentum: 0.99 }, extra: {}, drop: null, skip: undefined }, train: { epochs: 3, shuffle: true } }),
    ).toEqual({
      'dataset.name': 'fashion-mnist',
      'dataset.val': '0.1',
      'model.hidden': '[256,128]',
      'model.norm.type': 'batch',
      'model.norm.momentum': '0.99',
      'model.extra': '{}',
      'model.drop': 'null',
      'train.epochs': '3',
      'train.shuffle': 'true',
    });
    expect(flattenParams({ a: 1 }, 'cfg')).toEqual({ 'cfg.a': '1' });
  });

  it('cuts values to what MLflow accepts and logs the dataset as a training input', async () => {
    const store = new FileStore(join(work, 'record'));
    const run = await store.createRun(await store.getOrCreateExperiment('r'), { runName: 'r' });
    await logRunRecord(store, run.info.run_id, {
      params: { long: 'p'.repeat(7000) },
      tags: { note: 't'.repeat(6000) },
      dataset: { name: 'fashion-mnist', digest: 'a'.repeat(64), source_type: 'bnx', source: '{}' },
    });
    const back = await store.getRun(run.info.run_id);
    expect(back.data.params.long).toHaveLength(6000);
    expect(back.data.params.long!.endsWith('...')).toBe(true);
    expect(back.data.tags.note).toHaveLength(5000);
    expect(back.inputs).toEqual([{ name: 'fashion-mnist', digest: 'a'.repeat(36), source_type: 'bnx', source: '{}', context: 'training' }]);
  });
});
