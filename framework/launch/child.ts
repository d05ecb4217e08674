/**
 * Entry point of a local training process. The parent sends jobs over IPC one at a time; this
 * process trains them with executeRun and reports epochs and outcomes back. SIGINT (Ctrl-C reaches
 * the whole process group) aborts the current run, which is then recorded as KILLED.
 */
import { executeRun } from './execute-run.js';
import type { RunJob } from './job.js';
import type { ChildMessage, ParentMessage } from './local.js';

let current: AbortController | undefined;
let interrupted = false;

const send = (m: ChildMessage): void => {
  process.send?.(m);
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
  const outcome = await executeRun(job, {
    signal: current.signal,
    onEpoch: (e) => send({ type: 'epoch', event: e }),
    log: (message) => send({ type: 'log', message }),
  });
  current = undefined;
  send({ type: 'done', outcome });
}

send({ type: 'ready', pid: process.pid });
