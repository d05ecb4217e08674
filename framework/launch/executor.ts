import type { JobFeed } from './job-feed.js';
import type { EpochEvent, RunJob, RunOutcome } from './job.js';

export interface ExecutorEvents {
  started?: (job: RunJob) => void;
  epoch?: (e: EpochEvent) => void;
  done?: (outcome: RunOutcome) => void;
  log?: (message: string) => void;
}

/**
 * Where runs execute (Hydra's launcher): the local pool of child processes, or a Redis queue
 * drained by `bnx worker`s. The orchestrator plans, claims and reports; executors only execute.
 */
export interface Executor {
  /** A feed may still be growing (runs claimed while the first train); it ends when closed. */
  execute(jobs: JobFeed<RunJob>, events: ExecutorEvents): Promise<RunOutcome[]>;
  /** Stop handing out work; runs under way finish as KILLED. */
  interrupt(): void;
  /** Release connections (Redis) so the process can exit. */
  close?(): Promise<void>;
}
