/**
 * The queue's mechanics against a real redis-server and real `bnx worker` processes (the compiled
 * worker, with fixtures/fake-trainer.js standing in for training so these tests take seconds):
 * idempotent enqueueing, progress, config failures not retried, crashes retried, a SIGKILLed
 * worker's run finished elsewhere, Ctrl-C once/twice. The full pipeline is queue-e2e.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EpochEvent, JobFeed, type RunJob, type RunOutcome } from '../launch/index.js';
import type { PlannedRun } from '../plan/index.js';
import { PACKAGE_ROOT } from '../util/paths.js';
import { UserError } from '../util/errors.js';
import { QueueExecutor } from './executor.js';
import { fakeAccuracy, type TrainerLogLine } from './fixtures/fake-trainer.js';
import { startRedis, type TestRedis } from './fixtures/redis.js';
import { until } from '../../test-support/until.js';
import { NO_LEDGER, type RunLedger } from './ledger.js';
import { assertTrackingReachable } from './reachability.js';
import { parseRedisUri, redactRedisUri } from './redis-uri.js';
import { QUEUE_NAME, QUEUE_PREFIX, jobIdFor } from './settings.js';

const FAKE_WORKER = join(PACKAGE_ROOT, 'dist-dev', 'framework', 'queue', 'fixtures', 'fake-worker.js');
const STORE = '/tmp/bnx-queue-test-store';
/**
 * Every worker of a queue must use the same stall settings: BullMQ lets one worker per interval run
 * the stall check (a Redis key that lives as long as that worker's interval), so one worker with
 * the 30 s default would slow everyone's detection down to 30 s.
 */
const FAST_STALL_CHECKS = { BNX_QUEUE_LOCK_MS: '2000', BNX_QUEUE_STALLED_INTERVAL_MS: '1000' };

let redis: TestRedis;
let tmp: string;
const workers: ChildProcess[] = [];

beforeAll(async () => {
  if (!existsSync(FAKE_WORKER)) throw new Error(`${FAKE_WORKER} is missing: run npm run build first (npm test does)`);
  redis = await startRedis();
  tmp = mkdtempSync(join(tmpdir(), 'bnx-queue-'));
});

afterAll(async () => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
  await redis?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function runJob(study: string, i: number, matrix: PlannedRun['matrix'] = {}, runId = `run-${study}-${i}`): RunJob {
  return {
    study,
    configSha256: 'c0ffee',
    trackingUri: STORE,
    experimentId: '1',
    parentRunId: 'parent',
    runId,
    run: { index: i, key: `k${i}0000000000000`, name: `base/seed=${i}`, variant: 'base', matrix: { epochs: 3, sleep_ms: 40, ...matrix }, seed: i, config: {} as PlannedRun['config'] },
    dataset: { name: 'fake' },
    dataDigest: null,
    exportOnnx: false,
    studyFile: `${study}.yaml`,
  };
}

/** A ledger that records which claims the executor closed as superseded. */
function recordingLedger(): RunLedger & { superseded_: string[] } {
  const superseded_: string[] = [];
  return { ...NO_LEDGER, superseded_, superseded: async (job) => void superseded_.push(job.runId) };
}

function trainerLog(file: string): TrainerLogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TrainerLogLine);
}

interface Spawned {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** A real worker process; `detached` puts it in its own process group, as a terminal would. */
async function startWorker(log: string, o: { concurrency?: number; env?: Record<string, string>; detached?: boolean } = {}): Promise<Spawned> {
  const proc = spawn(process.execPath, [FAKE_WORKER, redis.uri, String(o.concurrency ?? 1)], {
    env: { ...process.env, ...FAST_STALL_CHECKS, BNX_FAKE_TRAINER_LOG: log, ...o.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: o.detached ?? false,
  });
  workers.push(proc);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  await until('the worker to connect', () => out.includes('pulling runs from') || proc.exitCode !== null);
  if (proc.exitCode !== null) throw new Error(`worker exited: ${out}`);
  return { proc, output: () => out, exited };
}

/** A wait's timeout with what the worker printed, so a failure says why. */
function withOutput(w: Spawned): (e: Error) => never {
  return (e) => {
    throw new Error(`${e.message}\nworker output:\n${w.output()}`);
  };
}

async function openExecutor(study: string, o: { ledger?: RunLedger; attempts?: number; backoffMs?: number; log?: string[] } = {}): Promise<QueueExecutor> {
  return QueueExecutor.open(redis.uri, { study, trackingUri: STORE, log: (m) => o.log?.push(m), ledger: o.ledger ?? NO_LEDGER, pollMs: 300, attempts: o.attempts, backoffMs: o.backoffMs });
}

function openQueue(): Queue<RunJob, RunOutcome> {
  return new Queue<RunJob, RunOutcome>(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port }, prefix: QUEUE_PREFIX });
}

