/**
 * `bnx run --queue` and `bnx worker` end to end: the compiled CLI, a real redis-server, real
 * training of a tiny FashionMNIST study (4 runs of 2 epochs), real MLflow file stores. The queue
 * must give exactly the metrics of a local run, survive a SIGKILLed worker without a duplicate
 * FINISHED run, and not add jobs when the same study is enqueued twice.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Run } from '../track/index.js';
import { BNX, Procs, type Cli } from './fixtures/procs.js';
import { startRedis, type TestRedis } from './fixtures/redis.js';
import { until as poll } from '../../test-support/until.js';
import { QUEUE_NAME, QUEUE_PREFIX } from './settings.js';

/** End-to-end steps train for real: wait longer than the mechanics tests do. */
const until = <T>(what: string, f: () => T | Promise<T>, timeoutMs = 120_000) => poll(what, f, timeoutMs);

const STUDY = 'queue-tiny';
/** Same stall settings on every worker (BullMQ's stall check runs at the pace of the last worker that took it). */
const WORKER_ENV = { BNX_QUEUE_LOCK_MS: '2000', BNX_QUEUE_STALLED_INTERVAL_MS: '1000' };

let redis: TestRedis;
let dir: string;
const procs = new Procs(() => dir);

function studyYaml(trackingDir: string): string {
  return [
    `name: ${STUDY}`,
    'dataset:',
    '  name: fashion-mnist',
    '  subset: { train: 512, test: 256 }',
    'model: { type: mlp, hidden: [16] }',
    'train: { epochs: 2 }',
    'seeds: [1, 2]',
    'variants:',
    '  base: {}',
    '  batchnorm: { model: { norm: batch } }',
    `tracking: { uri: ${JSON.stringify(trackingDir)} }`,
    'export: { onnx: false }',
    '',
  ].join('\n');
}

const bnx = (args: string[], o: { env?: Record<string, string> } = {}): Cli => procs.bnx(args, o);

/** `detached`: in its own process group, so the worker and its training process can be frozen or killed together. */
const worker = (o: { detached?: boolean } = {}): Promise<Cli> => procs.worker(redis.uri, { env: WORKER_ENV, detached: o.detached ?? false });

async function stop(w: Cli): Promise<void> {
  w.proc.kill('SIGINT');
  expect(await w.exited).toBe(0);
}

/** The study's child runs in a file store, by run key. */
async function childRuns(trackingDir: string): Promise<Map<string, Run[]>> {
  const store = openStore(trackingDir);
  const exp = (await store.listExperiments()).find((e) => e.name === STUDY);
  if (!exp) throw new Error(`no experiment ${STUDY} in ${trackingDir}`);
  const byKey = new Map<string, Run[]>();
  for (const r of await store.searchRuns(exp.experiment_id)) {
    const key = r.data.tags['bnx.run_key'];
    if (key) byKey.set(key, [...(byKey.get(key) ?? []), r]);
  }
  return byKey;
}

const FIGURES = ['train_loss', 'train_accuracy', 'test_loss', 'test_accuracy'] as const;

/** Each run key's single FINISHED run's final figures; fails on a missing or duplicated run. */
async function finishedFigures(trackingDir: string): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [key, runs] of await childRuns(trackingDir)) {
    const finished = runs.filter((r) => r.info.status === 'FINISHED');
    expect(finished, `run ${key}: exactly one FINISHED run`).toHaveLength(1);
    out[key] = Object.fromEntries(FIGURES.map((f) => [f, finished[0]!.data.metrics[f]!]));
  }
  return out;
}

async function jobsOfStudy(): Promise<number> {
  const q = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port }, prefix: QUEUE_PREFIX });
  try {
    const jobs = await q.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized']);
    return jobs.filter((j) => j?.id?.startsWith(`${STUDY}.`)).length;
  } finally {
    await q.close();
  }
}

let local: Record<string, Record<string, number>>;

