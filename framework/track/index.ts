/** MLflow tracking: stores (file, REST), study bookkeeping (parent, claims, resume) and sync. */
export * from './types.js';
export { FileStore } from './file-store.js';
export { RestStore, type RestOptions } from './rest-store.js';
export { openStore, openStoreForReading, openStoreWithFallback, openSpooledStore, spoolDir, DEFAULT_STORE_DIR, DEFAULT_TRACKING_URI, type SpooledStore } from './open.js';
export { Drainer, finalWaitMs, type DrainerOptions } from './spool.js';
export {
  claimRun,
  claimRuns,
  runsByKey,
  heartbeat,
  keepAlive,
  adoptRun,
  ownerGone,
  STALE_HEARTBEAT_MS,
  type ClaimOptions,
  type BatchedClaimOptions,
  type ClaimBatch,
} from './claim.js';
export {
  openStudy,
  logRunRecord,
  logEpoch,
  finishRun,
  flattenParams,
  installInterruptHandler,
  contextTags,
  ownerId,
  BNX_TAG,
  type StudyRef,
  type Claim,
} from './study.js';
export {
  EPOCH_METRICS,
  RUN_METRIC,
  ARTIFACT,
  REPORT_FILES,
  OUTCOME_KINDS,
  identityTags,
  outcomeTags,
  readRunRecord,
  epochMetrics,
  statusOfKind,
  studyMetricName,
  probeMetrics,
  probeMetricNames,
  PROBE_PREFIX,
  type OutcomeKind,
  type EpochMetric,
  type RunIdentity,
  type RunRecordView,
} from './run-record.js';
export { syncStore, type SyncReport } from './sync.js';
export { formatPythonFloat, parsePythonFloat } from './python-float.js';
