/**
 * Dataset identity across machines, end to end: a real redis-server, the compiled CLI, real
 * training. The study is planned on one CIFAR-10 archive (data dir A); a worker whose cache holds
 * another archive (data dir B) and one with no CIFAR-10 at all (offline, empty cache) refuse the
 * run, naming both sources and the fix, and leave it queued with its record SCHEDULED, never FAILED;
 * a worker on data dir A then trains it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Run } from '../track/index.js';
import { cifarFiles, writeCifarArchive } from '../../test-support/cifar-archive.js';
import { until as poll } from '../../test-support/until.js';
import { BNX, Procs, type Cli } from './fixtures/procs.js';
import { startRedis, type TestRedis } from './fixtures/redis.js';
import { QUEUE_NAME, QUEUE_PREFIX } from './settings.js';

const until = <T>(what: string, f: () => T | Promise<T>) => poll(what, f, 180_000);
const STUDY = 'queue-data';
const FAST = { BNX_QUEUE_LOCK_MS: '2000', BNX_QUEUE_STALLED_INTERVAL_MS: '1000', BNX_QUEUE_REFUSED_DELAY_MS: '300' };

let redis: TestRedis;
let dir: string;
const procs = new Procs(() => dir);
const md5 = (file: string) => createHash('md5').update(readFileSync(file)).digest('hex');

const bnx = (args: string[], env: Record<string, string>): Cli => procs.bnx(args, { env: { ...FAST, ...env } });
const worker = (dataDir: string): Promise<Cli> => procs.worker(redis.uri, { env: { ...FAST, BNX_DATA_DIR: dataDir } });

async function runs(store: string): Promise<Run[]> {
  const s = openStore(store);
  const exp = (await s.listExperiments()).find((e) => e.name === STUDY);
  return exp ? (await s.searchRuns(exp.experiment_id)).filter((r) => r.data.tags['bnx.run_key']) : [];
}

let dataA: string;
let dataB: string;
let sumA: string;
let sumB: string;

beforeAll(async () => {
  if (!existsSync(BNX)) throw new Error(`${BNX} is missing: run npm run build first (npm test does)`);
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'bnx-queue-data-'));
  // Two made-up archives in the official format: two sources of "cifar-10" with different bytes.
  const [a, b] = [join(dir, 'a.tar.gz'), join(dir, 'b.tar.gz')];
  await writeCifarArchive(a, cifarFiles({ perBatch: 40, test: 60, seed: 1 }));
  await writeCifarArchive(b, cifarFiles({ perBatch: 40, test: 60, seed: 2 }));
  [sumA, sumB] = [md5(a), md5(b)];
  [dataA, dataB] = [join(dir, 'data-a'), join(dir, 'data-b')];
  for (const [data, file] of [[dataA, a], [dataB, b]] as const) {
    const r = spawnSync(process.execPath, [BNX, 'data', 'import', 'cifar-10', file], { env: { ...process.env, BNX_DATA_DIR: data }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  }
});

afterAll(async () => {
  procs.killAll();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a queued run pins its dataset source', () => {
  it('workers with other data refuse it (both sources named, record SCHEDULED); a worker with the same data trains it', async () => {
    const store = join(dir, 'mlruns');
    writeFileSync(
      join(dir, 'study.yaml'),
      [
        `name: ${STUDY}`,
        'dataset: { name: cifar-10, subset: { train: 100, test: 60 } }',
        'model: { type: mlp, hidden: [8] }',
        'train: { epochs: 1, batch_size: 20 }',
        'seeds: [1]',
        'variants: { base: {} }',
        `tracking: { uri: ${JSON.stringify(store)} }`,
        'export: { onnx: false }',
        '',
      ].join('\n'),
    );
    const run = bnx(['run', 'study.yaml', '--queue', redis.uri], { BNX_DATA_DIR: dataA });
    await until('the enqueue', () => run.output().includes('enqueued') || run.proc.exitCode !== null);

    const other = await worker(dataB);
    const empty = join(dir, 'data-empty');
    mkdirSync(empty);
    const none = await worker(empty);
    await until('both refusals reported by bnx run', () => (run.output().match(/refuses it/g) ?? []).length >= 2 || run.proc.exitCode !== null);
    const out = run.output();
    // The pinned source, what the other worker holds, and how to fix it.
    expect(out).toContain(`the study was planned on cifar-10 from archive:${sumA}`);
    expect(out).toContain(`this worker has archive:${sumB}`);
    expect(out).toContain(`import the same archive (MD5 ${sumA}): bnx data import cifar-10 FILE`);
    expect(out).toMatch(/this worker has no usable copy \(cannot get dataset cifar-10/);
    expect(other.output()).toContain(`this worker has archive:${sumB}`);
    // Refused, not failed: nothing trained, the record is still waiting for a worker, the job too.
    expect(other.output()).not.toContain('training, attempt');
    expect((await runs(store)).map((r) => r.info.status)).toEqual(['SCHEDULED']);
    const q = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port }, prefix: QUEUE_PREFIX });
    try {
      const jobs = (await q.getJobs(['waiting', 'active', 'delayed', 'failed', 'completed'])).filter((j) => j?.id?.startsWith(`${STUDY}.`));
      expect(jobs).toHaveLength(1);
      expect(['waiting', 'delayed', 'active']).toContain(await jobs[0]!.getState());
      expect(jobs[0]!.attemptsMade).toBe(0);
    } finally {
      await q.close();
    }

    const same = await worker(dataA);
    expect(await run.exited, run.output()).toBe(0);
    expect(same.output()).toContain('training, attempt 1');
    const final = await runs(store);
    expect(final.map((r) => r.info.status)).toEqual(['FINISHED']);
    expect(final[0]!.data.tags['bnx.failure_reason']).toBeUndefined();
    for (const w of [other, none, same]) w.proc.kill('SIGINT');
    await Promise.all([other.exited, none.exited, same.exited]);
  });
});
