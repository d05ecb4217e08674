/**
 * The REST client against an in-process MLflow (fake-mlflow-server.ts, itself checked against the
 * recorded MLflow 2.12 exchanges): request shapes equal the recorded requests, MLflow's 4xx errors
 * surface with their code and message, 5xx and refused connections are retried, batches are split.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chunkBatch } from './batch.js';
import { FakeMlflowServer, parseFilter, recordedExchanges, type LoggedRequest, type RecordedExchange } from './fake-mlflow-server.js';
import { FileStore } from './file-store.js';
import { openStore, openStoreWithFallback } from './open.js';
import { RestStore } from './rest-store.js';
import { TrackingConnectionError, TrackingError, type Metric } from './types.js';
import { until } from '../../test-support/until.js';

type Exchange = RecordedExchange;
const recorded = new Map<string, Exchange>(recordedExchanges().map((e) => [e.name, e]));
const ex = (name: string): Exchange => {
  const e = recorded.get(name);
  if (!e) throw new Error(`no recorded exchange '${name}'`);
  return e;
};

/** The request as sent, in the recording's terms: path + query, and body. */
function sameTarget(req: LoggedRequest, e: Exchange): void {
  const u = new URL(e.path, 'http://x');
  expect(req.method).toBe(e.method);
  expect(req.path).toBe(decodeURIComponent(u.pathname));
  expect(req.query).toEqual(Object.fromEntries(u.searchParams));
}

const PARENT = 'de4f2ce0a98c4482894b752996b751ce';
const CHILD = '300344f5296e41c9824079f97ee40c97';
const quick = { env: {}, backoffMs: 5, maxRetries: 3 };

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'bnx-rest-test-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const servers: FakeMlflowServer[] = [];
async function startFake(o: ConstructorParameters<typeof FakeMlflowServer>[0] = {}, port?: number): Promise<FakeMlflowServer> {
  const f = new FakeMlflowServer(o);
  await f.start(port);
  servers.push(f);
  return f;
}
afterEach(async () => {
  while (servers.length) await servers.pop()!.stop();
});

