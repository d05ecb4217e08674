/** The run record's writers and readers agree, through a real file store and the fake MLflow server's wire format. */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from './file-store.js';
import { BNX_TAG, RUN_METRIC, epochMetrics, identityTags, outcomeTags, readRunRecord, statusOfKind, type RunIdentity } from './run-record.js';

const identity: RunIdentity = {
  runKey: 'abc123',
  variant: 'batchnorm',
  seed: 3,
  matrix: { 'train.optimizer.lr': 0.01 },
  configSha256: 'f'.repeat(64),
  study: 'tiny',
  backend: 'wasm',
  backendRequested: 'auto',
  bnxVersion: '0.1.0',
  host: 'h',
  cpu: 'some cpu',
  cores: 2,
  versions: { tfjs: '4.22.0', node: 'v20.0.0' },
  gitCommit: 'deadbeef',
  sourceName: 'tiny.yaml',
};

describe('run record', () => {
  it('reads back what it wrote, through a file store', async () => {
    const store = new FileStore(mkdtempSync(join(tmpdir(), 'bnx-record-')));
    const exp = await store.getOrCreateExperiment('tiny');
    const run = await store.createRun(exp, { runName: 'batchnorm/seed=3' });
    await store.logBatch(run.info.run_id, {
      tags: { ...identityTags(identity), ...outcomeTags('failed', 'loss became NaN') },
      metrics: [
        { key: RUN_METRIC.seconds, value: 12.5, timestamp: 1, step: 0 },
        { key: RUN_METRIC.onnxTestAccuracy, value: 0.8, timestamp: 1, step: 0 },
        { key: RUN_METRIC.onnxMaxAbsDiff, value: 2e-6, timestamp: 1, step: 0 },
      ],
    });
    const rec = readRunRecord(await store.getRun(run.info.run_id));
    expect(rec).toEqual({
      runKey: 'abc123',
      variant: 'batchnorm',
      seed: 3,
      backend: 'wasm',
      bnxVersion: '0.1.0',
      cpu: 'some cpu',
      cores: 2,
      versions: { tfjs: '4.22.0', node: 'v20.0.0' },
      outcome: 'failed',
      failureReason: 'loss became NaN',
      seconds: 12.5,
      onnx: { test_accuracy: 0.8, max_abs_diff: 2e-6 },
    });
    const tags = (await store.getRun(run.info.run_id)).data.tags;
    expect(tags['mlflow.source.git.commit']).toBe('deadbeef');
    expect(JSON.parse(tags[BNX_TAG.matrix]!)).toEqual({ 'train.optimizer.lr': 0.01 });
  });

  it('keeps a killed reason apart from a failure reason, and maps kinds to MLflow statuses', () => {
    expect(outcomeTags('killed', 'interrupted (SIGINT)')).toEqual({ [BNX_TAG.outcome]: 'killed', [BNX_TAG.killedReason]: 'interrupted (SIGINT)' });
    expect(outcomeTags('died', 'training process died (SIGKILL)')).toEqual({ [BNX_TAG.outcome]: 'died', [BNX_TAG.failureReason]: 'training process died (SIGKILL)' });
    expect(outcomeTags('finished')).toEqual({ [BNX_TAG.outcome]: 'finished' });
    expect(['finished', 'failed', 'killed', 'died'].map((k) => statusOfKind(k as never))).toEqual(['FINISHED', 'FAILED', 'KILLED', 'FAILED']);
  });

  it('a record without bnx tags reads as unknown, not as a crash', () => {
    const rec = readRunRecord({ info: {} as never, data: { params: {}, tags: { [BNX_TAG.outcome]: 'exploded' }, metrics: {} } });
    expect(rec.outcome).toBeUndefined();
    expect(rec.backend).toBeNull();
    expect(rec.onnx).toBeNull();
  });

  it('names the per-epoch metrics as the reports read them', () => {
    expect(epochMetrics({ train_loss: 1, test_accuracy: 0.5, seconds: 2, lr: 0.1, epoch: 3 })).toEqual({ train_loss: 1, test_accuracy: 0.5, lr: 0.1, epoch_seconds: 2 });
  });
});
