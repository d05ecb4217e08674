/**
 * Tracking that never loses a run, against a real server process that goes away and comes back:
 * the fake MLflow 2.12 server (test-support/fake-mlflow-process.ts) keeps its records across
 * restarts like a real server with its database. `bnx run` spools to ./mlruns and copies to the
 * server; the test then compares the two stores run by run.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../util/paths.js';
import { FileStore, RestStore } from '../track/index.js';
import { MlflowProcess, freePort } from '../../test-support/mlflow-process.js';
import { storeDiff } from '../../test-support/compare-stores.js';
import { until } from '../../test-support/until.js';

const BIN = join(PACKAGE_ROOT, 'dist/framework/cli/main.js');

const STUDY = `
name: outage
dataset: { name: fashion-mnist, subset: { train: 1200, test: 300 } }
model: { hidden: [16] }
train: { epochs: 3, batch_size: 32, optimizer: { type: sgd, lr: 0.05 } }
seeds: [1, 2]
variants:
  baseline: {}
  batchnorm: { model: { norm: batch } }
export: { onnx: true }
`;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function bnx(cwd: string, args: string[], env: Record<string, string>, onStart?: () => void): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, MLFLOW_TRACKING_URI: '', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    onStart?.();
  });
}

/** Has any run of the spool logged its first epoch? */
function firstEpochLogged(spool: string): boolean {
  if (!existsSync(spool)) return false;
  for (const exp of readdirSync(spool)) {
    const dir = join(spool, exp);
    if (!/^\d+$/.test(exp) || exp === '0') continue;
    for (const run of readdirSync(dir)) if (existsSync(join(dir, run, 'metrics', 'test_accuracy'))) return true;
  }
  return false;
}

const count = (text: string, re: RegExp) => text.match(new RegExp(re.source, 'g'))?.length ?? 0;

async function expectSameRecords(spoolDir: string, url: string) {
  const spool = new FileStore(spoolDir);
  const server = new RestStore(url, { env: {} });
  const { diffs, runs } = await storeDiff(spool, server, 'outage');
  expect(diffs).toEqual([]);
  expect(runs).toBe(5); // the parent and 4 children
  const exp = (await server.listExperiments()).find((e) => e.name === 'outage')!;
  const all = await server.searchRuns(exp.experiment_id);
  expect(all.filter((r) => r.info.status !== 'FINISHED').map((r) => r.info.run_name)).toEqual([]);
  const parent = all.find((r) => !r.data.tags['mlflow.parentRunId'])!;
  // The parent carries the study summary (mean and CI per epoch) and the report.
  expect((await server.getMetricHistory(parent.info.run_id, 'batchnorm/test_accuracy.mean')).map((m) => m.step).sort()).toEqual([1, 2, 3]);
  expect((await server.listArtifacts(parent.info.run_id, 'report')).map((a) => a.path)).toContain('report/summary.json');
  for (const c of all.filter((r) => r.data.tags['mlflow.parentRunId'])) {
    expect((await server.getMetricHistory(c.info.run_id, 'test_accuracy')).length).toBe(3);
    expect((await server.listArtifacts(c.info.run_id, 'model')).map((a) => a.path)).toContain('model/model.onnx');
  }
}

describe('tracking server outages', () => {
  it('a server down from epoch 1 for 60 s: every run finishes, nothing is lost, the server ends equal to the spool', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bnx-outage-'));
    writeFileSync(join(cwd, 'outage.yaml'), STUDY);
    const server = new MlflowProcess(await freePort(), join(cwd, 'server-state.json'));
    // Stopped whatever happens: a failed assertion must not leave the server process behind.
    onTestFinished(() => server.stop());
    await server.start();
    let downAt = 0;
    let outage: Promise<void> = Promise.resolve();
    const run = bnx(cwd, ['run', 'outage.yaml', '--jobs', '2', '--tracking-uri', server.url], { BNX_SYNC_INTERVAL: '1', BNX_SYNC_WAIT: '180' }, () => {
      outage = (async () => {
        await until('the first epoch in the spool', () => firstEpochLogged(join(cwd, 'mlruns')), 120_000);
        await server.stop();
        downAt = Date.now();
        await new Promise((r) => setTimeout(r, 60_000));
        await server.start();
      })();
    });
    const r = await run;
    await outage;
    expect(r.code, r.stderr).toBe(0);
    expect(downAt).toBeGreaterThan(0);
    expect(r.stdout).toMatch(/batchnorm/);
    expect(r.stderr).not.toMatch(/TrackingConnectionError|training process died|at .*\.js:\d+/);
    // One message when it went away, one when it came back.
    expect(count(r.stderr, /unreachable since/)).toBe(1);
    expect(count(r.stderr, /reachable again/)).toBe(1);
    expect(r.stderr).toMatch(/runs? spooled to .*mlruns, will retry/);
    await expectSameRecords(join(cwd, 'mlruns'), server.url);
  }, 400_000);

  it('a server down for the whole study: exit 0 with a report, and a later bnx sync makes the server equal to the spool', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bnx-outage-'));
    writeFileSync(join(cwd, 'outage.yaml'), STUDY);
    const server = new MlflowProcess(await freePort(), join(cwd, 'server-state.json'));
    onTestFinished(() => server.stop());
    const r = await bnx(cwd, ['run', 'outage.yaml', '--jobs', '2', '--tracking-uri', server.url], { BNX_SYNC_INTERVAL: '1', BNX_SYNC_WAIT: '2' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/report: /);
    expect(existsSync(join(cwd, 'reports/outage/summary.json'))).toBe(true);
    expect(count(r.stderr, /unreachable since/)).toBe(1);
    expect(r.stderr).toMatch(/bnx sync --from .*mlruns --to http:\/\/127\.0\.0\.1:\d+ --experiment outage/);
    expect(r.stderr).not.toMatch(/TrackingConnectionError|at .*\.js:\d+/);
    await server.start();
    const s = spawnSync(process.execPath, [BIN, 'sync', '--to', server.url, '--experiment', 'outage'], { cwd, encoding: 'utf8', env: { ...process.env, MLFLOW_TRACKING_URI: '' } });
    expect(s.status, s.stderr).toBe(0);
    await expectSameRecords(join(cwd, 'mlruns'), server.url);
    // Idempotent: a second sync adds nothing.
    const again = spawnSync(process.execPath, [BIN, 'sync', '--to', server.url, '--experiment', 'outage', '--json'], { cwd, encoding: 'utf8', env: { ...process.env, MLFLOW_TRACKING_URI: '' } });
    expect(JSON.parse(again.stdout)).toMatchObject({ created: 0, metric_points: 0, artifacts: 0 });
  }, 300_000);
});
