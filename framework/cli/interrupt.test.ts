/**
 * Ctrl-C ends a study even when a training process cannot react: here the process is frozen with
 * SIGSTOP (as a hung kernel or a spin would leave it: its signal handlers never run). The parent
 * must still end the study with exit 130 and record the run KILLED, not wait forever.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childPids, startBnx } from '../../test-support/bnx-process.js';
import { until } from '../../test-support/until.js';
import { FileStore } from '../track/index.js';
import { pidAlive } from '../util/pid.js';
// Zombies count as gone: a killed process may wait seconds for init to reap it.
const alive = pidAlive;

describe('Ctrl-C with a training process that cannot react', () => {
  it('kills it after the grace period, exits 130 and records the run KILLED', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bnx-hang-'));
    writeFileSync(join(cwd, 'h.yaml'), 'name: h\ndataset: { name: fashion-mnist, subset: { train: 4000, test: 500 } }\ntrain: { epochs: 50, batch_size: 32 }\n');
    const { proc: run, stderr, exited } = startBnx(cwd, ['run', 'h.yaml', '--jobs', '1']);
    await until('the first epoch', () => /epoch 1\/50/.test(stderr()), 120_000);
    const [trainer] = childPids(run.pid!);
    expect(trainer, stderr()).toBeGreaterThan(0);
    process.kill(trainer!, 'SIGSTOP');
    run.kill('SIGINT');
    expect(await exited, stderr()).toBe(130);
    expect(alive(trainer!)).toBe(false);
    const store = new FileStore(join(cwd, 'mlruns'));
    const [exp] = (await store.listExperiments()).filter((e) => e.name === 'h');
    const runs = await store.searchRuns(exp!.experiment_id, {});
    const child = runs.find((r) => r.data.tags['mlflow.parentRunId'])!;
    expect(child.info.status).toBe('KILLED');
    expect(child.data.tags['mlflow.note.content']).toContain('did not stop within 5 s of the interrupt');
    expect(runs.filter((r) => r.info.status === 'RUNNING')).toEqual([]);
  }, 240_000);

  it('after kill -9 of bnx itself, its training processes record their runs KILLED and leave without a stack trace', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bnx-orphan-'));
    writeFileSync(join(cwd, 'o.yaml'), 'name: o\ndataset: { name: fashion-mnist, subset: { train: 4000, test: 500 } }\ntrain: { epochs: 50, batch_size: 32 }\nseeds: [1, 2]\n');
    const { proc: run, stderr } = startBnx(cwd, ['run', 'o.yaml', '--jobs', '2']);
    // The trainers inherit this stderr pipe: it closes once the last of them has exited.
    const allGone = new Promise<void>((r) => run.stderr!.once('close', () => r()));
    await until('an epoch of both runs', () => (stderr().match(/epoch 1\/50/g) ?? []).length === 2, 120_000);
    const trainers = childPids(run.pid!);
    expect(trainers, stderr()).toHaveLength(2);
    process.kill(run.pid!, 'SIGKILL');
    await allGone;
    for (const pid of trainers) expect(alive(pid)).toBe(false);
    const err = stderr();
    const after = err.slice(err.lastIndexOf('epoch 1/50'));
    expect(after).not.toMatch(/ERR_IPC_CHANNEL_CLOSED|EPIPE|\n\s+at /);
    const store = new FileStore(join(cwd, 'mlruns'));
    const [exp] = (await store.listExperiments()).filter((e) => e.name === 'o');
    const children = (await store.searchRuns(exp!.experiment_id, {})).filter((r) => r.data.tags['mlflow.parentRunId']);
    expect(children.map((r) => r.info.status)).toEqual(['KILLED', 'KILLED']);
  }, 240_000);
});
