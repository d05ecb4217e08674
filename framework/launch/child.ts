/**
 * Entry point of a local training process (serve-runs.ts does the job loop). SIGINT (Ctrl-C reaches
 * the whole process group) and SIGTERM abort the current run, which is then recorded as KILLED.
 */
import { executeRun } from './execute-run.js';
import { describeFsError } from '../util/fs-errors.js';
import { diedOutcome } from './job.js';
import { serveRuns } from './serve-runs.js';

const runs = serveRuns({
  trainer: async () => executeRun,
  // Recording the run's end failed (a full disk, an unwritable store): the parent records it.
  unrecorded: (job, err) =>
    diedOutcome(job, `training process could not record the run: ${describeFsError(err) ?? (err instanceof Error ? err.message : String(err))}`),
});

process.on('SIGINT', () => runs.stop());
process.on('SIGTERM', () => runs.stop());
// The parent is gone: finish recording the current run as KILLED, then leave.
process.on('disconnect', () => runs.stop());

runs.ready();
