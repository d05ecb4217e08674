/**
 * Where runs wait in Redis and how hard the queue tries. One well-known queue for every study, so a
 * worker needs nothing but the Redis URI: each job carries its study, tracking URI and run.
 */
import { sha256 } from '../util/hash.js';
import { UserError } from '../util/errors.js';
import type { RunJob } from '../launch/index.js';

/** BullMQ key prefix: every key bnx writes is `bnx:runs:*`, apart from anything else in Redis. */
export const QUEUE_PREFIX = 'bnx';
/** BullMQ queue names may not contain ':' (its key separator). */
export const QUEUE_NAME = 'runs';
export const JOB_NAME = 'train';

/**
 * The BullMQ job id of a run: `<study>.<run key>.<store>`. The run key alone would merge the same run
 * planned by two studies (or tracked in two stores) into one job; the store part keeps them apart
 * while enqueueing the same study twice still lands on the same id. Letters in the id also keep
 * BullMQ from rejecting an all-digit hex key as an "integer id".
 */
export function jobIdFor(job: Pick<RunJob, 'study' | 'trackingUri' | 'run'>): string {
  return `${job.study}.${job.run.key}.${sha256(job.trackingUri).slice(0, 8)}`.replace(/:/g, '_');
}

export interface QueuePolicy {
  /** Tries of a run whose training process crashed or whose store write threw (not config failures). */
  attempts: number;
  /** First retry delay; doubles each retry. */
  backoffMs: number;
}

export interface WorkerTuning {
  /** How long a job's lock lives without renewal; a worker that dies is noticed after about this. */
  lockMs: number;
  /** How often workers look for jobs whose lock expired. */
  stalledIntervalMs: number;
  /** How many times a run may be handed on after its worker died before it is failed. */
  maxStalled: number;
  /** How long a run this worker refused (it holds other data) waits before any worker looks at it again. */
  refusedDelayMs: number;
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UserError(`${name}=${raw}: expected an integer >= ${min}`);
  return n;
}

export function queuePolicy(env: NodeJS.ProcessEnv = process.env, o: Partial<QueuePolicy> = {}): QueuePolicy {
  return {
    attempts: o.attempts ?? intFromEnv(env, 'BNX_QUEUE_ATTEMPTS', 3, 1),
    backoffMs: o.backoffMs ?? intFromEnv(env, 'BNX_QUEUE_BACKOFF_MS', 10_000, 0),
  };
}

export function workerTuning(env: NodeJS.ProcessEnv = process.env): WorkerTuning {
  const lockMs = intFromEnv(env, 'BNX_QUEUE_LOCK_MS', 30_000, 500);
  return {
    lockMs,
    stalledIntervalMs: intFromEnv(env, 'BNX_QUEUE_STALLED_INTERVAL_MS', lockMs, 200),
    maxStalled: intFromEnv(env, 'BNX_QUEUE_MAX_STALLED', 2, 0),
    refusedDelayMs: intFromEnv(env, 'BNX_QUEUE_REFUSED_DELAY_MS', 10_000, 0),
  };
}

/** Finished and failed jobs stay a week for inspection; enqueueing a run again replaces its old job. */
export const KEEP_FINISHED = { age: 7 * 24 * 3600, count: 10_000 };

export function jobOptions(id: string, p: QueuePolicy) {
  return {
    jobId: id,
    attempts: p.attempts,
    backoff: { type: 'exponential' as const, delay: p.backoffMs },
    removeOnComplete: KEEP_FINISHED,
    removeOnFail: KEEP_FINISHED,
  };
}
