/** The run queue: `bnx run --queue` (QueueExecutor) and `bnx worker` (startWorker) on BullMQ/Redis. */
export { QueueExecutor, type QueueExecutorOptions } from './executor.js';
export { startWorker, type StartWorkerOptions, type RunningWorker } from './worker.js';
export { parseRedisUri, redactRedisUri, type RedisTarget } from './redis-uri.js';
export { assertTrackingReachable } from './reachability.js';
export { QUEUE_NAME, QUEUE_PREFIX, jobIdFor, queuePolicy, workerTuning } from './settings.js';
export { storeLedger, NO_LEDGER, type RunLedger } from './ledger.js';
