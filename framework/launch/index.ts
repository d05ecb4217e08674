/**
 * Running planned runs: the job a run is handed, executors (a child process per run), the study's
 * orchestration (claim, execute, finish), collecting results for the report. The child's entry points
 * (child.ts, execute-run.ts, which load TensorFlow) are started by path, never imported from here; only
 * their types are.
 */
export { diedOutcome, type RunJob, type EpochEvent, type OnnxFigures, type RunOutcome } from './job.js';
export type { Executor, ExecutorEvents } from './executor.js';
export { JobFeed } from './job-feed.js';
export { LocalExecutor, type ParentMessage, type ChildMessage } from './local.js';
export { STOP_GRACE_MS, stopChild } from './stop-child.js';
export { trackingUriFor, gitCommit, claimAll, jobsFor, defaultJobs, executeAll, waitForOthers, type StudyContext, type Claimed } from './orchestrate.js';
export { collectStudy, logReport, type Collected } from './collect.js';
export { summaryMetrics, logSummaryMetrics } from './parent-metrics.js';
export { runParams } from './run-params.js';
export type { ExecuteOptions } from './execute-run.js';
export { serveRuns, type Trainer, type TrainingProcess, type ServeOptions } from './serve-runs.js';
