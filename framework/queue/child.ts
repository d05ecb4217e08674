/**
 * The training process of a queue worker: one per job, forked by worker.ts, running the same job loop
 * as the local executor's child (launch/serve-runs.ts). It differs from launch/child.ts in whom it obeys:
 * - Ctrl-C in the terminal reaches the whole process group; only the worker decides what a
 *   Ctrl-C means (finish the run, or hand it back), so SIGINT is ignored here.
 * - SIGTERM (sent by the worker to hand a run back) aborts training; the run is recorded KILLED.
 * - If the worker itself dies, BullMQ hands the job to another worker once its lock expires. This
 *   process then exits at once: anything it wrote from here on would race with that retry.
 * - A run whose end could not be recorded ends this process: the worker records the crash and
 *   BullMQ retries the job.
 */
import { pathToFileURL } from 'node:url';
import { serveRuns, type Trainer } from '../launch/index.js';

// The trainer is launch/execute-run.js unless the worker names another module (its tests do).
const trainer = process.argv[2] ? pathToFileURL(process.argv[2]).href : '../launch/execute-run.js';
const runs = serveRuns({ trainer: async () => ((await import(trainer)) as { executeRun: Trainer }).executeRun });

process.on('SIGINT', () => {});
process.on('SIGTERM', () => runs.stop());
process.on('disconnect', () => {
  process.exit(runs.busy ? 70 : 0);
});

runs.ready();