describe('RestStore sends what the real MLflow client sent', () => {
  it('follows the recorded study flow request by request', async () => {
    const fake = await startFake({ now: () => 1795531740459, runIds: [PARENT, CHILD] });
    const store = new RestStore(fake.url, quick);
    const next = (() => {
      let seen = 0;
      return (): LoggedRequest[] => {
        const out = fake.log.slice(seen);
        seen = fake.log.length;
        return out;
      };
    })();

    expect(await store.getOrCreateExperiment('bn-vs-baseline', { tags: { 'bnx.config.sha256': 'ab12' } })).toBe('1');
    const [lookup, create] = next();
    sameTarget(lookup!, ex('get-by-name missing'));
    sameTarget(create!, ex('create experiment'));
    expect(create!.body).toEqual(ex('create experiment').request);

    const parent = await store.createRun('1', {
      runName: 'bn-vs-baseline',
      startTime: 1795531739936,
      tags: { 'mlflow.source.name': 'bnx', 'mlflow.source.type': 'LOCAL', 'mlflow.user': 'researcher' },
    });
    expect(parent.info).toMatchObject({ run_id: PARENT, experiment_id: '1', status: 'RUNNING', end_time: null, artifact_uri: `mlflow-artifacts:/1/${PARENT}/artifacts` });
    expect(parent.data.tags['mlflow.runName']).toBe('bn-vs-baseline');
    let [req] = next();
    sameTarget(req!, ex('create parent run'));
    expect(req!.body).toEqual(ex('create parent run').request);

    await store.createRun('1', { runName: 'batchnorm/seed=1', startTime: 1795531739937, tags: { 'mlflow.parentRunId': PARENT, 'bnx.run_key': '3f2a9c' } });
    [req] = next();
    expect(req!.body).toEqual(ex('create child run').request);

    const t = 1795531739936;
    await store.logBatch(CHILD, {
      params: { 'model.norm': 'batch', 'train.optimizer.lr': '0.01', seed: '1' },
      metrics: [
        { key: 'test_accuracy', value: 0.7, timestamp: t, step: 0 },
        { key: 'train_loss', value: 1, timestamp: t, step: 0 },
        { key: 'test_accuracy', value: 0.75, timestamp: t + 1, step: 1 },
        { key: 'train_loss', value: 0.8, timestamp: t + 1, step: 1 },
        { key: 'test_accuracy', value: 0.7999999999999999, timestamp: t + 2, step: 2 },
        { key: 'train_loss', value: 0.6, timestamp: t + 2, step: 2 },
      ],
      tags: { 'mlflow.note.content': '# batchnorm\nseed 1' },
    });
    [req] = next();
    sameTarget(req!, ex('log-batch params+metrics+tags'));
    expect(req!.body).toEqual(ex('log-batch params+metrics+tags').request);

    await store.logBatch(CHILD, {
      metrics: [
        { key: 'grad_norm', value: NaN, timestamp: t, step: 0 },
        { key: 'grad_norm', value: Infinity, timestamp: t, step: 1 },
      ],
    });
    [req] = next();
    expect(req!.body).toEqual(ex('log-batch NaN and Infinity values').request);

    const recordedDs = (ex('log-inputs dataset').request!.datasets as { dataset: Record<string, string> }[])[0]!.dataset;
    await store.logInputs(CHILD, [
      { name: recordedDs.name!, digest: recordedDs.digest!, source_type: recordedDs.source_type!, source: recordedDs.source!, schema: recordedDs.schema, profile: recordedDs.profile, context: 'training' },
    ]);
    [req] = next();
    expect(req!.body).toEqual(ex('log-inputs dataset').request);

    await store.setTag(CHILD, 'bnx.onnx.max_abs_diff', '3.1e-7');
    [req] = next();
    expect(req!.body).toEqual(ex('set-tag').request);

    const run = await store.getRun(CHILD);
    [req] = next();
    sameTarget(req!, ex('get run'));
    expect(run.info).toEqual({
      run_id: CHILD,
      experiment_id: '1',
      run_name: 'batchnorm/seed=1',
      status: 'RUNNING',
      start_time: 1795531739937,
      end_time: null,
      artifact_uri: `mlflow-artifacts:/1/${CHILD}/artifacts`,
      lifecycle_stage: 'active',
    });
    expect(run.data.params).toEqual({ 'model.norm': 'batch', 'train.optimizer.lr': '0.01', seed: '1' });
    // The sqlite-backed server returns +Infinity as DBL_MAX (as recorded).
    expect(run.data.metrics).toEqual({ test_accuracy: 0.7999999999999999, train_loss: 0.6, grad_norm: Number.MAX_VALUE });
    expect(run.data.tags['mlflow.parentRunId']).toBe(PARENT);
    expect(run.inputs).toEqual([{ ...recordedDs, context: 'training' }]);

    const file = join(work, 'model.onnx');
    writeFileSync(file, new Uint8Array([8, 8, 18, 0]));
    await store.logArtifact(CHILD, file, 'model/model.onnx');
    [req] = next();
    sameTarget(req!, ex('upload artifact (proxied)'));
    expect(req!.bytes).toBe(4);

    expect(await store.listArtifacts(CHILD, 'model')).toEqual([{ path: 'model/model.onnx', is_dir: false, file_size: 4 }]);
    [req] = next();
    sameTarget(req!, ex('list artifacts (tracking api)'));

    const back = join(work, 'back.onnx');
    await store.downloadArtifact(CHILD, 'model/model.onnx', back);
    expect([...readFileSync(back)]).toEqual([8, 8, 18, 0]);
    next();

    const history = await store.getMetricHistory(CHILD, 'test_accuracy');
    [req] = next();
    sameTarget(req!, ex('metric history'));
    expect(history.map((m) => [m.step, m.value])).toEqual([
      [0, 0.7],
      [1, 0.75],
      [2, 0.7999999999999999],
    ]);
    const grad = await store.getMetricHistory(CHILD, 'grad_norm');
    next();
    expect(grad[0]!.value).toBeNaN();

    await store.updateRun(CHILD, 'FINISHED', 1795531739946);
    [req] = next();
    expect(req!.body).toEqual(ex('update run FINISHED').request);

    const byKey = await store.searchRuns('1', { tags: { 'bnx.run_key': '3f2a9c' } });
    [req] = next();
    sameTarget(req!, ex('search by tag run_key'));
    expect(req!.body).toMatchObject(ex('search by tag run_key').request!);
    expect(byKey.map((r) => [r.info.run_id, r.info.status, r.info.end_time])).toEqual([[CHILD, 'FINISHED', 1795531739946]]);

    const children = await store.searchRuns('1', { parentRunId: PARENT });
    [req] = next();
    const body = req!.body as { filter: string; experiment_ids: string[] };
    expect(body.experiment_ids).toEqual(['1']);
    // Same filter as the recording; dotted keys are backticked, which MLflow reads identically.
    expect(parseFilter(body.filter)).toEqual(parseFilter(ex('search children of parent').request!.filter as string));
    expect(children.map((r) => r.info.run_id)).toEqual([CHILD]);
  });
});

