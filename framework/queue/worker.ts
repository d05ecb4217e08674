/**
 * A queue worker: a BullMQ Worker on the shared queue whose processor forks one training process
 * per run (child.ts). Training is CPU-bound; in a separate process it can never starve the event
 * loop that renews the job's lock, so a long epoch is not mistaken for a dead worker. BullMQ's own
 * sandbox would fork too, but handing a run back on Ctrl-C and recording a crashed run need this
 * process to see the outcome before BullMQ does.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { type EpochEvent, type RunJob, type RunOutcome, type ChildMessage, type ParentMessage, stopChild } from '../launch/index.js';
import { PACKAGE_ROOT } from '../util/paths.js';
import { pingRedis } from './connect.js';
import { dataRefusal } from './data-check.js';
import { RunBusyError, storeLedger, type RunLedger } from './ledger.js';
import { connectionOptions, parseRedisUri } from './redis-uri.js';
import { QUEUE_NAME, QUEUE_PREFIX, workerTuning, type WorkerTuning } from './settings.js';

export interface StartWorkerOptions {
  /** redis://[user:pass@]host:port[/db]; credentials may also come from REDIS_USERNAME/REDIS_PASSWORD. */
  queue: string;
  /** Runs trained at once, each in its own process (default 1). */
  concurrency?: number;
  log?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Lock and stall settings; BNX_QUEUE_LOCK_MS, BNX_QUEUE_STALLED_INTERVAL_MS, BNX_QUEUE_MAX_STALLED otherwise. */
  tuning?: Partial<WorkerTuning>;
  /** Module whose executeRun trains a run, for tests of the queue alone (default launch/execute-run.js). */
  trainer?: string;
  ledger?: RunLedger;
}

export interface RunningWorker {
  /** Take no new runs; resolve once the runs under way have finished and been recorded. */
  close(): Promise<void>;
  /** Abort the runs under way (recorded KILLED) and hand their jobs back to the queue, then close. */
  stopNow(): Promise<void>;
  /** Resolves when the worker has closed, however that came about. */
  readonly closed: Promise<void>;
  readonly display: string;
}

type QueueJob = Job<RunJob, RunOutcome>;

/** The compiled child.js: beside this module in dist/, else (running from sources) under dist/. */
function childEntry(): string {
  const here = join(fileURLToPath(new URL('.', import.meta.url)), 'child.js');
  if (existsSync(here)) return here;
  const built = join(PACKAGE_ROOT, 'dist', 'framework', 'queue', 'child.js');
  if (existsSync(built)) return built;
  throw new Error(`bnx worker: cannot find the training process entry (${here}); build with npm run build`);
}

type ChildResult = { kind: 'done'; outcome: RunOutcome } | { kind: 'died'; reason: string };

