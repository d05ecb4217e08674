/**
 * The training process of a queue worker: one per job, forked by worker.ts, speaking the same IPC
 * messages as the local executor's child. It differs from launch/child.ts in whom it obeys:
 * - Ctrl-C in the terminal reaches the whole process group; only the worker decides what a
 *   Ctrl-C means (finish the run, or hand it back), so SIGINT is ignored here.
 * - SIGTERM (sent by the worker to hand a run back) aborts training; the run is recorded KILLED.
 * - If the worker itself dies, BullMQ hands the job to another worker once its lock expires. This
 *   process then exits at once: anything it wrote from here on would race with that retry.
 */
import { pathToFileURL } from 'node:url';
import type { ChildMessage, ParentMessage, RunJob } from '../launch/index.js';

let current: AbortController | undefined;
let stopped = false;

const send = (m: ChildMessage): void => {
  if (process.connected) process.send?.(m);
};

process.on('SIGINT', () => {});
process.on('SIGTERM', () => {
  stopped = true;
  current?.abort();
});
process.on('disconnect', () => {
  process.exit(current ? 70 : 0);
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
  if (stopped) current.abort();
  // The trainer is launch/execute-run.js unless the worker names another module (its tests do).
  const trainer = process.argv[2] ? pathToFileURL(process.argv[2]).href : '../launch/execute-run.js';
  const { executeRun } = (await import(trainer)) as typeof import('../launch/execute-run.js');
  const outcome = await executeRun(job, {
    signal: current.signal,
    onEpoch: (e) => send({ type: 'epoch', event: e }),
    log: (message) => send({ type: 'log', message }),
  });
  current = undefined;
  send({ type: 'done', outcome });
}

send({ type: 'ready', pid: process.pid });