describe('RestStore surfaces MLflow errors without retrying them', () => {
  it('raises 404 and 400 answers with MLflow error_code and message, one request each', async () => {
    const fake = await startFake({ runIds: [CHILD] });
    const store = new RestStore(fake.url, quick);
    const expId = await store.getOrCreateExperiment('bn-vs-baseline');
    await store.createRun(expId, { runName: 'r', tags: {} });

    const expectError = async (p: Promise<unknown>, code: string, status: number, text: string) => {
      const before = fake.log.length;
      const err = await p.then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(TrackingError);
      expect((err as TrackingError).code).toBe(code);
      expect((err as TrackingError).status).toBe(status);
      expect((err as TrackingError).message).toContain(text);
      expect(fake.log.length - before).toBe(1);
    };
    const missingRun = ex('get missing run').response as { message: string };
    await expectError(store.getRun('ffffffffffffffffffffffffffffffff'), 'RESOURCE_DOES_NOT_EXIST', 404, missingRun.message);
    await expectError(store.createRun('987654', { runName: 'x' }), 'RESOURCE_DOES_NOT_EXIST', 404, (ex('create run in missing experiment').response as { message: string }).message);
    await expectError(
      store.createRun(expId, { runName: 'a', tags: { 'mlflow.runName': 'b' } }),
      'INVALID_PARAMETER_VALUE',
      400,
      (ex('create run with conflicting runName tag').response as { message: string }).message,
    );
    await store.logBatch(CHILD, { params: { seed: '1' } });
    await expectError(store.logBatch(CHILD, { params: { seed: '2' } }), 'INVALID_PARAMETER_VALUE', 400, 'Changing param values is not allowed');
    await store.logBatch(CHILD, { params: { seed: '1' } }); // the same value again is fine
    await expectError(store.logBatch(CHILD, { params: { '../evil': '1' } }), 'INVALID_PARAMETER_VALUE', 400, (ex('log-batch bad key').response as { message: string }).message);
    await expectError(
      store.logInputs(CHILD, [{ name: 'd', digest: 'x'.repeat(37), source_type: 'local', source: '{}' }]),
      'INVALID_PARAMETER_VALUE',
      400,
      'Dataset digest exceeds the maximum length of 36',
    );
    expect(fake.requestsTo('runs/log-inputs')[0]!.body).toEqual(ex('log-inputs digest too long (37)').request);

    // MLflow 2.12 would answer 200 to an unknown status and keep the old one: refused before sending.
    const before = fake.log.length;
    await expect(store.updateRun(CHILD, 'DONE' as never, 1)).rejects.toThrow(/Invalid run status 'DONE'/);
    expect(fake.log.length).toBe(before);
  });

  it('resolves an experiment-create race by looking the experiment up again', async () => {
    let hidden = true;
    const fake = await startFake({
      intercept: (r) => {
        if (hidden && r.path.endsWith('experiments/get-by-name')) {
          hidden = false;
          return { status: 404, body: ex('get-by-name missing').response };
        }
        return undefined;
      },
    });
    // Another process created it first.
    await fetch(`${fake.url}/api/2.0/mlflow/experiments/create`, { method: 'POST', body: JSON.stringify({ name: 'bn-vs-baseline' }), headers: { 'Content-Type': 'application/json' } });
    const store = new RestStore(fake.url, quick);
    expect(await store.getOrCreateExperiment('bn-vs-baseline')).toBe('1');
    expect(fake.log.slice(1).map((r) => r.path.split('/').slice(-2).join('/'))).toEqual(['experiments/get-by-name', 'experiments/create', 'experiments/get-by-name']);
  });
});

