/**
 * Params of the seed study: every setting has one name in every run, options that do not apply are
 * left out, and MLflow's filter grammar finds the runs by them, in the file store and on the fake
 * MLflow server alike.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStudy } from '../config/index.js';
import { planStudy } from '../plan/index.js';
import { FakeMlflowServer } from '../track/fake-mlflow-server.js';
import { FileStore, RestStore, logRunRecord, type TrackingStore } from '../track/index.js';
import { PACKAGE_ROOT } from '../util/paths.js';
import { runParams } from './run-params.js';

const seedStudy = () => planStudy(loadStudy(join(PACKAGE_ROOT, 'experiments/bn-vs-baseline.yaml'), { set: [] }).config);

async function logAll(store: TrackingStore): Promise<string> {
  const exp = await store.getOrCreateExperiment('bn-vs-baseline');
  for (const r of seedStudy().runs) {
    const run = await store.createRun(exp, { runName: r.name });
    await logRunRecord(store, run.info.run_id, { params: runParams(r), tags: {} });
  }
  return exp;
}

const names = async (store: TrackingStore, exp: string, filter: string) => (await store.searchRuns(exp, { filter })).map((r) => r.info.run_name).sort();

describe('run params', () => {
  it('name every setting the same way in every run of the seed study, and leave out what does not apply', () => {
    const runs = seedStudy().runs;
    const params = runs.map(runParams);
    for (const p of params) {
      expect(p['model.norm.type']).toMatch(/^(none|batch)$/);
      expect(p).not.toHaveProperty('model.norm');
      expect(Object.keys(p).filter((k) => k.startsWith('model.conv'))).toEqual([]); // an MLP has no conv blocks
      expect(p['train.optimizer.type']).toBe('sgd');
      for (const k of ['beta1', 'beta2', 'rho', 'epsilon']) expect(p).not.toHaveProperty(`train.optimizer.${k}`);
    }
    // The same names everywhere, except the BatchNorm options, which a run without a norm layer does not have.
    const keys = params.map((p) => new Set(Object.keys(p)));
    const all = new Set(keys.flatMap((k) => [...k]));
    for (const [i, k] of keys.entries()) {
      const missing = [...all].filter((n) => !k.has(n));
      if (params[i]!['model.norm.type'] === 'batch') expect(missing).toEqual([]);
      else expect(missing.every((n) => n.startsWith('model.norm.'))).toBe(true);
    }
  });

  it("finds the BatchNorm runs with params.`model.norm.type` = 'batch' and the baselines with = 'none' (file store)", async () => {
    const store = new FileStore(mkdtempSync(join(tmpdir(), 'bnx-params-')));
    const exp = await logAll(store);
    expect(await names(store, exp, "params.`model.norm.type` = 'batch'")).toEqual(['batchnorm/seed=1', 'batchnorm/seed=2', 'batchnorm/seed=3']);
    expect(await names(store, exp, "params.`model.norm.type` = 'none'")).toEqual(['baseline/seed=1', 'baseline/seed=2', 'baseline/seed=3']);
    expect(await names(store, exp, "params.`model.norm.type` = 'batch' and params.seed = '2'")).toEqual(['batchnorm/seed=2']);
  });

  it('finds the same runs through the MLflow REST API (fake MLflow 2.12 server)', async () => {
    const server = new FakeMlflowServer();
    const store = new RestStore(await server.start(), { env: {} });
    const exp = await logAll(store);
    expect(await names(store, exp, "params.`model.norm.type` = 'batch'")).toEqual(['batchnorm/seed=1', 'batchnorm/seed=2', 'batchnorm/seed=3']);
    expect(await names(store, exp, "params.`model.norm.type` = 'none'")).toEqual(['baseline/seed=1', 'baseline/seed=2', 'baseline/seed=3']);
    await server.stop();
  });
});
