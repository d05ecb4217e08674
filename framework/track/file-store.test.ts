/**
 * The file store against the tree MLflow itself wrote (test-support/fixtures/mlflow/filestore-example): the
 * reader reads it, and a small study written by bnx has the same files, keys, types and text.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore, fromMlflowYaml, toMlflowYaml } from './file-store.js';
import { claimRun, finishRun, logEpoch, logRunRecord, openStudy } from './index.js';
import { TrackingError, type DatasetInput } from './types.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const EXAMPLE = resolve(repoRoot, 'test-support/fixtures/mlflow/filestore-example/mlruns');
const EXP = '500152361348783330';
const PARENT = 'ebf6f15706f34d68a7dd9b4932beeac3';
const BASELINE = '096f9d73c88a42ae870e22c10bb2f9cc';
const BATCHNORM = '0bbeebc6fad54c4787f4e67608e4fcdf';
const GROUPNORM = '576fefde424b47d08d0b4477314ad788';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'bnx-filestore-test-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function files(root: string): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) visit(p);
      else out.push(relative(root, p));
    }
  };
  visit(root);
  return out.sort();
}

const yamlAt = (p: string) => fromMlflowYaml(readFileSync(p, 'utf8')) as Record<string, unknown>;
const shape = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v]));

describe('FileStore reads the store MLflow wrote', () => {
  let store: FileStore;
  beforeAll(() => {
    // A copy: the reader must never write into the committed fixture.
    cpSync(EXAMPLE, join(work, 'example'), { recursive: true });
    store = new FileStore(join(work, 'example'));
  });

  it('lists the experiments and finds one by name without creating anything', async () => {
    const before = files(join(work, 'example'));
    expect((await store.listExperiments()).map((e) => [e.experiment_id, e.name])).toEqual([
      [EXP, 'bn-vs-baseline'],
      ['0', 'Default'],
    ]);
    expect((await store.listExperiments())[0]!.tags).toEqual({ 'bnx.config.sha256': 'ab12' });
    expect(await store.getOrCreateExperiment('bn-vs-baseline')).toBe(EXP);
    expect(files(join(work, 'example'))).toEqual(before);
  });

  it('reads runs: info with status strings, params, tags, latest metrics (NaN included), inputs', async () => {
    const run = await store.getRun(BATCHNORM);
    expect(run.info).toEqual({
      run_id: BATCHNORM,
      experiment_id: EXP,
      run_name: 'batchnorm/seed=1',
      status: 'FINISHED',
      start_time: 1795531760043,
      end_time: 1795531760055,
      artifact_uri: `file:///home/researcher/study/mlruns/${EXP}/${BATCHNORM}/artifacts`,
      lifecycle_stage: 'active',
    });
    expect(run.data.params).toEqual({ 'model.norm': 'batch', seed: '1', 'train.optimizer.lr': '0.01' });
    expect(run.data.tags).toEqual({
      'mlflow.parentRunId': PARENT,
      'mlflow.runName': 'batchnorm/seed=1',
      'mlflow.source.name': 'bnx',
      'mlflow.source.type': 'LOCAL',
      'mlflow.user': 'root',
    });
    expect(run.data.metrics.test_accuracy).toBe(0.7);
    expect(run.data.metrics.train_loss).toBe(0.3333333333333333);
    expect(run.data.metrics.grad_norm).toBeNaN();
    expect(run.inputs).toEqual([
      {
        name: 'fashion-mnist',
        digest: '1fca5924',
        source_type: 'local',
        source: '{"uri": "train-images-idx3-ubyte.gz"}',
        schema: '{"mlflow_tensorspec": {"features": "[{\\"type\\": \\"tensor\\", \\"tensor-spec\\": {\\"dtype\\": \\"uint8\\", \\"shape\\": [-1, 784]}}]", "targets": null}}',
        profile: '{"features_shape": [4, 784], "features_size": 3136, "features_nbytes": 3136}',
        context: 'training',
      },
    ]);
    expect((await store.getRun(GROUPNORM)).info.status).toBe('FAILED');
    expect((await store.getRun(GROUPNORM)).data.tags['mlflow.user']).toBeUndefined();
    expect((await store.getRun(PARENT)).data.tags['mlflow.note.content']).toBe('# BN vs baseline\nparent run');
  });

  it('searches children of the parent, newest first, and filters by tag', async () => {
    const children = await store.searchRuns(EXP, { parentRunId: PARENT });
    expect(children.map((r) => r.info.run_name)).toEqual(['groupnorm/seed=1', 'batchnorm/seed=1', 'baseline/seed=1']);
    expect((await store.searchRuns(EXP)).length).toBe(4);
    expect((await store.searchRuns(EXP, { tags: { 'mlflow.runName': 'baseline/seed=1' } })).map((r) => r.info.run_id)).toEqual([BASELINE]);
  });

  it('reads metric history in file order', async () => {
    expect(await store.getMetricHistory(BASELINE, 'train_loss')).toEqual([
      { key: 'train_loss', value: 1, timestamp: 1795531760034, step: 0 },
      { key: 'train_loss', value: 0.5, timestamp: 1795531760035, step: 1 },
      { key: 'train_loss', value: 0.3333333333333333, timestamp: 1795531760036, step: 2 },
    ]);
    expect(await store.getMetricHistory(BASELINE, 'never_logged')).toEqual([]);
  });

  it('finds artifacts of a moved store in its run folders', async () => {
    expect(await store.listArtifacts(BASELINE)).toEqual([{ path: 'model', is_dir: true }]);
    expect(await store.listArtifacts(BASELINE, 'model')).toEqual([{ path: 'model/model.onnx.txt', is_dir: false, file_size: 14 }]);
    await store.downloadArtifact(BASELINE, 'model/model.onnx.txt', join(work, 'dl', 'm.txt'));
    expect(readFileSync(join(work, 'dl', 'm.txt'), 'utf8')).toBe('ir_version: 8\n');
  });
});

describe('a study written by bnx has the shapes MLflow wrote', () => {
  const root = () => join(work, 'mine');
  const ids: Record<string, string> = {};
  let expId = '';

  beforeAll(async () => {
    const store = new FileStore(root());
    await store.getOrCreateExperiment('bn-vs-baseline', { tags: { 'bnx.config.sha256': 'ab12' } });
    const study = await openStudy(store, { experimentName: 'bn-vs-baseline', studyName: 'bn-vs-baseline', configSha256: 'ab12', studyYaml: 'name: bn-vs-baseline\n' });
    expId = study.experimentId;
    ids.parent = study.parentRunId;
    const dataset: DatasetInput = {
      name: 'fashion-mnist',
      digest: '1fca5924',
      source_type: 'local',
      source: '{"uri": "train-images-idx3-ubyte.gz"}',
      schema: '{"mlflow_tensorspec": {"features": "[{\\"type\\": \\"tensor\\", \\"tensor-spec\\": {\\"dtype\\": \\"uint8\\", \\"shape\\": [-1, 784]}}]", "targets": null}}',
      profile: '{"features_shape": [4, 784], "features_size": 3136, "features_nbytes": 3136}',
    };
    const model = join(work, 'model.onnx.txt');
    writeFileSync(model, 'ir_version: 8\n');
    for (const [variant, norm] of [
      ['baseline', 'none'],
      ['batchnorm', 'batch'],
      ['groupnorm', 'group'],
    ] as const) {
      const claim = await claimRun(store, study, { runKey: `key-${variant}`, runName: `${variant}/seed=1` });
      if (claim.action !== 'train') throw new Error(`expected a new run, got ${claim.action}`);
      ids[variant] = claim.runId;
      if (variant === 'groupnorm') {
        await logRunRecord(store, claim.runId, { params: { 'model.norm': norm }, tags: {} });
        await finishRun(store, claim.runId, 'FAILED');
        continue;
      }
      await logRunRecord(store, claim.runId, { params: { 'model.norm': norm, seed: '1', 'train.optimizer.lr': '0.01' }, tags: { 'bnx.variant': variant }, dataset });
      for (const [epoch, acc, loss] of [
        [0, 0.5, 1.0],
        [1, 0.6, 0.5],
        [2, 0.7, 1 / 3],
      ] as const) {
        await logEpoch(store, claim.runId, epoch, { test_accuracy: acc, train_loss: loss, ...(epoch === 0 ? { grad_norm: NaN } : {}) });
      }
      await store.logArtifact(claim.runId, model, 'model/model.onnx.txt');
      await finishRun(store, claim.runId, 'FINISHED');
    }
    await finishRun(store, ids.parent!, 'FINISHED', { note: '# BN vs baseline\nparent run' });
  });

  /** Paths with ids replaced by what they stand for, so two stores can be compared. */
  function normalized(base: string, exp: string, runs: Record<string, string>): string[] {
    const byId = new Map(Object.entries(runs).map(([name, id]) => [id, `<${name}>`]));
    return files(base).map((p) =>
      p
        .split('/')
        .map((seg, i) => (i === 0 && seg === exp ? '<exp>' : byId.get(seg) ?? (/^[0-9a-f]{32}$/.test(seg) ? '<md5>' : seg)))
        .join('/'),
    );
  }

  it('has every file MLflow wrote, and nothing but the same kinds of files', () => {
    const example = normalized(EXAMPLE, EXP, { parent: PARENT, baseline: BASELINE, batchnorm: BATCHNORM, groupnorm: GROUPNORM });
    const mine = normalized(root(), expId, ids);
    const missing = example.filter((p) => !mine.includes(p) && !p.startsWith('<exp>/<groupnorm>/tags/mlflow.source') && !p.startsWith('<exp>/<groupnorm>/tags/mlflow.user'));
    expect(missing).toEqual([]);
    const allowed = [
      /^0\/meta\.yaml$/,
      /^<exp>\/meta\.yaml$/,
      /^<exp>\/tags\/[\w.]+$/,
      /^<exp>\/datasets\/<md5>\/meta\.yaml$/,
      /^<exp>\/<\w+>\/meta\.yaml$/,
      /^<exp>\/<\w+>\/(metrics|params|tags)\/[\w.]+$/,
      /^<exp>\/<\w+>\/inputs\/<md5>\/meta\.yaml$/,
      /^<exp>\/<\w+>\/artifacts\/[\w./]+$/,
    ];
    // No temp files, no lock files, nothing MLflow would misread.
    expect(mine.filter((p) => !allowed.some((re) => re.test(p)))).toEqual([]);
    expect(existsSync(join(root(), '.trash'))).toBe(true);
    expect(statSync(join(root(), expId, ids.parent!, 'metrics')).isDirectory()).toBe(true);
    expect(mine).toContain('<exp>/<parent>/artifacts/study.yaml');
  });

  it('writes meta.yaml files with MLflow keys, types and text', () => {
    const pairs: [string, string][] = [
      [join(EXAMPLE, '0/meta.yaml'), join(root(), '0/meta.yaml')],
      [join(EXAMPLE, EXP, 'meta.yaml'), join(root(), expId, 'meta.yaml')],
      ...(['parent', 'baseline', 'batchnorm', 'groupnorm'] as const).map((n): [string, string] => [
        join(EXAMPLE, EXP, { parent: PARENT, baseline: BASELINE, batchnorm: BATCHNORM, groupnorm: GROUPNORM }[n], 'meta.yaml'),
        join(root(), expId, ids[n]!, 'meta.yaml'),
      ]),
    ];
    for (const [theirs, mine] of pairs) {
      const a = yamlAt(theirs);
      const b = yamlAt(mine);
      expect(shape(b)).toEqual(shape(a));
      // Put their ids, times and paths into mine: what is left is pure formatting, which must match byte for byte.
      const volatile = ['artifact_location', 'artifact_uri', 'creation_time', 'last_update_time', 'experiment_id', 'run_id', 'run_uuid', 'start_time', 'end_time', 'user_id'];
      const merged = { ...b, ...Object.fromEntries(volatile.filter((k) => k in a).map((k) => [k, a[k]])) };
      expect(toMlflowYaml(merged)).toBe(readFileSync(theirs, 'utf8'));
      expect(readFileSync(mine, 'utf8')).toBe(toMlflowYaml(b));
    }
    const runMeta = readFileSync(join(root(), expId, ids.batchnorm!, 'meta.yaml'), 'utf8');
    expect(runMeta).toContain(`experiment_id: '${expId}'`);
    expect(runMeta).toMatch(/^status: 3$/m);
    expect(runMeta).toContain(`artifact_uri: file://${root()}/${expId}/${ids.batchnorm}/artifacts`);
    expect(readFileSync(join(root(), expId, ids.groupnorm!, 'meta.yaml'), 'utf8')).toMatch(/^status: 4$/m);
    expect(yamlAt(join(root(), expId, ids.batchnorm!, 'meta.yaml'))).toMatchObject({ run_id: ids.batchnorm, run_uuid: ids.batchnorm, experiment_id: expId });
    expect(expId).toMatch(/^[1-9]\d{17}$/);
    for (const id of Object.values(ids)) expect(id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('writes datasets and inputs exactly as MLflow does (same ids, same text)', () => {
    const theirDs = join(EXAMPLE, EXP, 'datasets/2540d6fa5380d810c75788ce8e92d377/meta.yaml');
    const myDs = join(root(), expId, 'datasets/2540d6fa5380d810c75788ce8e92d377/meta.yaml');
    expect(yamlAt(myDs)).toEqual(yamlAt(theirDs));
    expect(readFileSync(myDs, 'utf8')).toBe(toMlflowYaml(yamlAt(theirDs)));
    const inputs = readdirSync(join(root(), expId, ids.batchnorm!, 'inputs'));
    expect(inputs).toHaveLength(1);
    // md5(dataset id + run id), so it differs per run; the content is the same as MLflow's.
    expect(readFileSync(join(root(), expId, ids.batchnorm!, 'inputs', inputs[0]!, 'meta.yaml'), 'utf8')).toBe(
      readFileSync(join(EXAMPLE, EXP, BATCHNORM, 'inputs/20229504547309ebc785fedbc57e4fd5/meta.yaml'), 'utf8'),
    );
  });

  it('writes metric lines as "<timestamp> <python float> <step>" and raw params and tags', () => {
    for (const key of ['test_accuracy', 'train_loss', 'grad_norm']) {
      const mine = readFileSync(join(root(), expId, ids.batchnorm!, 'metrics', key), 'utf8');
      const theirs = readFileSync(join(EXAMPLE, EXP, BATCHNORM, 'metrics', key), 'utf8');
      for (const line of mine.split('\n').slice(0, -1)) expect(line).toMatch(/^\d{13} \S+ \d+$/);
      const strip = (t: string) => t.replace(/^\d+ /gm, '');
      expect(strip(mine)).toBe(strip(theirs));
    }
    for (const p of ['params/model.norm', 'params/seed', 'params/train.optimizer.lr', 'tags/mlflow.runName', 'tags/mlflow.source.type']) {
      expect(readFileSync(join(root(), expId, ids.batchnorm!, p), 'utf8')).toBe(readFileSync(join(EXAMPLE, EXP, BATCHNORM, p), 'utf8'));
    }
    expect(readFileSync(join(root(), expId, ids.parent!, 'tags/mlflow.note.content'), 'utf8')).toBe('# BN vs baseline\nparent run');
    expect(readFileSync(join(root(), expId, ids.batchnorm!, 'tags/mlflow.parentRunId'), 'utf8')).toBe(ids.parent);
  });

  it('reads back what it wrote', async () => {
    const store = new FileStore(root());
    const run = await store.getRun(ids.batchnorm!);
    expect(run.info.status).toBe('FINISHED');
    expect(run.info.end_time).toBeGreaterThanOrEqual(run.info.start_time);
    expect(run.data.metrics.grad_norm).toBeNaN();
    expect(run.data.metrics.train_loss).toBe(1 / 3);
    expect(run.inputs?.[0]?.context).toBe('training');
    expect((await store.searchRuns(expId, { parentRunId: ids.parent })).length).toBe(3);
  });
});

describe('FileStore safety', () => {
  it('rejects names that would escape the run folder, with MLflow message, and writes nothing', async () => {
    const store = new FileStore(join(work, 'names'));
    const exp = await store.getOrCreateExperiment('e');
    const run = await store.createRun(exp, { runName: 'r' });
    const err = await store.logBatch(run.info.run_id, { params: { '../evil': '1', ok: '2' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrackingError);
    expect((err as Error).message).toBe(
      "Invalid parameter name: '../evil'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '../evil'",
    );
    expect(readdirSync(join(work, 'names', exp, run.info.run_id, 'params'))).toEqual([]);
    expect(existsSync(join(work, 'names', exp, run.info.run_id, 'evil'))).toBe(false);
    await expect(store.logBatch(run.info.run_id, { tags: { 'a b/c.d-e_f': 'ok' } })).resolves.toBeUndefined();
    expect(readFileSync(join(work, 'names', exp, run.info.run_id, 'tags/a b/c.d-e_f'), 'utf8')).toBe('ok');
  });

  it('refuses to change a param value, accepts the same value again', async () => {
    const store = new FileStore(join(work, 'params'));
    const run = await store.createRun(await store.getOrCreateExperiment('e'), { runName: 'r' });
    await store.logBatch(run.info.run_id, { params: { seed: '1' } });
    await store.logBatch(run.info.run_id, { params: { seed: '1' } });
    await expect(store.logBatch(run.info.run_id, { params: { seed: '2' } })).rejects.toThrow(/Changing param values is not allowed/);
    expect((await store.getRun(run.info.run_id)).data.params.seed).toBe('1');
  });

  it('ignores a torn last metric line and repairs it before the next append', async () => {
    const store = new FileStore(join(work, 'torn'));
    const run = await store.createRun(await store.getOrCreateExperiment('e'), { runName: 'r' });
    const id = run.info.run_id;
    await store.logBatch(id, { metrics: [{ key: 'loss', value: 0.5, timestamp: 1795531760000, step: 0 }] });
    const file = join(work, 'torn', run.info.experiment_id, id, 'metrics', 'loss');
    appendFileSync(file, '1795531760001 0.2'); // a writer killed mid-line
    expect((await store.getMetricHistory(id, 'loss')).map((m) => m.value)).toEqual([0.5]);
    expect((await store.getRun(id)).data.metrics.loss).toBe(0.5);
    await store.logBatch(id, { metrics: [{ key: 'loss', value: 0.25, timestamp: 1795531760002, step: 1 }] });
    expect(readFileSync(file, 'utf8')).toBe('1795531760000 0.5 0\n1795531760002 0.25 1\n');
    appendFileSync(file, '17955');
    await store.updateRun(id, 'KILLED', 1795531760009);
    expect(readFileSync(file, 'utf8')).toBe('1795531760000 0.5 0\n1795531760002 0.25 1\n');
  });

  it('creates a scheduled run SCHEDULED in its first meta.yaml, and starts its clock when it starts', async () => {
    const store = new FileStore(mkdtempSync(join(tmpdir(), 'bnx-fs-sched-')));
    const run = await store.createRun(await store.getOrCreateExperiment('e'), { runName: 'r', startTime: 1000, status: 'SCHEDULED' });
    expect(run.info.status).toBe('SCHEDULED');
    const meta = readFileSync(join(store.root, run.info.experiment_id, run.info.run_id, 'meta.yaml'), 'utf8');
    expect(meta).toMatch(/^status: 2$/m);
    expect(meta).toMatch(/^start_time: 1000$/m);
    await store.updateRun(run.info.run_id, 'RUNNING');
    const started = await store.getRun(run.info.run_id);
    expect(started.info.status).toBe('RUNNING');
    expect(started.info.start_time).toBeGreaterThan(1000);
  });

  it('creates one experiment when two stores race for the same name', async () => {
    const dir = join(work, 'race');
    mkdirSync(dir);
    new FileStore(dir);
    const ids = await Promise.all(Array.from({ length: 4 }, () => new FileStore(dir).getOrCreateExperiment('same')));
    expect(new Set(ids).size).toBe(1);
    expect((await new FileStore(dir).listExperiments()).filter((e) => e.name === 'same')).toHaveLength(1);
    expect(readdirSync(dir).filter((n) => n.endsWith('.lock'))).toEqual([]);
  });

  it('creates the Default experiment and .trash in a new store, like MLflow', async () => {
    const dir = join(work, 'fresh', 'mlruns');
    const store = new FileStore(dir);
    expect(existsSync(dir)).toBe(false); // opening writes nothing
    await store.getOrCreateExperiment('x');
    expect(yamlAt(join(dir, '0/meta.yaml'))).toMatchObject({ experiment_id: '0', name: 'Default', lifecycle_stage: 'active', artifact_location: `file://${dir}/0` });
    expect(readFileSync(join(dir, '0/meta.yaml'), 'utf8')).toContain("experiment_id: '0'");
    expect(existsSync(join(dir, '.trash'))).toBe(true);
  });
});

describe('damaged and moved stores', () => {
  it('skips a run or experiment whose meta.yaml is damaged, naming the file once, and goes on', async () => {
    const warnings: string[] = [];
    const root = join(work, 'damaged');
    const store = new FileStore(root, { warn: (m) => warnings.push(m) });
    const exp = await store.getOrCreateExperiment('d');
    const good = await store.createRun(exp, { runName: 'good' });
    const bad = await store.createRun(exp, { runName: 'bad' });
    const badMeta = join(root, exp, bad.info.run_id, 'meta.yaml');
    writeFileSync(badMeta, 'run_id: [unclosed\n  status: {{\n');
    const found = await store.searchRuns(exp);
    expect(found.map((r) => r.info.run_id)).toEqual([good.info.run_id]);
    await store.searchRuns(exp);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`skipping a run whose ${badMeta} is damaged`);
    expect(readFileSync(badMeta, 'utf8')).toBe('run_id: [unclosed\n  status: {{\n'); // reading never rewrites

    const other = await store.getOrCreateExperiment('other');
    const expMeta = join(root, other, 'meta.yaml');
    writeFileSync(expMeta, ': : :\n\t- bad');
    expect((await store.listExperiments()).map((e) => e.name).sort()).toEqual(['Default', 'd']);
    expect(warnings.some((w) => w.includes(`skipping an experiment whose ${expMeta} is damaged`))).toBe(true);
  });

  it('a copied store resolves artifacts in its own folders, and its new runs never point at the original', async () => {
    const original = join(work, 'orig-store');
    const store = new FileStore(original);
    const exp = await store.getOrCreateExperiment('m');
    const run = await store.createRun(exp, { runName: 'r' });
    const file = join(work, 'model.onnx');
    writeFileSync(file, 'weights');
    await store.logArtifact(run.info.run_id, file, 'model/model.onnx');

    const copy = join(work, 'copied-store');
    cpSync(original, copy, { recursive: true });
    const copied = new FileStore(copy);
    expect(copied.localArtifactPath(run.info.run_id, 'model/model.onnx')).toBe(join(copy, exp, run.info.run_id, 'artifacts/model/model.onnx'));
    // Writing through the copy changes the copy only.
    writeFileSync(file, 'retrained');
    await copied.logArtifact(run.info.run_id, file, 'model/model.onnx');
    expect(readFileSync(join(original, exp, run.info.run_id, 'artifacts/model/model.onnx'), 'utf8')).toBe('weights');
    expect(readFileSync(join(copy, exp, run.info.run_id, 'artifacts/model/model.onnx'), 'utf8')).toBe('retrained');
    const fresh = await copied.createRun(exp, { runName: 'new' });
    expect(fresh.info.artifact_uri.startsWith(pathToFileURL(copy).href)).toBe(true);
    // And a moved store (the original gone) still downloads its artifacts.
    rmSync(original, { recursive: true, force: true });
    const out = join(work, 'downloaded.onnx');
    await copied.downloadArtifact(run.info.run_id, 'model/model.onnx', out);
    expect(readFileSync(out, 'utf8')).toBe('retrained');
  });
});