describe('RestStore retries server faults', () => {
  it('retries 5xx and 429 with backoff, then succeeds once', async () => {
    let failures = 0;
    const fake = await startFake({
      intercept: (r) => {
        if (r.path.endsWith('runs/log-batch') && failures < 3) {
          failures++;
          return failures === 2 ? { status: 429, body: { error_code: 'RESOURCE_EXHAUSTED', message: 'slow down' } } : { status: 503, body: { error_code: 'TEMPORARILY_UNAVAILABLE', message: 'busy' } };
        }
        return undefined;
      },
    });
    const retries: string[] = [];
    const store = new RestStore(fake.url, { ...quick, log: (m) => retries.push(m) });
    const expId = await store.getOrCreateExperiment('e');
    const run = await store.createRun(expId, { runName: 'r' });
    await store.logBatch(run.info.run_id, { metrics: [{ key: 'loss', value: 0.5, timestamp: 1, step: 0 }] });
    expect(fake.requestsTo('runs/log-batch')).toHaveLength(4);
    // Said once when the trouble starts and once when it is over, not once per attempt.
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatch(/HTTP 503.* on POST mlflow\/runs\/log-batch; retrying \(up to 3 times/);
    expect(retries[1]).toMatch(/answers again/);
    expect(await store.getMetricHistory(run.info.run_id, 'loss')).toHaveLength(1);
  });

  it('gives up after the configured retries with a connection error', async () => {
    const fake = await startFake({ intercept: () => ({ status: 502, body: 'bad gateway' }) });
    const store = new RestStore(fake.url, { env: {}, backoffMs: 1, maxRetries: 2 });
    const err = await store.getRun('abc').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackingConnectionError);
    expect((err as Error).message).toMatch(/HTTP 502.*after 3 attempts/);
    expect(fake.log).toHaveLength(3);
  });

  it('retries a refused connection until the server comes up', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const seen: string[] = [];
    const store = new RestStore(`http://127.0.0.1:${port}`, { env: {}, backoffMs: 60, maxRetries: 8, log: (m) => seen.push(m) });
    const pending = store.getOrCreateExperiment('late');
    await until('a refused attempt', () => seen.length >= 1);
    const fake = await startFake({}, port);
    expect(await pending).toBe('1');
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen[0]).toMatch(/ECONNREFUSED/);
    expect(fake.requestsTo('experiments/create')).toHaveLength(1);
  });
});

describe('batch limits', () => {
  it('splits the recorded over-limit batches into requests MLflow accepts', () => {
    const params101 = Object.fromEntries((ex('log-batch 101 params').request!.params as { key: string; value: string }[]).map((p) => [p.key, p.value]));
    expect(chunkBatch({ params: params101 }).map((c) => c.params.length)).toEqual([100, 1]);
    const metrics1001 = ex('log-batch 1001 metrics').request!.metrics as Metric[];
    expect(chunkBatch({ metrics: metrics1001 }).map((c) => c.metrics.length)).toEqual([1000, 1]);
    const mixed = chunkBatch({ params: params101, metrics: metrics1001 });
    for (const c of mixed) expect(c.params.length + c.tags.length + c.metrics.length).toBeLessThanOrEqual(1000);
    expect(mixed.reduce((n, c) => n + c.params.length + c.metrics.length, 0)).toBe(1102);
  });

  it('logs large batches completely, each request within count and size limits', async () => {
    const fake = await startFake();
    const store = new RestStore(fake.url, quick);
    const run = await store.createRun(await store.getOrCreateExperiment('big'), { runName: 'r' });
    const metrics: Metric[] = [];
    for (let step = 0; step < 1250; step++) for (const key of ['a', 'b']) metrics.push({ key, value: step / 7, timestamp: 1000 + step, step });
    const params = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`p${i}`, `v${i}`]));
    // 150 tags of 5000 three-byte characters: 2.2 MB, more than fits in one body.
    const tags = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`t${i}`, '€'.repeat(5000)]));
    await store.logBatch(run.info.run_id, { metrics, params, tags });
    const reqs = fake.requestsTo('runs/log-batch');
    for (const r of reqs) {
      const b = r.body as { metrics?: unknown[]; params?: unknown[]; tags?: unknown[] };
      expect(b.metrics?.length ?? 0).toBeLessThanOrEqual(1000);
      expect(b.params?.length ?? 0).toBeLessThanOrEqual(100);
      expect(b.tags?.length ?? 0).toBeLessThanOrEqual(100);
      expect((b.metrics?.length ?? 0) + (b.params?.length ?? 0) + (b.tags?.length ?? 0)).toBeLessThanOrEqual(1000);
      expect(r.bytes).toBeLessThan(1_000_000);
    }
    expect(reqs.length).toBeGreaterThanOrEqual(6);
    const back = await store.getRun(run.info.run_id);
    expect(Object.keys(back.data.params)).toHaveLength(250);
    expect(Object.keys(back.data.tags).filter((k) => k.startsWith('t'))).toHaveLength(150);
    expect(await store.getMetricHistory(run.info.run_id, 'b')).toHaveLength(1250);
  });
});

