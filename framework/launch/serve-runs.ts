/**
 * What every training process does, whoever forked it (the local executor's launch/child.ts, a queue
 * worker's queue/child.ts): take jobs over IPC one at a time, train each with the trainer, report its
 * epochs, logs and outcome back. Each entry point keeps its own signal policy (whom a Ctrl-C belongs
 * to differs), installs it, then calls `ready()`: a signal from then on is handled, not fatal.
 * Imports no TensorFlow itself: the trainer is handed in.
 */
import type { ExecuteOptions } from './execute-run.js';
import type { RunJob, RunOutcome } from './job.js';
import type { ChildMessage, ParentMessage } from './local.js';

export type Trainer = (job: RunJob, opts: ExecuteOptions) => Promise<RunOutcome>;

export interface ServeOptions {
  /** Loads the trainer (once per job; a cached import after the first). */
  trainer: () => Promise<Trainer>;
  /**
   * The outcome of a run whose trainer threw (its end could not be recorded). Without it the error
   * is left unhandled and ends the process, so the parent sees the process die.
   */
  unrecorded?: (job: RunJob, err: unknown) => RunOutcome;
}

export interface TrainingProcess {
  /** Abort the run under way (it is recorded KILLED) and any run sent after. */
  stop(): void;
  /** True while a run is training. */
  readonly busy: boolean;
  /** Tell the parent this process takes jobs (after its signal handlers are installed). */
  ready(): void;
}

/**
 * To the parent, while it is there. After a kill -9 of the parent the channel is gone: a lost message
 * is no error, and the callback keeps Node from raising ERR_IPC_CHANNEL_CLOSED as an uncaught 'error'.
 */
const send = (m: ChildMessage): void => {
  if (process.connected) process.send?.(m, undefined, undefined, () => {});
};

export function serveRuns(o: ServeOptions): TrainingProcess {
  let current: AbortController | undefined;
  let stopped = false;

  async function runJob(job: RunJob): Promise<void> {
    current = new AbortController();
    if (stopped) current.abort();
    const opts: ExecuteOptions = {
      signal: current.signal,
      onEpoch: (e) => send({ type: 'epoch', event: e }),
      log: (message) => send({ type: 'log', message }),
    };
    let outcome: RunOutcome;
    if (o.unrecorded) {
      try {
        outcome = await (await o.trainer())(job, opts);
      } catch (err) {
        outcome = o.unrecorded(job, err);
      }
    } else {
      outcome = await (await o.trainer())(job, opts);
    }
    current = undefined;
    send({ type: 'done', outcome });
  }

  process.on('message', (msg: ParentMessage) => {
    if (msg.type === 'stop') {
      process.disconnect?.();
      return;
    }
    void runJob(msg.job);
  });
  return {
    stop() {
      stopped = true;
      current?.abort();
    },
    get busy() {
      return current !== undefined;
    },
    ready() {
      send({ type: 'ready', pid: process.pid });
    },
  };
}