/** One run in its own process; SIGTERM on `signal` makes it stop and record the run KILLED. */
function trainInChild(
  entry: string,
  job: RunJob,
  o: { trainer?: string; signal?: AbortSignal; onEpoch: (e: EpochEvent) => void; onLog: (m: string) => void },
): Promise<ChildResult> {
  return new Promise((resolve) => {
    const child = fork(entry, o.trainer ? [o.trainer] : [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    let result: ChildResult | undefined;
    let settled = false;
    const settle = (r: ChildResult): void => {
      if (settled) return;
      settled = true;
      o.signal?.removeEventListener('abort', onAbort);
      resolve(r);
    };
    const onAbort = (): void => {
      void stopChild(child, 'SIGTERM');
    };
    child.on('message', (m: ChildMessage) => {
      if (m.type === 'epoch') o.onEpoch(m.event);
      else if (m.type === 'log') o.onLog(m.message);
      else if (m.type === 'done') {
        result = { kind: 'done', outcome: m.outcome };
        if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage);
      }
    });
    child.on('error', (err) => {
      // Could not fork at all (no 'exit' follows), or a failed send/kill on a live child.
      if (child.pid === undefined) settle({ kind: 'died', reason: `training process died before starting: ${err.message}` });
    });
    child.on('exit', (code, signal) => {
      settle(result ?? { kind: 'died', reason: `training process died (${signal ?? `exit code ${code}`}) on ${hostname()}` });
    });
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
    child.send({ type: 'run', job } satisfies ParentMessage);
  });
}

export async function startWorker(o: StartWorkerOptions): Promise<RunningWorker> {
  const env = o.env ?? process.env;
  const log = o.log ?? (() => {});
  const target = parseRedisUri(o.queue, env);
  const tuning = { ...workerTuning(env), ...o.tuning };
  const ledger = o.ledger ?? storeLedger();
  const entry = childEntry();
  await pingRedis(target);

  /** Refusals already logged, by job and what this worker holds: a refused run comes back every refusedDelayMs. */
  const refusalsSaid = new Set<string>();

  const processor = async (job: QueueJob, token?: string, signal?: AbortSignal): Promise<RunOutcome> => {
    const refusal = token ? await dataRefusal(job.data, log) : undefined;
    if (refusal && token) {
      const said = `${job.id}\u0000${refusal.here}`;
      if (!refusalsSaid.has(said)) log(refusal.message);
      refusalsSaid.add(said);
      // Nothing claimed, nothing recorded: the run's MLflow record stays SCHEDULED. The count keeps
      // these starts from reading as attempts that died (the ledger closes those FAILED).
      await job.updateProgress({ refused: refusal });
      await job.updateData({ ...job.data, refused: (job.data.refused ?? 0) + 1 });
      await job.moveToDelayed(Date.now() + tuning.refusedDelayMs, token);
      throw new DelayedError();
    }
    const attempt = job.attemptsStarted - (job.data.refused ?? 0);
    const prep = await ledger.begin(job.data, attempt).catch((err: Error) => {
      // Waiting on another live process is worth retrying; anything else is a store problem that
      // a retry (maybe on another worker) may also fix, so both go through BullMQ's attempts.
      throw err instanceof RunBusyError ? err : new Error(err.message);
    });
    if ('outcome' in prep) {
      log(`${job.data.run.name} (${job.data.study}): ${prep.outcome.reason ?? prep.outcome.status}`);
      return prep.outcome;
    }
    const run = prep.job;
    if (run.runId !== job.data.runId) await job.updateData(run);
    log(`${run.run.name} (${run.study}): training, attempt ${attempt} -> ${run.trackingUri}`);
    const result = await trainInChild(entry, run, {
      trainer: o.trainer,
      signal,
      onEpoch: (e) => {
        void job.updateProgress(e as unknown as Record<string, unknown>).catch(() => {});
      },
      onLog: (m) => {
        log(m);
        void job.log(m).catch(() => {});
      },
    });
    if (result.kind === 'died') {
      await ledger.crashed(run, result.reason).catch((err: Error) => log(`${run.run.name}: could not record the crash: ${err.message}`));
      throw new Error(result.reason);
    }
    const outcome = result.outcome;
    if (outcome.status === 'KILLED') {
      // Stopped on purpose (Ctrl-C twice, SIGTERM): not a failure of the run. Hand the job back
      // without spending an attempt; the next worker claims a fresh record for it.
      if (token) {
        await job.moveToWait(token);
        log(`${run.run.name}: stopped; handed back to the queue`);
        throw new WaitingError();
      }
    }
    // FINISHED, or FAILED for a reason of the run itself (config, data, ONNX parity): a result,
    // not an error, so BullMQ does not retry what would fail the same way again.
    return outcome;
  };

  const worker = new Worker<RunJob, RunOutcome>(QUEUE_NAME, processor, {
    connection: connectionOptions(target, { blocking: true }),
    prefix: QUEUE_PREFIX,
    concurrency: Math.max(1, o.concurrency ?? 1),
    lockDuration: tuning.lockMs,
    stalledInterval: tuning.stalledIntervalMs,
    maxStalledCount: tuning.maxStalled,
    name: `${hostname()}:${process.pid}`,
    autorun: false,
  });

  let lastError = '';
  worker.on('error', (err) => {
    // Redis going away repeats the same error every retry: say it once.
    const msg = err.message.split(target.password ?? '\u0000').join('***');
    if (msg !== lastError) log(`worker: ${msg}`);
    lastError = msg;
  });
  worker.on('completed', (job, outcome) => {
    lastError = '';
    const last = outcome.epochs[outcome.epochs.length - 1];
    const acc = last?.test_accuracy !== undefined ? `, test accuracy ${(last.test_accuracy * 100).toFixed(2)}%` : '';
    log(`${job.data.run.name} (${job.data.study}): ${outcome.status} in ${outcome.seconds.toFixed(1)} s${acc}${outcome.reason ? ` — ${outcome.reason}` : ''}`);
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    log(`${job.data.run.name} (${job.data.study}): attempt failed: ${err.message}${final ? ' (no attempts left)' : ' (will be retried)'}`);
  });

  let closing: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const close = (): Promise<void> => {
    closing ??= worker.close().then(resolveClosed, (err: Error) => {
      log(`worker: ${err.message}`);
      resolveClosed();
    });
    return closing;
  };

  void worker.run().catch((err: Error) => {
    log(`worker: ${err.message}`);
    void close();
  });
  await worker.waitUntilReady();
  log(`bnx worker on ${hostname()}: pulling runs from ${target.display} (queue ${QUEUE_PREFIX}:${QUEUE_NAME}), concurrency ${Math.max(1, o.concurrency ?? 1)}`);

  return {
    close,
    async stopNow() {
      worker.cancelAllJobs('stopped by the worker');
      await close();
    },
    closed,
    display: target.display,
  };
}