async function jobCount(q: Queue, study: string): Promise<number> {
  const jobs = await q.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized']);
  return jobs.filter((j) => j?.id?.startsWith(`${study}.`)).length;
}

describe('redis URIs and tracking reachability', () => {
  it('parses credentials, database and TLS, and never shows the password', () => {
    const t = parseRedisUri('redis://alice:s3cr%40t@queue.lab:6380/2', {});
    expect(t).toMatchObject({ host: 'queue.lab', port: 6380, db: 2, username: 'alice', password: 's3cr@t', tls: false, loopback: false });
    expect(t.display).toBe('redis://alice:***@queue.lab:6380/2');
    expect(parseRedisUri('rediss://:pw@[::1]', {})).toMatchObject({ host: '::1', port: 6379, password: 'pw', tls: true, loopback: true });
    expect(parseRedisUri('redis://127.0.0.1:6379', { REDIS_PASSWORD: 'envpw' }).password).toBe('envpw');
    expect(redactRedisUri('redis://secret@h:1')).toBe('redis://***@h:1');
    expect(() => parseRedisUri('http://h:1', {})).toThrow(/unsupported scheme 'http'/);
    expect(() => parseRedisUri('redis://h:1/abc', {})).toThrow(/database 'abc'/);
  });

  it('refuses a remote queue with a store only this machine can reach', () => {
    const remote = parseRedisUri('redis://10.0.0.5:6379', {});
    const local = parseRedisUri('redis://localhost:6379', {});
    expect(() => assertTrackingReachable(remote, '/home/me/mlruns', {})).toThrow(UserError);
    expect(() => assertTrackingReachable(remote, '/home/me/mlruns', {})).toThrow(/folder on this machine/);
    expect(() => assertTrackingReachable(remote, 'http://127.0.0.1:5000', {})).toThrow(/loopback/);
    expect(() => assertTrackingReachable(remote, '/nfs/mlruns', { BNX_SHARED_STORE: '1' })).not.toThrow();
    expect(() => assertTrackingReachable(remote, 'http://mlflow.lab:5000', {})).not.toThrow();
    expect(() => assertTrackingReachable(local, '/home/me/mlruns', {})).not.toThrow();
  });

  it('gives a clear error for an unreachable Redis or a wrong password, without the password', async () => {
    await expect(QueueExecutor.open('redis://127.0.0.1:1', { study: 's', trackingUri: STORE, log: () => {} })).rejects.toThrow(/cannot use the Redis queue at redis:\/\/127\.0\.0\.1:1/);
    const err = await QueueExecutor.open(`redis://ghost:hunter2@127.0.0.1:${redis.port}`, { study: 's', trackingUri: STORE, log: () => {} }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(String((err as UserError).message) + (err as UserError).details.join(' ')).not.toContain('hunter2');
    expect((err as UserError).message).toContain('redis://ghost:***@127.0.0.1');
    expect((err as UserError).details.join(' ')).toMatch(/REDIS_PASSWORD/);
  });

  it('names jobs by study, run key and store, without colons', () => {
    const id = jobIdFor(runJob('my.study', 1));
    expect(id).toMatch(/^my\.study\.k10000000000000\.[0-9a-f]{8}$/);
    expect(jobIdFor({ ...runJob('my.study', 1), trackingUri: '/other' })).not.toBe(id);
  });
});

describe('queue with real workers', () => {
  it('runs 4 jobs on 2 workers once each; enqueueing the same study again adds no jobs', async () => {
    const study = 'twice';
    const log = join(tmp, `${study}.log`);
    const q = openQueue();
    const jobs = [1, 2, 3, 4].map((i) => runJob(study, i, { sleep_ms: 150 }));

    const epochs: EpochEvent[] = [];
    const first = await openExecutor(study);
    const firstDone = first.execute(JobFeed.of(jobs), { epoch: (e) => epochs.push(e) });
    await until('4 jobs waiting', async () => (await jobCount(q, study)) === 4);

    // A second `bnx run` of the same study (its own claims, so other run ids) follows the same jobs.
    const ledger = recordingLedger();
    const second = await openExecutor(study, { ledger });
    const secondDone = second.execute(
      JobFeed.of(jobs.map((j) => ({ ...j, runId: `${j.runId}-again` }))),
      {},
    );
    await until('the second executor to follow', () => ledger.superseded_.length === 4);
    expect(await jobCount(q, study)).toBe(4);
    expect(ledger.superseded_.sort()).toEqual(jobs.map((j) => `${j.runId}-again`).sort());

    const a = await startWorker(log);
    const b = await startWorker(log);
    const [o1, o2] = await Promise.all([firstDone, secondDone]);
    expect(await jobCount(q, study)).toBe(4);

    for (const outcomes of [o1, o2]) {
      expect(outcomes.map((o) => o.key).sort()).toEqual(jobs.map((j) => j.run.key).sort());
      for (const o of outcomes) {
        const job = jobs.find((j) => j.run.key === o.key)!;
        // the reason and the workers' output say why, should a run not finish
        expect(o.status, `${o.reason}\nworker A:\n${a.output()}\nworker B:\n${b.output()}`).toBe('FINISHED');
        expect(o.runId).toBe(job.runId);
        expect(o.epochs.map((e) => e.test_accuracy)).toEqual([1, 2, 3].map((e) => fakeAccuracy(job.run.seed, e)));
      }
    }
    expect(epochs.filter((e) => e.epoch === 3).map((e) => e.key).sort()).toEqual(jobs.map((j) => j.run.key).sort());

    const lines = trainerLog(log);
    expect(lines.filter((l) => l.event === 'start')).toHaveLength(4);
    expect(lines.filter((l) => l.event === 'end' && l.status === 'FINISHED')).toHaveLength(4);
    expect(new Set(lines.map((l) => l.ppid))).toEqual(new Set([a.proc.pid, b.proc.pid]));
    a.proc.kill('SIGINT');
    b.proc.kill('SIGINT');
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
    await q.close();
  });

  it('does not retry a config failure, retries a crash, and re-enqueues a failed run', async () => {
    const study = 'failures';
    const log = join(tmp, `${study}.log`);
    const w = await startWorker(log);
    const notes: string[] = [];
    const ex = await openExecutor(study, { attempts: 2, backoffMs: 0, log: notes });
    const configFail = runJob(study, 1, { behaviour: 'config-fail' });
    const crash = runJob(study, 2, { behaviour: 'crash' });
    const outcomes = await ex.execute(JobFeed.of([configFail, crash]), {});
    const byKey = new Map(outcomes.map((o) => [o.key, o]));

    expect(byKey.get(configFail.run.key)).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/config problem/) });
    expect(byKey.get(crash.run.key)).toMatchObject({ status: 'FAILED', reason: expect.stringMatching(/^training process died on the queue after 2 attempt\(s\): training process died \(exit code 9\)/) });
    const starts = trainerLog(log).filter((l) => l.event === 'start');
    expect(starts.filter((l) => l.key === configFail.run.key)).toHaveLength(1);
    expect(starts.filter((l) => l.key === crash.run.key)).toHaveLength(2);
    expect(notes.some((n) => n.includes('attempt failed on the queue'))).toBe(true);

    // The cause is fixed; running the study again must train the failed run, not find the old job.
    const again = await openExecutor(study);
    const [fixed] = await again.execute(JobFeed.of([runJob(study, 2, { behaviour: 'ok' }, 'run-failures-2-b')]), {});
    expect(fixed).toMatchObject({ status: 'FINISHED', runId: 'run-failures-2-b' });
    w.proc.kill('SIGINT');
    expect(await w.exited).toBe(0);
  });

  it('hands the run of a SIGKILLed worker to another worker, which finishes it once', async () => {
    const study = 'killed';
    const log = join(tmp, `${study}.log`);
    const a = await startWorker(log);
    const ex = await openExecutor(study);
    // Held at the gate until A is dead, so the run is under way when its worker dies.
    const gate = join(tmp, `${study}.gate`);
    const job = runJob(study, 1, { epochs: 3, sleep_ms: 20, gate });
    const done = ex.execute(JobFeed.of([job]), {});
    const started = await until('worker A to start training', () => trainerLog(log).find((l) => l.event === 'start')).catch(withOutput(a));
    expect(started.ppid).toBe(a.proc.pid);
    const b = await startWorker(log);
    a.proc.kill('SIGKILL');
    await a.exited;
    writeFileSync(gate, '');

    const [outcome] = await done;
    expect(outcome).toMatchObject({ status: 'FINISHED', key: job.run.key });
    const lines = trainerLog(log);
    expect(lines.filter((l) => l.event === 'start').map((l) => l.ppid)).toEqual([a.proc.pid, b.proc.pid]);
    expect(lines.filter((l) => l.event === 'end')).toEqual([expect.objectContaining({ ppid: b.proc.pid, status: 'FINISHED' })]);
    // The orphaned training process left as soon as its worker died, writing nothing more.
    expect(() => process.kill(started.pid, 0)).toThrow();
    const q = openQueue();
    expect((await q.getJob(jobIdFor(job)))?.attemptsStarted).toBe(2);
    await q.close();
    b.proc.kill('SIGINT');
    expect(await b.exited).toBe(0);
  });

  it('Ctrl-C once finishes the run under way; twice hands it back to the queue', async () => {
    const study = 'ctrlc';
    const log = join(tmp, `${study}.log`);
    const ex = await openExecutor(study);
    // Both runs wait at a gate, so each Ctrl-C lands while its run is under way.
    const gate = join(tmp, `${study}.gate`);
    const gate2 = join(tmp, `${study}-2.gate`);
    const once = runJob(study, 1, { epochs: 3, sleep_ms: 20, gate });
    const twice = runJob(study, 2, { epochs: 3, sleep_ms: 20, gate: gate2 });

    // Ctrl-C reaches the whole foreground process group: the worker and its training process.
    const a = await startWorker(log, { detached: true });
    const done = ex.execute(JobFeed.of([once]), {});
    await until('training to start', () => trainerLog(log).some((l) => l.event === 'start')).catch(withOutput(a));
    process.kill(-a.proc.pid!, 'SIGINT');
    await until('the worker to take the Ctrl-C', () => a.output().includes('finishing the run(s) under way'));
    writeFileSync(gate, '');
    expect(await a.exited).toBe(0);
    const [finished] = await done;
    expect(finished).toMatchObject({ status: 'FINISHED' });

    const ex2 = await openExecutor(study);
    const b = await startWorker(log, { detached: true });
    const done2 = ex2.execute(JobFeed.of([twice]), {});
    await until('training of the second run', () => trainerLog(log).some((l) => l.event === 'start' && l.key === twice.run.key));
    process.kill(-b.proc.pid!, 'SIGINT');
    await until('the first Ctrl-C to be taken', () => b.output().includes('finishing the run(s) under way'));
    process.kill(-b.proc.pid!, 'SIGINT');
    expect(await b.exited).toBe(0);
    expect(b.output()).toContain('handed back to the queue');
    const q = openQueue();
    expect(await (await q.getJob(jobIdFor(twice)))?.getState()).toBe('waiting');
    await q.close();

    writeFileSync(gate2, '');
    const c = await startWorker(log);
    const [outcome] = await done2;
    expect(outcome).toMatchObject({ status: 'FINISHED' });
    const ends = trainerLog(log).filter((l) => l.key === twice.run.key && l.event === 'end');
    expect(ends.map((l) => [l.ppid, l.status])).toEqual([
      [b.proc.pid, 'KILLED'],
      [c.proc.pid, 'FINISHED'],
    ]);
    c.proc.kill('SIGINT');
    expect(await c.exited).toBe(0);
  });
});
