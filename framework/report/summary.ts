/**
 * The report's input (what a study's runs left in the tracking store) and its output, summary.json:
 * the statistics every renderer (Markdown, HTML) reads. buildSummary is pure. The contract is
 * documented in framework/report/README.md; accuracies are fractions in [0, 1].
 */
import type { MatrixCell } from '../config/index.js';
import { UserError } from '../util/errors.js';
import { canonicalJson } from '../util/hash.js';
import type { Hypothesis } from '../config/index.js';
import { evaluateClaims, type ClaimResult } from './claims.js';
import { ACCURACY_BOUNDS, describe, epochsToReach, NONNEGATIVE, welch, type Describe, type Welch } from './stats.js';
import { cellText, verdict } from './wording.js';
import { probeGroups, type ProbeGroup, type ProbeSeries } from './probes.js';

export type { MatrixCell };

export interface EpochRecord {
  epoch: number;
  train_loss: number;
  train_accuracy: number;
  test_loss: number;
  test_accuracy: number;
  seconds: number;
  lr?: number;
}

export type RunStatus = 'FINISHED' | 'FAILED' | 'KILLED' | 'RUNNING' | 'PLANNED';

export interface OnnxRecord {
  path: string;
  test_accuracy: number;
  max_abs_diff: number;
  prediction_agreement?: number;
}

export interface RunRecord {
  /** Training-dynamics probes by name (`fc1/grad_norm`), [step, value] in step order; absent without probes. */
  probes?: ProbeSeries;
  key: string;
  variant: string;
  matrix: MatrixCell;
  seed: number;
  status: RunStatus;
  reason?: string;
  backend: string | null;
  seconds: number | null;
  mlflow_run_id: string | null;
  epochs: EpochRecord[];
  onnx: OnnxRecord | null;
}

export interface Environment {
  backend: string;
  versions: Record<string, string>;
  cpu: string;
  cores: number;
  node: string;
  platform: string;
}

export interface DatasetInfo {
  name: string;
  source: string;
  digest: string;
  approximate_split: boolean;
  class_names: string[];
}

export interface StudyInput {
  experiment: string;
  description?: string;
  config_sha256: string;
  /** Variant the others are compared with; default the first of variant_order. */
  reference?: string;
  variant_order: string[];
  runs: RunRecord[];
  environment: Environment;
  dataset: DatasetInfo;
  tracking_uri: string;
  /** The study's claims (`hypotheses:`), tested into summary.claims. */
  hypotheses?: Record<string, Hypothesis>;
}

export interface EpochStats {
  epoch: number;
  test_accuracy: Describe;
  test_loss: Describe;
  train_loss: Describe;
  train_accuracy: Describe;
  seconds: Describe;
}

export interface OnnxParity {
  /** Runs with an ONNX export. */
  n: number;
  /** Largest max |ONNX - TF.js| output difference over the runs. */
  max_abs_diff: number;
  /** Largest |ONNX test accuracy - TF.js final test accuracy| over the runs. */
  max_accuracy_gap: number;
  /** Smallest share of test predictions on which ONNX and TF.js agree (when recorded). */
  min_prediction_agreement: number | null;
  test_accuracy: Describe;
}

export interface RunCounts {
  total: number;
  finished: number;
  failed: number;
  killed: number;
  running: number;
  planned: number;
}

/** Statistics of one group: a variant in one matrix cell, across seeds. */
export interface VariantStats {
  /** Unique label: the variant, plus the matrix cell in brackets when the study has a matrix. */
  group: string;
  variant: string;
  matrix: MatrixCell;
  is_reference: boolean;
  /** Seeds of the finished runs that the figures use. */
  seeds: number[];
  runs: RunCounts;
  final_test_accuracy: Describe;
  final_test_loss: Describe;
  final_train_loss: Describe;
  /** Wall time of one run, seconds. */
  seconds_per_run: Describe;
  epochs: EpochStats[];
  onnx: OnnxParity | null;
}

export interface MetricComparison extends Welch {
  mean: number | null;
  reference_mean: number | null;
}

/** A group against the reference variant in the same matrix cell. */
export interface Comparison {
  group: string;
  variant: string;
  matrix: MatrixCell;
  reference: string;
  reference_group: string;
  n: number;
  n_reference: number;
  /** Difference (group - reference) of final test accuracy, Welch CI and t-test. */
  test_accuracy: MetricComparison;
  test_loss: MetricComparison;
  /** First epoch at which the group's mean test accuracy reaches the reference's final mean; null if never. */
  epochs_to_reference_accuracy: number | null;
  /** Epochs the reference trained (its curve's length). */
  reference_epochs: number | null;
  seconds_per_run: { mean: number | null; reference_mean: number | null; ratio: number | null };
  /** One sentence, plain text. */
  verdict: string;
}

