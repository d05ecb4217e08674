/**
 * The queue executor behind `bnx run --queue`: puts every run to train on the shared BullMQ queue
 * and follows it until a worker has finished it. Progress arrives through BullMQ's event stream;
 * a slow poll of the jobs themselves backs it up, so a trimmed stream or a reconnect cannot make
 * the study wait forever for an event it missed.
 */
import { Queue, QueueEvents, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { type Executor, type ExecutorEvents, type JobFeed, diedOutcome, type EpochEvent, type RunJob, type RunOutcome } from '../launch/index.js';
import { pingRedis } from './connect.js';
import type { DataRefusal } from './data-check.js';
import { storeLedger, type RunLedger } from './ledger.js';
import { assertTrackingReachable } from './reachability.js';
import { connectionOptions, parseRedisUri, type RedisTarget } from './redis-uri.js';
import { JOB_NAME, QUEUE_NAME, QUEUE_PREFIX, jobIdFor, jobOptions, queuePolicy, type QueuePolicy } from './settings.js';

export interface QueueExecutorOptions {
  study: string;
  trackingUri: string;
  log: (message: string) => void;
  /** Overrides BNX_QUEUE_ATTEMPTS. */
  attempts?: number;
  /** Overrides BNX_QUEUE_BACKOFF_MS. */
  backoffMs?: number;
  env?: NodeJS.ProcessEnv;
  /** How often job states are polled besides the event stream (default 5000 ms). */
  pollMs?: number;
  /** Closes superfluous claims; the study's tracking store unless a test says otherwise. */
  ledger?: RunLedger;
}

type RunJobData = RunJob;
type QueueJob = Job<RunJobData, RunOutcome>;

/** BullMQ's own key layout (`<prefix>:<queue>:events`), read once to start following from "now". */
const EVENTS_KEY = `${QUEUE_PREFIX}:${QUEUE_NAME}:events`;

/** How the messages of outcomes of kind 'died' start (the kind, not this text, is what callers check). */
export const DIED_PREFIX = 'training process died';

function asOutcome(value: unknown, job: RunJob): RunOutcome {
  const v = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  if (v && typeof v === 'object' && 'status' in v && 'key' in v) return v as RunOutcome;
  return diedOutcome(job, `${DIED_PREFIX} on the queue: the worker returned no outcome`);
}

export class QueueExecutor implements Executor {
  private interrupted = false;
  private stopWaiting: (() => void) | undefined;
  private closed = false;

  private constructor(
    private readonly target: RedisTarget,
    private readonly queue: Queue<RunJobData, RunOutcome>,
    private readonly policy: QueuePolicy,
    private readonly o: QueueExecutorOptions,
    private readonly ledger: RunLedger,
  ) {}

  /**
   * Refuses a remote queue combined with a tracking store only this machine can reach, and an
   * unreachable Redis, before anything is enqueued.
   */
  static async open(uri: string, o: QueueExecutorOptions): Promise<QueueExecutor> {
    const env = o.env ?? process.env;
    const target = parseRedisUri(uri, env);
    assertTrackingReachable(target, o.trackingUri, env);
    const policy = queuePolicy(env, { attempts: o.attempts, backoffMs: o.backoffMs });
    await pingRedis(target);
    const queue = new Queue<RunJobData, RunOutcome>(QUEUE_NAME, { connection: connectionOptions(target, { blocking: false }), prefix: QUEUE_PREFIX });
    queue.on('error', () => {});
    return new QueueExecutor(target, queue, policy, o, o.ledger ?? storeLedger());
  }

  /** Stops following the queue. The runs stay queued: workers keep training and recording them. */
  interrupt(): void {
    if (this.interrupted) return;
    this.interrupted = true;
    this.stopWaiting?.();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.close().catch(() => {});
  }

  async execute(feed: JobFeed<RunJob>, events: ExecutorEvents): Promise<RunOutcome[]> {
    // Enqueued together once claimed: workers elsewhere pick them up, so there is no first run to hurry.
    const jobs = await feed.all();
    const log = this.o.log;
    const outcomes: RunOutcome[] = [];
    if (!jobs.length) {
      await this.close();
      return outcomes;
    }
    const pending = new Map<string, RunJob>();
    const started = new Set<string>();
    let queueEvents: QueueEvents | undefined;
    let timer: NodeJS.Timeout | undefined;
    let finishedWaiting!: () => void;
    const allDone = new Promise<void>((resolve) => (finishedWaiting = resolve));
    this.stopWaiting = finishedWaiting;

    const start = (id: string): void => {
      const job = pending.get(id);
      if (!job || started.has(id)) return;
      started.add(id);
      events.started?.(job);
    };
    const finish = (id: string, outcome: RunOutcome): void => {
      if (!pending.delete(id)) return;
      start(id);
      outcomes.push(outcome);
      events.done?.(outcome);
      if (!pending.size) finishedWaiting();
    };
    const nameOf = (id: string): string => pending.get(id)?.run.name ?? id;
    // A worker with other data refuses each run of the study; say so once per worker and data.
    const refusalsSaid = new Set<string>();
    const refused = (r: DataRefusal): void => {
      const said = `${r.worker}\u0000${r.here}`;
      if (refusalsSaid.has(said)) return;
      refusalsSaid.add(said);
      log(`queue: ${r.message}`);
    };

    /** The job's state from Redis itself: the record of truth the event stream only hints at. */
    const check = async (id: string): Promise<void> => {
      const job = pending.get(id);
      if (!job) return;
      const qj = (await this.queue.getJob(id)) as QueueJob | undefined;
      if (!qj) {
        finish(id, diedOutcome(job, `${DIED_PREFIX} on the queue: its job ${id} was removed from Redis before it finished`));
        return;
      }
      const state = await qj.getState();
      if (state === 'completed') finish(id, asOutcome(qj.returnvalue, qj.data ?? job));
      else if (state === 'failed') {
        const data = qj.data ?? job;
        finish(id, diedOutcome(data, `${DIED_PREFIX} on the queue after ${qj.attemptsMade} attempt(s): ${qj.failedReason ?? 'unknown reason'}`));
      } else if (state === 'active') start(id);
    };
    const checkSafely = (id: string): void => {
      check(id).catch((err: Error) => log(`queue: could not read job ${id}: ${err.message}`));
    };

    try {
      // Follow events from this moment on, before adding, so a fast worker cannot finish a run
      // between the add and the subscription.
      const lastEventId = await this.lastEventId();
      queueEvents = new QueueEvents(QUEUE_NAME, { connection: connectionOptions(this.target, { blocking: true }), prefix: QUEUE_PREFIX, lastEventId });
      queueEvents.on('error', () => {});
      queueEvents.on('active', ({ jobId }) => start(jobId));
      queueEvents.on('progress', ({ jobId, data }) => {
        if (!pending.has(jobId)) return;
        if (data && typeof data === 'object' && 'refused' in data) return refused((data as { refused: DataRefusal }).refused);
        start(jobId);
        if (data && typeof data === 'object' && 'epoch' in data) events.epoch?.(data as unknown as EpochEvent);
      });
      queueEvents.on('completed', ({ jobId, returnvalue }) => {
        const job = pending.get(jobId);
        if (job) finish(jobId, asOutcome(returnvalue, job));
      });
      queueEvents.on('failed', ({ jobId, failedReason }) => {
        if (!pending.has(jobId)) return;
        // A failed attempt with attempts left is retried by BullMQ; check() tells the two apart.
        log(`${nameOf(jobId)}: attempt failed on the queue: ${failedReason}`);
        checkSafely(jobId);
      });
      queueEvents.on('stalled', ({ jobId }) => {
        if (pending.has(jobId)) log(`${nameOf(jobId)}: its worker stopped responding; the run goes back to the queue for another worker`);
      });
      await queueEvents.waitUntilReady();

      let added = 0;
      let followed = 0;
      for (const job of jobs) {
        const id = jobIdFor(job);
        // Pending only once added: replacing a finished job removes it first, and that removal
        // must not read as "our job vanished". A run finished before this line is found by poll().
        if (await this.enqueue(id, job)) added++;
        else followed++;
        pending.set(id, job);
      }
      log(
        `queue ${this.target.display}: ${added} run(s) enqueued` +
          (followed ? `, ${followed} already queued or under way (followed, not added again)` : '') +
          `; attempts ${this.policy.attempts}, start \`bnx worker --queue ${this.target.display}\` on any machine to train them`,
      );

      let workersSeen = -1;
      const poll = async (): Promise<void> => {
        for (const id of [...pending.keys()]) await check(id);
        // CLIENT LIST may be forbidden on a managed Redis; the count is only a hint.
        const workers = await this.queue.getWorkersCount().catch(() => workersSeen);
        if (workers !== workersSeen && pending.size) {
          log(workers ? `queue: ${workers} worker(s) connected` : `queue: no worker connected yet; start one with: bnx worker --queue ${this.target.display}`);
          workersSeen = workers;
        }
      };
      const pollMs = this.o.pollMs ?? 5000;
      let lastError = '';
      const tick = (): void => {
        timer = setTimeout(() => {
          poll()
            .then(() => (lastError = ''))
            .catch((err: Error) => {
              // Redis going away fails every poll the same way until it is back: say it once.
              if (err.message !== lastError) log(`queue: ${err.message} (still waiting)`);
              lastError = err.message;
            })
            .finally(() => {
              if (pending.size && !this.interrupted) tick();
            });
        }, pollMs);
      };
      await poll();
      if (pending.size && !this.interrupted) tick();
      await allDone;
      if (this.interrupted && pending.size) {
        log(
          `stopped following the queue: ${pending.size} run(s) stay queued and workers keep training them into ${this.o.trackingUri}; ` +
            'run the same command again to follow them and write the report (nothing is enqueued twice)',
        );
      }
      return outcomes;
    } finally {
      if (timer) clearTimeout(timer);
      await queueEvents?.close().catch(() => {});
      await this.close();
    }
  }

  /**
   * Adds the run under its stable job id. Returns false when a live job (waiting, delayed, active)
   * already holds that id: that job is followed instead, and the record this invocation claimed
   * for it is closed as superseded. A finished job (completed or failed) is replaced, so a study
   * run again retrains what the store says is not finished.
   */
  private async enqueue(id: string, job: RunJob): Promise<boolean> {
    const existing = (await this.queue.getJob(id)) as QueueJob | undefined;
    if (existing) {
      const state = await existing.getState();
      if (state === 'completed' || state === 'failed') await existing.remove();
      else if (state !== 'unknown') return this.follow(id, job, existing);
    }
    await this.queue.add(JOB_NAME, job, jobOptions(id, this.policy));
    // Two enqueuers racing on the same id: BullMQ kept the first; make sure ours is that one.
    const stored = (await this.queue.getJob(id)) as QueueJob | undefined;
    if (stored && stored.data.runId !== job.runId) return this.follow(id, job, stored);
    return true;
  }

  private async follow(id: string, job: RunJob, existing: QueueJob): Promise<false> {
    if (existing.data.runId !== job.runId) {
      await this.ledger.superseded(job, `superseded: this run is already on the queue as job ${id} (MLflow run ${existing.data.runId})`);
    }
    return false;
  }

  /** The newest entry of the queue's event stream, or 0-0 when it has none yet. */
  private async lastEventId(): Promise<string> {
    const client = new Redis({ ...connectionOptions(this.target, { blocking: false }), lazyConnect: true, maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    try {
      const last = await client.xrevrange(EVENTS_KEY, '+', '-', 'COUNT', 1);
      return last[0]?.[0] ?? '0-0';
    } finally {
      client.disconnect();
    }
  }
}
