/**
 * Ctrl-C ends a study even when a training process cannot react: here the process is frozen with
 * SIGSTOP (as a hung kernel or a spin would leave it: its signal handlers never run). The parent
 * must still end the study with exit 130 and record the run KILLED, not wait forever.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../../test-support/until.js';
import { FileStore } from '../track/index.js';
import { PACKAGE_ROOT } from '../util/paths.js';
import { pidAlive } from '../util/pid.js';

const BIN = join(PACKAGE_ROOT, 'dist/framework/cli/main.js');

const childPids = (pid: number): number[] => {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
  } catch {
    return [];
  }
};
// Zombies count as gone: a killed process may wait seconds for init to reap it.
const alive = pidAlive;

describe('Ctrl-C with a training process that cannot react', () => {
  it('kills it after the grace period, exits 130 and records the run KILLED', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bnx-hang-'));
    writeFileSync(join(cwd, 'h.yaml'), 'name: h\ndataset: { name: fashion-mnist, subset: { train: 4000, test: 500 } }\ntrain: { epochs: 50, batch_size: 32 }\n');
    const run = spawn(process.execPath, [BIN, 'run', 'h.yaml', '--jobs', '1'], { cwd, env: { ...process.env, MLFLOW_TRACKING_URI: '' } });
    let err = '';
    run.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => run.once('exit', (code) => r(code)));
    await until('the first epoch', () => /epoch 1\/50/.test(err), 120_000);
    const [trainer] = childPids(run.pid!);
    expect(trainer, err).toBeGreaterThan(0);
    process.kill(trainer!, 'SIGSTOP');
    run.kill('SIGINT');
    expect(await exited, err).toBe(130);
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
    const run = spawn(process.execPath, [BIN, 'run', 'o.yaml', '--jobs', '2'], { cwd, env: { ...process.env, MLFLOW_TRACKING_URI: '' } });
    let err = '';
    run.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // The trainers inherit this stderr pipe: it closes once the last of them has exited.
    const allGone = new Promise<void>((r) => run.stderr.once('close', () => r()));
    await until('an epoch of both runs', () => (err.match(/epoch 1\/50/g) ?? []).length === 2, 120_000);
    const trainers = childPids(run.pid!);
    expect(trainers, err).toHaveLength(2);
    process.kill(run.pid!, 'SIGKILL');
    await allGone;
    for (const pid of trainers) expect(alive(pid)).toBe(false);
    const after = err.slice(err.lastIndexOf('epoch 1/50'));
    expect(after).not.toMatch(/ERR_IPC_CHANNEL_CLOSED|EPIPE|\n\s+at /);
    const store = new FileStore(join(cwd, 'mlruns'));
    const [exp] = (await store.listExperiments()).filter((e) => e.name === 'o');
    const children = (await store.searchRuns(exp!.experiment_id, {})).filter((r) => r.data.tags['mlflow.parentRunId']);
    expect(children.map((r) => r.info.status)).toEqual(['KILLED', 'KILLED']);
  }, 240_000);
});