export interface Summary {
  schema_version: 1;
  experiment: string;
  description?: string;
  config_sha256: string;
  generated_at: string;
  reference: string;
  variant_order: string[];
  tracking_uri: string;
  runs: RunRecord[];
  /** The study's claims with their verdicts, in the study's order (empty without hypotheses). */
  claims: ClaimResult[];
  variants: VariantStats[];
  /** Probe series per group, mean across seeds (framework/report/probes.ts); only when runs carry probes. */
  probes?: ProbeGroup[];
  comparisons: Comparison[];
  environment: Environment;
  dataset: DatasetInfo;
}

const cellId = (variant: string, matrix: MatrixCell) => `${variant}\u0000${canonicalJson(matrix)}`;

/** `batchnorm` or, in a matrix study, `batchnorm [train.optimizer.lr=0.01]`. */
export function groupLabel(variant: string, matrix: MatrixCell): string {
  return Object.keys(matrix).length ? `${variant} [${cellText(matrix)}]` : variant;
}

/** A run's last epoch (highest epoch number): its final figures. */
export const finalEpoch = (r: RunRecord): EpochRecord | undefined =>
  r.epochs.reduce<EpochRecord | undefined>((best, e) => (!best || e.epoch > best.epoch ? e : best), undefined);

const usable = (r: RunRecord) => r.status === 'FINISHED' && r.epochs.length > 0;

function counts(runs: RunRecord[]): RunCounts {
  const c = { total: runs.length, finished: 0, failed: 0, killed: 0, running: 0, planned: 0 };
  for (const r of runs) {
    const k = String(r.status).toLowerCase() as Exclude<keyof RunCounts, 'total'>;
    if (k in c && k !== ('total' as string)) c[k]++;
  }
  return c;
}

function epochStats(runs: RunRecord[]): EpochStats[] {
  const byEpoch = new Map<number, EpochRecord[]>();
  for (const r of runs) for (const e of r.epochs) byEpoch.set(e.epoch, [...(byEpoch.get(e.epoch) ?? []), e]);
  return [...byEpoch.keys()]
    .sort((a, b) => a - b)
    .map((epoch) => {
      const es = byEpoch.get(epoch)!;
      const of = (k: 'test_accuracy' | 'test_loss' | 'train_loss' | 'train_accuracy' | 'seconds') =>
        describe(es.map((e) => e[k]), k.endsWith('accuracy') ? ACCURACY_BOUNDS : NONNEGATIVE);
      return {
        epoch,
        test_accuracy: of('test_accuracy'),
        test_loss: of('test_loss'),
        train_loss: of('train_loss'),
        train_accuracy: of('train_accuracy'),
        seconds: of('seconds'),
      };
    });
}

function onnxParity(runs: RunRecord[]): OnnxParity | null {
  const withOnnx = runs.filter((r) => r.onnx);
  if (!withOnnx.length) return null;
  const agreements = withOnnx.map((r) => r.onnx!.prediction_agreement).filter((a): a is number => typeof a === 'number');
  return {
    n: withOnnx.length,
    max_abs_diff: Math.max(...withOnnx.map((r) => r.onnx!.max_abs_diff)),
    max_accuracy_gap: Math.max(...withOnnx.map((r) => Math.abs(r.onnx!.test_accuracy - (finalEpoch(r)?.test_accuracy ?? NaN)) || 0)),
    min_prediction_agreement: agreements.length ? Math.min(...agreements) : null,
    test_accuracy: describe(withOnnx.map((r) => r.onnx!.test_accuracy), ACCURACY_BOUNDS),
  };
}

function variantStats(variant: string, matrix: MatrixCell, all: RunRecord[], reference: string): VariantStats {
  const done = all.filter(usable);
  const finals = done.map((r) => finalEpoch(r)!);
  return {
    group: groupLabel(variant, matrix),
    variant,
    matrix,
    is_reference: variant === reference,
    seeds: done.map((r) => r.seed),
    runs: counts(all),
    final_test_accuracy: describe(finals.map((e) => e.test_accuracy), ACCURACY_BOUNDS),
    final_test_loss: describe(finals.map((e) => e.test_loss), NONNEGATIVE),
    final_train_loss: describe(finals.map((e) => e.train_loss), NONNEGATIVE),
    seconds_per_run: describe(done.map((r) => r.seconds).filter((s): s is number => s !== null), NONNEGATIVE),
    epochs: epochStats(done),
    onnx: onnxParity(done),
  };
}

