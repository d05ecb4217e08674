/** Study reports: statistics across seeds, report.md, an offline index.html with charts and an ONNX demo, terminal progress. */
export {
  buildSummary,
  groupLabel,
  finalEpoch,
  type StudyInput,
  type RunRecord,
  type EpochRecord,
  type OnnxRecord,
  type RunStatus,
  type MatrixCell,
  type Environment,
  type DatasetInfo,
  type Summary,
  type VariantStats,
  type EpochStats,
  type Comparison,
  type MetricComparison,
  type OnnxParity,
  type RunCounts,
} from './summary.js';
export { verdict, verdictLines, claimLine, cellText } from './wording.js';
export { describe, welch, tQuantile, tTwoSidedP, epochsToReach, type Describe, type Welch, type Interval } from './stats.js';
export { renderMarkdown } from './markdown.js';
export { renderHtml, type DemoPage } from './html.js';
export { buildCharts, type Chart } from './charts.js';
export { writeReport, type DemoInput, type WriteReportOptions } from './write.js';
export { createProgress, formatDuration, type Progress, type ProgressOptions, type EpochMetrics } from './progress.js';
export { readOnnxInfo, preprocessPixels, type OnnxInfo, type Preprocessing } from './onnx-meta.js';
export { escapeHtml, escapeMd, jsonForScript, fileSafe } from './escape.js';
export { evaluateClaims, fmtEffect, ALPHA, type ClaimResult, type ClaimSide, type ClaimVerdict } from './claims.js';
export { buildHeatmaps } from './heatmaps.js';
export { probeGroups, probeMarkdown, probeCharts, PROBE_TITLES, type ProbeGroup, type ProbePoint, type ProbeSeries } from './probes.js';
export {
  welchTest,
  pairedTTest,
  mannWhitneyTest,
  wilcoxonTest,
  fisherTest,
  holm,
  seedsForPower,
  seedsFor80Power,
  tTestPower,
  type TestResult,
  type TestName,
} from './hypothesis-tests.js';