describe('search pagination, auth, fallback', () => {
  it('follows page tokens until every run is returned', async () => {
    const fake = await startFake();
    const store = new RestStore(fake.url, { ...quick, pageSize: 10 });
    const expId = await store.getOrCreateExperiment('many');
    for (let i = 0; i < 25; i++) await store.createRun(expId, { runName: `r${i}`, startTime: 1000 + i, tags: { 'bnx.run_key': i % 2 ? 'odd' : 'even' } });
    const all = await store.searchRuns(expId);
    expect(new Set(all.map((r) => r.info.run_id)).size).toBe(25);
    expect(all[0]!.info.run_name).toBe('r24'); // newest first
    expect(fake.requestsTo('runs/search')).toHaveLength(3);
    expect(fake.requestsTo('runs/search')[1]!.body).toMatchObject({ page_token: expect.any(String), max_results: 10 });
    expect(await store.searchRuns(expId, { tags: { 'bnx.run_key': 'odd' } })).toHaveLength(12);
  });

  it('sends MLFLOW_TRACKING_TOKEN as Bearer and USERNAME/PASSWORD as Basic', async () => {
    const bearer = await startFake({ auth: 'Bearer s3cret' });
    expect(await new RestStore(bearer.url, { env: { MLFLOW_TRACKING_TOKEN: 's3cret' } }).getOrCreateExperiment('a')).toBe('1');
    const err = await new RestStore(bearer.url, quick).getOrCreateExperiment('a').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackingError);
    expect((err as TrackingError).status).toBe(401);
    expect((err as TrackingError).message).toContain('You are not authenticated');
    expect((err as TrackingError).details.join(' ')).toContain('MLFLOW_TRACKING_TOKEN');
    const basic = await startFake({ auth: `Basic ${Buffer.from('ada:pw:x').toString('base64')}` });
    expect(await new RestStore(basic.url, { env: { MLFLOW_TRACKING_USERNAME: 'ada', MLFLOW_TRACKING_PASSWORD: 'pw:x' } }).getOrCreateExperiment('b')).toBe('1');
  });

  it('falls back to a local file store, loudly, when the server is unreachable', async () => {
    const fake = await startFake();
    const url = fake.url;
    const messages: string[] = [];
    const live = await openStoreWithFallback(url, (m) => messages.push(m), { env: {} });
    expect(live.kind).toBe('rest');
    await fake.stop();
    const dir = join(work, 'fallback-mlruns');
    const store = await openStoreWithFallback(url, (m) => messages.push(m), { env: {}, fallbackDir: dir, backoffMs: 5, probeRetries: 1 });
    expect(store).toBeInstanceOf(FileStore);
    expect(store.uri).toBe(dir);
    expect(messages.join('\n')).toMatch(/unreachable[\s\S]*ECONNREFUSED[\s\S]*bnx sync --from .*fallback-mlruns --to http:\/\/127\.0\.0\.1/);

    const locked = await startFake({ auth: 'Bearer x' });
    await expect(openStoreWithFallback(locked.url, () => {}, { env: {} })).rejects.toBeInstanceOf(TrackingError);
  });

  it('opens stores by URI', () => {
    expect(openStore('http://127.0.0.1:5000/').kind).toBe('rest');
    expect(openStore('http://127.0.0.1:5000/').uri).toBe('http://127.0.0.1:5000');
    expect(openStore(`file://${work}/m`).uri).toBe(`${work}/m`);
    expect(openStore(undefined, { env: { MLFLOW_TRACKING_URI: 'https://mlflow.example.com' } }).kind).toBe('rest');
    expect(openStore(undefined, { env: {} }).uri).toBe(join(process.cwd(), 'mlruns'));
    expect(() => openStore('sqlite:///mlflow.db')).toThrow(/Unsupported tracking URI/);
  });
});