function compare(g: VariantStats, ref: VariantStats | undefined, refName: string, gRuns: RunRecord[], refRuns: RunRecord[]): Comparison {
  const finals = (rs: RunRecord[], k: 'test_accuracy' | 'test_loss') => rs.filter(usable).map((r) => finalEpoch(r)![k]);
  const metric = (k: 'test_accuracy' | 'test_loss'): MetricComparison => ({
    ...welch(finals(gRuns, k), finals(refRuns, k), k === 'test_accuracy' ? ACCURACY_BOUNDS : undefined),
    mean: g[`final_${k}`].mean,
    reference_mean: ref ? ref[`final_${k}`].mean : null,
  });
  const accuracy = metric('test_accuracy');
  const secs = g.seconds_per_run.mean;
  const refSecs = ref?.seconds_per_run.mean ?? null;
  const c: Comparison = {
    group: g.group,
    variant: g.variant,
    matrix: g.matrix,
    reference: refName,
    reference_group: groupLabel(refName, g.matrix),
    n: g.final_test_accuracy.n,
    n_reference: ref?.final_test_accuracy.n ?? 0,
    test_accuracy: accuracy,
    test_loss: metric('test_loss'),
    epochs_to_reference_accuracy: epochsToReach(
      g.epochs.map((e) => ({ epoch: e.epoch, mean: e.test_accuracy.mean })),
      accuracy.reference_mean,
    ),
    reference_epochs: ref?.epochs.length ? ref.epochs[ref.epochs.length - 1]!.epoch : null,
    seconds_per_run: { mean: secs, reference_mean: refSecs, ratio: secs !== null && refSecs ? secs / refSecs : null },
    verdict: '',
  };
  c.verdict = verdict(c);
  return c;
}

export function buildSummary(input: StudyInput, o: { now?: Date } = {}): Summary {
  if (!input || !Array.isArray(input.runs) || !Array.isArray(input.variant_order))
    throw new UserError('report input: expected { experiment, variant_order: [...], runs: [...] }');
  const order = [...input.variant_order];
  for (const r of input.runs) if (!order.includes(r.variant)) order.push(r.variant);
  const reference = input.reference ?? order[0];
  if (reference === undefined) throw new UserError(`report for ${input.experiment}: the study has no variants and no runs`);
  if (!order.includes(reference))
    throw new UserError(`report for ${input.experiment}: reference variant "${reference}" is not a variant of the study`, [
      `variants: ${order.join(', ')}`,
      'fix: set report.reference to one of them (or remove it to use the first)',
    ]);

  // Groups: matrix cells in order of first appearance, variants in study order within a cell.
  const cells: MatrixCell[] = [];
  const seenCells = new Set<string>();
  const runsByGroup = new Map<string, RunRecord[]>();
  for (const r of input.runs) {
    const m = r.matrix ?? {};
    const c = canonicalJson(m);
    if (!seenCells.has(c)) {
      seenCells.add(c);
      cells.push(m);
    }
    const id = cellId(r.variant, m);
    runsByGroup.set(id, [...(runsByGroup.get(id) ?? []), r]);
  }
  const variants: VariantStats[] = [];
  const comparisons: Comparison[] = [];
  for (const cell of cells) {
    const present = order.filter((v) => runsByGroup.has(cellId(v, cell)));
    const stats = new Map(present.map((v) => [v, variantStats(v, cell, runsByGroup.get(cellId(v, cell))!, reference)]));
    variants.push(...stats.values());
    const ref = stats.get(reference);
    for (const v of present) {
      if (v === reference) continue;
      comparisons.push(compare(stats.get(v)!, ref, reference, runsByGroup.get(cellId(v, cell))!, runsByGroup.get(cellId(reference, cell)) ?? []));
    }
  }
  const probes = probeGroups(variants, input.runs);
  return {
    schema_version: 1,
    experiment: input.experiment,
    ...(input.description !== undefined ? { description: input.description } : {}),
    config_sha256: input.config_sha256,
    generated_at: (o.now ?? new Date()).toISOString(),
    reference,
    variant_order: order,
    tracking_uri: input.tracking_uri,
    runs: input.runs,
    claims: evaluateClaims(input.hypotheses, input.runs),
    variants,
    ...(probes.length ? { probes } : {}),
    comparisons,
    environment: input.environment,
    dataset: input.dataset,
  };
}