beforeAll(async () => {
  if (!existsSync(BNX)) throw new Error(`${BNX} is missing: run npm run build first (npm test does)`);
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'bnx-queue-e2e-'));
  // The reference: the same study trained locally.
  writeFileSync(join(dir, 'local.yaml'), studyYaml(join(dir, 'mlruns-local')));
  const run = bnx(['run', 'local.yaml', '--jobs', '2']);
  expect(await run.exited, run.output()).toBe(0);
  local = await finishedFigures(join(dir, 'mlruns-local'));
  expect(Object.keys(local)).toHaveLength(4);
});

afterAll(async () => {
  procs.killAll();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('bnx run --queue with bnx workers', () => {
  it('enqueued twice: no extra jobs, 4 runs on 2 workers, the same metrics as a local run', async () => {
    const store = join(dir, 'mlruns-twice');
    writeFileSync(join(dir, 'twice.yaml'), studyYaml(store));

    // First `bnx run` enqueues with no worker around, then is interrupted: the jobs stay queued.
    const first = bnx(['run', 'twice.yaml', '--queue', redis.uri]);
    await until('the first enqueue', () => first.output().includes('enqueued'));
    expect(await jobsOfStudy()).toBe(4);
    first.proc.kill('SIGINT');
    expect(await first.exited).toBe(130);
    expect(first.output()).toContain('stay queued');

    // Running the study again follows the queued jobs instead of adding new ones.
    const second = bnx(['run', 'twice.yaml', '--queue', redis.uri]);
    await until('the second enqueue', () => second.output().includes('enqueued'));
    expect(second.output()).toMatch(/0 run\(s\) enqueued, 4 already queued/);
    expect(await jobsOfStudy()).toBe(4);

    const [a, b] = await Promise.all([worker(), worker()]);
    expect(await second.exited, second.output()).toBe(0);
    expect(await jobsOfStudy()).toBe(4);
    expect(await finishedFigures(store)).toEqual(local);
    // Both workers trained.
    expect(a.output()).toMatch(/FINISHED in/);
    expect(b.output()).toMatch(/FINISHED in/);
    await Promise.all([stop(a), stop(b)]);
  });

  it('a worker SIGKILLed mid-run: the study completes, one FINISHED run per key, same metrics', async () => {
    const store = join(dir, 'mlruns-killed');
    writeFileSync(join(dir, 'killed.yaml'), studyYaml(store));
    const a = await worker({ detached: true });
    const run = bnx(['run', 'killed.yaml', '--queue', redis.uri]);
    // Kill A (worker and training process, as when its machine dies) while a run is certainly under
    // way: freeze the group once a run has logged an epoch, and keep it frozen only if that run is
    // still unfinished; otherwise let it go on to its next run and try again.
    const underWay = async (): Promise<boolean> => {
      try {
        return [...(await childRuns(store)).values()].flat().some((r) => r.info.status === 'RUNNING' && r.data.metrics.test_accuracy !== undefined);
      } catch {
        return false; // the study's records are not there yet
      }
    };
    await until('worker A frozen mid-run', async () => {
      if (!(await underWay())) return false;
      process.kill(-a.proc.pid!, 'SIGSTOP');
      if (await underWay()) return true;
      process.kill(-a.proc.pid!, 'SIGCONT');
      return false;
    }, 120_000);
    process.kill(-a.proc.pid!, 'SIGKILL');
    await a.exited;
    const b = await worker();

    expect(await run.exited, run.output()).toBe(0);
    expect(run.output()).toContain('its worker stopped responding');
    expect(await finishedFigures(store)).toEqual(local);
    // The attempt that died is on record, closed as FAILED, not left RUNNING.
    const all = [...(await childRuns(store)).values()].flat();
    expect(all.filter((r) => r.info.status === 'RUNNING')).toEqual([]);
    expect(all.some((r) => r.info.status === 'FAILED' && /stopped before finishing/.test(r.data.tags['bnx.failure_reason'] ?? ''))).toBe(true);
    await stop(b);
  });
});
