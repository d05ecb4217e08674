/**
 * Entry point of a local training process. The parent sends jobs over IPC one at a time; this
 * process trains them with executeRun and reports epochs and outcomes back. SIGINT (Ctrl-C reaches
 * the whole process group) aborts the current run, which is then recorded as KILLED.
 */
import { executeRun } from './execute-run.js';
import { describeFsError } from '../util/fs-errors.js';
import { diedOutcome, type RunJob, type RunOutcome } from './job.js';
import type { ChildMessage, ParentMessage } from './local.js';

let current: AbortController | undefined;
let interrupted = false;

/**
 * To the parent, while it is there. After a kill -9 of the parent the channel is gone: the run is
 * still recorded KILLED in the store (see 'disconnect'), so a lost message is no error, and the
 * callback keeps Node from raising ERR_IPC_CHANNEL_CLOSED as an uncaught 'error' event.
 */
const send = (m: ChildMessage): void => {
  if (process.connected) process.send?.(m, undefined, undefined, () => {});
};

process.on('SIGINT', () => {
  interrupted = true;
  current?.abort();
});
process.on('SIGTERM', () => {
  interrupted = true;
  current?.abort();
});
process.on('disconnect', () => {
  // The parent is gone: finish recording the current run as KILLED, then leave.
  interrupted = true;
  current?.abort();
});

process.on('message', (msg: ParentMessage) => {
  if (msg.type === 'stop') {
    process.disconnect?.();
    return;
  }
  void runJob(msg.job);
});

async function runJob(job: RunJob): Promise<void> {
  current = new AbortController();
  if (interrupted) current.abort();
  let outcome: RunOutcome;
  try {
    outcome = await executeRun(job, {
      signal: current.signal,
      onEpoch: (e) => send({ type: 'epoch', event: e }),
      log: (message) => send({ type: 'log', message }),
    });
  } catch (err) {
    // Recording the run's end failed (a full disk, an unwritable store): the parent records it.
    const reason = `training process could not record the run: ${describeFsError(err) ?? (err instanceof Error ? err.message : String(err))}`;
    outcome = diedOutcome(job, reason);
  }
  current = undefined;
  send({ type: 'done', outcome });
}

send({ type: 'ready', pid: process.pid });
