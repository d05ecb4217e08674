/**
 * Keeps the tracking store truthful while the queue retries runs. `bnx run` claims one MLflow run
 * per planned run before enqueueing it; when that attempt dies (worker killed, run handed back on
 * Ctrl-C) the next attempt closes the dead record and claims a fresh one, so every attempt has its
 * own record and a run is FINISHED at most once.
 */
import { hostname } from 'node:os';
import type { RunJob, RunOutcome } from '../launch/index.js';
import { outcomeTags, readRunRecord, type Run, type TrackingStore } from '../track/index.js';

export type Begin = { job: RunJob } | { outcome: RunOutcome };

export interface RunLedger {
  /**
   * Before an attempt trains: the job to train (its runId possibly replaced by a fresh claim), or
   * the outcome when there is nothing to train (the run already finished elsewhere). `attempt` is
   * BullMQ's attemptsStarted, 1 for the first start. Throws when the store is unreachable.
   */
  begin(job: RunJob, attempt: number): Promise<Begin>;
  /** The training process died: mark its record FAILED so the store never shows a dead run RUNNING. */
  crashed(job: RunJob, reason: string): Promise<void>;
  /** `job.runId` was claimed for a run the queue already holds under another record: close it. */
  superseded(job: RunJob, reason: string): Promise<void>;
}

/** A retryable "someone else is training this run right now". */
export class RunBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunBusyError';
  }
}

function finishedOutcome(job: RunJob, run: Run): RunOutcome {
  return {
    key: job.run.key,
    runId: run.info.run_id,
    kind: 'finished',
    status: 'FINISHED',
    reason: 'already finished in the tracking store; not trained again',
    backend: readRunRecord(run).backend,
    seconds: readRunRecord(run).seconds ?? 0,
    epochs: [],
    onnx: null,
  };
}

/** The ledger workers and `bnx run --queue` use: the study's own tracking store. */
export function storeLedger(): RunLedger {
  const stores = new Map<string, Promise<TrackingStore>>();
  const storeFor = (uri: string): Promise<TrackingStore> => {
    let s = stores.get(uri);
    if (!s) {
      s = import('../track/index.js').then((t) => t.openStore(uri));
      stores.set(uri, s);
    }
    return s;
  };

  /** Close a record that is still RUNNING; never touch one that finished. */
  const close = async (store: TrackingStore, runId: string, status: 'FAILED' | 'KILLED', reason: string): Promise<void> => {
    const run = await store.getRun(runId).catch(() => null);
    if (!run || (run.info.status !== 'RUNNING' && run.info.status !== 'SCHEDULED')) return;
    await store.logBatch(runId, { tags: outcomeTags(status === 'FAILED' ? 'died' : 'killed', reason) });
    await store.updateRun(runId, status, Date.now());
  };

  return {
    async begin(job, attempt) {
      const store = await storeFor(job.trackingUri);
      let record: Run;
      try {
        record = await store.getRun(job.runId);
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        throw new Error(
          `the tracking store ${job.trackingUri} has no run ${job.runId} as seen from worker host ${hostname()} (${why}); ` +
            (store.kind === 'file' ? 'that folder must be shared by every worker (or use an MLflow server)' : 'is this the same MLflow server the study was enqueued with?'),
        );
      }
      if (attempt <= 1 && (record.info.status === 'SCHEDULED' || record.info.status === 'RUNNING')) {
        // This worker's host:pid becomes the record's owner, so `bnx run` elsewhere sees it alive.
        const { adoptRun } = await import('../track/index.js');
        await adoptRun(store, job.runId);
        return { job };
      }

      // An earlier attempt started (and stopped) on this record, or someone closed it meanwhile.
      await close(store, job.runId, 'FAILED', `attempt ${Math.max(1, attempt - 1)} stopped before finishing (its worker died or handed the run back); the queue retried it`);
      const { claimRun } = await import('../track/index.js');
      const c = await claimRun(store, { experimentId: job.experimentId, parentRunId: job.parentRunId }, { runKey: job.run.key, runName: job.run.name });
      if (c.action === 'train') return { job: { ...job, runId: c.runId } };
      if (c.action === 'skip') return { outcome: finishedOutcome(job, c.run) };
      throw new RunBusyError(`${job.run.name} is being trained by another live process (MLflow run ${c.run.info.run_id}); the queue will try again later`);
    },
    async crashed(job, reason) {
      await close(await storeFor(job.trackingUri), job.runId, 'FAILED', reason);
    },
    async superseded(job, reason) {
      await close(await storeFor(job.trackingUri), job.runId, 'KILLED', reason);
    },
  };
}

/** For tests of the queue alone (no tracking store): every attempt trains the job as given. */
export const NO_LEDGER: RunLedger = {
  begin: async (job) => ({ job }),
  crashed: async () => {},
  superseded: async () => {},
};
