/**
 * Runs waiting for a training process are SCHEDULED in MLflow and start their clock when they start,
 * so the UI's Duration is training time. With --jobs 1 the runs train one after another: each run's
 * start_time must then come after the previous run's end_time (created-at times would all precede it).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBnx } from '../../test-support/bnx-process.js';
import { until } from '../../test-support/until.js';
import { FileStore } from '../track/index.js';

describe('runs waiting for a process', () => {
  it('are SCHEDULED until they start, and their Duration is their training time', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bnx-sched-'));
    writeFileSync(join(cwd, 's.yaml'), 'name: s\ndataset: { name: fashion-mnist, subset: { train: 600, test: 100 } }\nmodel: { hidden: [8] }\ntrain: { epochs: 2, batch_size: 50 }\nseeds: [1, 2, 3]\n');
    const { stderr, exited } = startBnx(cwd, ['run', 's.yaml', '--jobs', '1']);
    const store = new FileStore(join(cwd, 'mlruns'));
    const children = async () => {
      const exp = (await store.listExperiments()).find((e) => e.name === 's');
      return exp ? (await store.searchRuns(exp.experiment_id, {})).filter((r) => r.data.tags['mlflow.parentRunId']) : [];
    };
    // While seed 1 trains, the runs behind it wait SCHEDULED, never RUNNING.
    await until('the first epoch of seed 1', () => /seed=1 epoch 1\/2/.test(stderr()), 120_000);
    const during = await children();
    expect(during.filter((r) => r.info.status === 'RUNNING').map((r) => r.info.run_name)).toEqual(['base/seed=1']);
    expect(during.filter((r) => r.info.run_name !== 'base/seed=1').every((r) => r.info.status === 'SCHEDULED' || r.info.status === 'FINISHED')).toBe(true);
    expect(await exited, stderr()).toBe(0);
    const done = (await children()).sort((a, b) => a.info.start_time - b.info.start_time);
    expect(done.map((r) => [r.info.run_name, r.info.status])).toEqual([
      ['base/seed=1', 'FINISHED'],
      ['base/seed=2', 'FINISHED'],
      ['base/seed=3', 'FINISHED'],
    ]);
    for (let i = 1; i < done.length; i++) expect(done[i]!.info.start_time).toBeGreaterThanOrEqual(done[i - 1]!.info.end_time!);
  }, 240_000);
});
