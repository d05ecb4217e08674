/**
 * `bnx run` end to end, as a user runs it: the real CLI, real (small) training on FashionMNIST, the
 * MLflow file store, ONNX export verified by onnxruntime, the report; then a rerun that trains
 * nothing, and a study killed mid-way that resumes without retraining what finished.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../util/paths.js';
import { FileStore } from '../track/index.js';
import { childPids } from '../../test-support/bnx-process.js';

const BIN = join(PACKAGE_ROOT, 'dist/framework/cli/main.js');

const STUDY = `
name: tiny
description: smoke study <b>escaped</b>
dataset: { name: fashion-mnist, subset: { train: 1500, test: 400 } }
model: { hidden: [32, 16] }
train: { epochs: 2, batch_size: 32, optimizer: { type: sgd, lr: 0.05 } }
seeds: [1, 2]
variants:
  baseline: {}
  batchnorm: { model: { norm: batch } }
`;

function bnx(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, MLFLOW_TRACKING_URI: '' }, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function childRuns(root: string) {
  const store = new FileStore(root);
  const [exp] = (await store.listExperiments()).filter((e) => e.name === 'tiny');
  const runs = await store.searchRuns(exp!.experiment_id, {});
  return { store, exp: exp!, runs, children: runs.filter((r) => r.data.tags['mlflow.parentRunId']) };
}

describe('bnx run, end to end', () => {
  let cwd: string;
  let first: ReturnType<typeof bnx>;
  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), 'bnx-run-'));
    writeFileSync(join(cwd, 'tiny.yaml'), STUDY);
    first = bnx(cwd, ['run', 'tiny.yaml', '--jobs', '2']);
  });

  it('trains every run into MLflow records, ONNX files and a report', async () => {
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/batchnorm .* baseline/);
    const { runs, children, store } = await childRuns(join(cwd, 'mlruns'));
    const parents = runs.filter((r) => !r.data.tags['mlflow.parentRunId']);
    expect(parents).toHaveLength(1);
    expect(children).toHaveLength(4);
    for (const c of children) {
      expect(c.info.status).toBe('FINISHED');
      expect(c.data.tags['mlflow.parentRunId']).toBe(parents[0]!.info.run_id);
      expect(c.info.run_name).toMatch(/^(baseline|batchnorm)\/seed=[12]$/);
      expect(c.data.params['train.optimizer.lr']).toBe('0.05');
      expect(c.data.params.variant).toBe(c.data.tags['bnx.variant']);
      expect((await store.getMetricHistory(c.info.run_id, 'test_accuracy')).map((m) => m.step)).toEqual([1, 2]);
      expect(c.data.metrics.test_accuracy).toBeGreaterThan(0.3); // 10 classes: chance is 0.1
      expect(c.data.metrics.onnx_max_abs_diff).toBeLessThanOrEqual(1e-4);
      const files = (await store.listArtifacts(c.info.run_id, 'model')).map((a) => a.path);
      expect(files).toContain('model/model.onnx');
    }
    const summary = JSON.parse(readFileSync(join(cwd, 'reports/tiny/summary.json'), 'utf8'));
    expect(summary.runs).toHaveLength(4);
    expect(summary.runs.every((r: { status: string; onnx: unknown }) => r.status === 'FINISHED' && r.onnx)).toBe(true);
    expect(readFileSync(join(cwd, 'reports/tiny/report.md'), 'utf8')).toContain('batchnorm');
    const html = readFileSync(join(cwd, 'reports/tiny/index.html'), 'utf8');
    expect(html).not.toContain('<b>escaped</b>');
    expect(await store.listArtifacts(parents[0]!.info.run_id, 'report')).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'report/report.md' }), expect.objectContaining({ path: 'report/summary.json' })]),
    );
  });

  it('reruns train nothing and report the same numbers; bnx report needs no training', async () => {
    const before = JSON.parse(readFileSync(join(cwd, 'reports/tiny/summary.json'), 'utf8'));
    const again = bnx(cwd, ['run', 'tiny.yaml']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('4 already finished, 0 to train');
    const after = JSON.parse(readFileSync(join(cwd, 'reports/tiny/summary.json'), 'utf8'));
    expect(after.variants).toEqual(before.variants);
    expect((await childRuns(join(cwd, 'mlruns'))).children).toHaveLength(4);
    const report = bnx(cwd, ['report', 'tiny.yaml', '--json']);
    expect(report.code, report.stderr).toBe(0);
    expect(JSON.parse(report.stdout).variants).toEqual(before.variants);
  });

  it('gives bit-identical metrics when a run is trained again (--force), serial vs parallel', async () => {
    const forced = bnx(cwd, ['run', 'tiny.yaml', '--force', '--jobs', '1']);
    expect(forced.code, forced.stderr).toBe(0);
    const { children, store } = await childRuns(join(cwd, 'mlruns'));
    expect(children).toHaveLength(8);
    const byKey = new Map<string, number[][]>();
    for (const c of children) {
      const h = (await store.getMetricHistory(c.info.run_id, 'test_loss')).map((m) => m.value);
      const t = (await store.getMetricHistory(c.info.run_id, 'train_loss')).map((m) => m.value);
      byKey.set(c.data.tags['bnx.run_key']!, [...(byKey.get(c.data.tags['bnx.run_key']!) ?? []), [...h, ...t]]);
    }
    expect(byKey.size).toBe(4);
    for (const [, [a, b]] of byKey) expect(b).toEqual(a);
  });
});

describe('bnx run, interrupted', () => {
  it('resumes a killed study without retraining finished runs', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bnx-kill-'));
    writeFileSync(join(cwd, 'tiny.yaml'), STUDY.replace('epochs: 2', 'epochs: 3'));
    // --jobs 1: runs finish one by one; kill the whole process group once the first has finished.
    const child = spawn(process.execPath, [BIN, 'run', 'tiny.yaml', '--jobs', '1'], { cwd, detached: true, env: { ...process.env, MLFLOW_TRACKING_URI: '' } });
    let err = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no run finished in time: ${err}`)), 240_000);
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        if (/FINISHED/.test(err) && /start .*seed=2/.test(err)) {
          clearTimeout(timer);
          process.kill(-child.pid!, 'SIGKILL');
          resolve();
        }
      });
    });
    await new Promise((r) => child.once('exit', r));
    const killed = await childRuns(join(cwd, 'mlruns'));
    const finished = killed.children.filter((r) => r.info.status === 'FINISHED');
    expect(finished.length).toBeGreaterThanOrEqual(1);
    // The run under way (RUNNING, or SCHEDULED if its process had not adopted it yet) is left orphaned.
    expect(killed.children.some((r) => r.info.status === 'RUNNING' || r.info.status === 'SCHEDULED')).toBe(true);
    expect(existsSync(join(cwd, 'reports/tiny'))).toBe(false);

    const resumed = bnx(cwd, ['run', 'tiny.yaml']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`${finished.length} already finished, ${4 - finished.length} to train`);
    const after = await childRuns(join(cwd, 'mlruns'));
    const finishedAfter = after.children.filter((r) => r.info.status === 'FINISHED');
    expect(finishedAfter).toHaveLength(4);
    // The runs that had finished are the same records, not retrained copies.
    for (const f of finished) expect(finishedAfter.map((r) => r.info.run_id)).toContain(f.info.run_id);
    // The orphaned records were closed as KILLED, not left behind.
    expect(after.children.filter((r) => r.info.status === 'RUNNING' || r.info.status === 'SCHEDULED')).toHaveLength(0);
    expect(readdirSync(join(cwd, 'reports/tiny'))).toContain('summary.json');
  });
});

describe('bnx run: a study is a cache of runs', () => {
  const SMALL = STUDY.replace('seeds: [1, 2]', 'seeds: [1]').replace('epochs: 2', 'epochs: 1');
  let cwd: string;
  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), 'bnx-cache-'));
    writeFileSync(join(cwd, 'tiny.yaml'), SMALL);
  });

  it('growing a study trains only what is new; report-only settings train nothing', async () => {
    const first = bnx(cwd, ['run', 'tiny.yaml']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('0 already finished, 2 to train');
    // One more seed: the two finished runs are found by key although the study config (and parent) changed.
    const seeds = bnx(cwd, ['run', 'tiny.yaml', '--set', 'seeds=[1, 2]']);
    expect(seeds.code, seeds.stderr).toBe(0);
    expect(seeds.stderr).toContain('2 already finished, 2 to train');
    // A new variant: only its runs.
    const variant = bnx(cwd, ['run', 'tiny.yaml', '--set', 'seeds=[1, 2]', '--set', 'variants.layernorm={model: {norm: layer}}']);
    expect(variant.code, variant.stderr).toBe(0);
    expect(variant.stderr).toContain('4 already finished, 2 to train');
    // A report setting and a default written out: nothing to train.
    const ref = bnx(cwd, ['run', 'tiny.yaml', '--set', 'seeds=[1, 2]', '--set', 'report.reference=batchnorm', '--set', 'model.dropout=0']);
    expect(ref.code, ref.stderr).toBe(0);
    expect(ref.stderr).toContain('4 already finished, 0 to train');
    const { children } = await childRuns(join(cwd, 'mlruns'));
    expect(children.filter((r) => r.info.status === 'FINISHED')).toHaveLength(6);
    // bnx report of a config that never ran as such (seed 2 only): its runs exist, so it reports.
    const report = bnx(cwd, ['report', 'tiny.yaml', '--set', 'seeds=[2]', '--json']);
    expect(report.code, report.stderr).toBe(0);
    expect(JSON.parse(report.stdout).runs.map((r: { seed: number; status: string }) => `${r.seed}:${r.status}`)).toEqual(['2:FINISHED', '2:FINISHED']);
  });

  it('a copied project (with ./mlruns) reports from its own files; a damaged meta.yaml is skipped, named', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'bnx-copied-'));
    cpSync(cwd, copy, { recursive: true });
    rmSync(join(copy, 'reports'), { recursive: true, force: true });
    rmSync(join(cwd, 'mlruns'), { recursive: true, force: true, maxRetries: 3 }); // the original is gone: moved
    try {
      const report = bnx(copy, ['report', 'tiny.yaml', '--set', 'seeds=[1, 2]', '--json']);
      expect(report.code, report.stderr).toBe(0);
      const summary = JSON.parse(report.stdout);
      expect(summary.runs.every((r: { onnx: { path: string } | null }) => r.onnx && existsSync(join(copy, r.onnx.path)))).toBe(true);
      expect(readFileSync(join(copy, 'reports/tiny/index.html'), 'utf8')).toContain('onnx');
      cpSync(join(copy, 'mlruns'), join(cwd, 'mlruns'), { recursive: true }); // put the original back, undamaged
      // One run record damaged: the report goes on without it and names the file.
      const { children } = await childRuns(join(copy, 'mlruns'));
      const victim = children.find((r) => r.info.status === 'FINISHED')!;
      const meta = join(copy, 'mlruns', victim.info.experiment_id, victim.info.run_id, 'meta.yaml');
      writeFileSync(meta, 'status: [unclosed\n');
      const damaged = bnx(copy, ['report', 'tiny.yaml', '--set', 'seeds=[1, 2]']);
      expect(damaged.code, damaged.stderr).toBe(0);
      expect(damaged.stderr).toContain(`skipping a run whose ${meta} is damaged`);
      expect(damaged.stderr).not.toMatch(/YAMLParseError|\n\s+at /);
    } finally {
      if (!existsSync(join(cwd, 'mlruns'))) cpSync(join(copy, 'mlruns'), join(cwd, 'mlruns'), { recursive: true });
    }
  });

  it('trains two variants with the same resolved config once', () => {
    const same = bnx(cwd, ['run', 'tiny.yaml', '--set', 'variants.bn-explicit={model: {norm: {type: batch, momentum: 0.1}}}']);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stderr).toContain('3 runs planned (2 distinct: 1 repeats an identical config), 2 already finished, 0 to train');
    expect(same.stderr).not.toMatch(/elsewhere|another process/);
  });

  it('a second bnx run of the same study waits for the first one\'s runs and reports them', async () => {
    writeFileSync(join(cwd, 'slow.yaml'), STUDY.replace('name: tiny', 'name: slow').replace('epochs: 2', 'epochs: 3').replace('seeds: [1, 2]', 'seeds: [7]'));
    const a = spawn(process.execPath, [BIN, 'run', 'slow.yaml', '--jobs', '2'], { cwd, env: { ...process.env, MLFLOW_TRACKING_URI: '' } });
    let errA = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`first run never started training: ${errA}`)), 240_000);
      a.stderr.on('data', (d: Buffer) => {
        errA += d.toString();
        if ((errA.match(/start /g) ?? []).length === 2) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    // Both runs of the first invocation are held (SIGSTOP) until the second has claimed, so it finds
    // them under way however slowly it starts on a loaded machine; a stopped process is alive.
    const trainers = childPids(a.pid!);
    expect(trainers, errA).toHaveLength(2);
    for (const pid of trainers) process.kill(pid, 'SIGSTOP');
    const b = await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
      const p = spawn(process.execPath, [BIN, 'run', 'slow.yaml'], { cwd, env: { ...process.env, MLFLOW_TRACKING_URI: '' } });
      let stderr = '';
      let stdout = '';
      let resumed = false;
      p.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (!resumed && /runs? planned/.test(stderr)) {
          resumed = true;
          for (const pid of trainers) process.kill(pid, 'SIGCONT');
        }
      });
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.once('exit', (code) => {
        if (!resumed) for (const pid of trainers) process.kill(pid, 'SIGCONT');
        resolve({ code, stderr, stdout });
      });
    });
    const codeA = await new Promise((r) => (a.exitCode !== null ? r(a.exitCode) : a.once('exit', r)));
    expect(codeA, errA).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/2 being trained by another process \(waiting for them\)/);
    expect(b.stderr).not.toContain('elsewhere');
    const summary = JSON.parse(readFileSync(join(cwd, 'reports/slow/summary.json'), 'utf8'));
    expect(summary.runs.map((r: { status: string }) => r.status)).toEqual(['FINISHED', 'FINISHED']);
  });

  it('Ctrl-C leaves no run RUNNING or SCHEDULED, and the parent KILLED', async () => {
    writeFileSync(join(cwd, 'many.yaml'), SMALL.replace('name: tiny', 'name: many').replace('seeds: [1]', `seeds: [${Array.from({ length: 30 }, (_, i) => i + 1).join(', ')}]`));
    const p = spawn(process.execPath, [BIN, 'run', 'many.yaml', '--jobs', '1'], { cwd, env: { ...process.env, MLFLOW_TRACKING_URI: '' } });
    let err = '';
    let sent = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`never started: ${err}`)), 240_000);
      p.stderr.on('data', (d: Buffer) => {
        err += d.toString();
        // Then Ctrl-C again once the first has been heard, as an impatient user presses it:
        // bnx must still close every claimed run and exit 130.
        if (sent === 0 && /start /.test(err)) {
          sent = 1;
          clearTimeout(timer);
          p.kill('SIGINT');
          resolve();
        } else if (sent >= 1 && /interrupted: /.test(err) && p.exitCode === null) {
          // And on every later line while it closes the claimed runs.
          sent++;
          p.kill('SIGINT');
        }
      });
    });
    const code = await new Promise((r) => p.once('exit', r));
    expect(code, err).toBe(130);
    const store = new FileStore(join(cwd, 'mlruns'));
    const exp = (await store.listExperiments()).find((e) => e.name === 'many')!;
    const runs = await store.searchRuns(exp.experiment_id, {});
    // Training starts after the first batch of claims; Ctrl-C also stops the claiming of the rest.
    expect(runs.length).toBeGreaterThan(2);
    expect(runs.length).toBeLessThanOrEqual(61);
    expect(runs.filter((r) => r.info.status === 'RUNNING' || r.info.status === 'SCHEDULED').map((r) => r.info.run_name)).toEqual([]);
    // Interrupted is KILLED, never FAILED, even for a run whose process had just been started.
    expect(runs.filter((r) => r.info.status === 'FAILED').map((r) => r.info.run_name)).toEqual([]);
    // Runs that never started carry no params.
    const never = runs.filter((r) => r.data.tags['mlflow.parentRunId'] && r.data.tags['mlflow.note.content'] === 'interrupted before it started');
    expect(never.length).toBeGreaterThan(0);
    expect(never.every((r) => Object.keys(r.data.params).length === 0)).toBe(true);
  });
});
