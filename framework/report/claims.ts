/**
 * A study's claims, tested: each hypothesis's two sides are read from the runs (one figure per run),
 * tested across seeds, Holm-corrected together, and given a verdict. Pure.
 *
 * Verdicts, at alpha = 0.05 on the Holm-adjusted two-sided p of H0 "effect = the claimed minimum"
 * (effect = compare - against; the minimum is signed by the direction, 0 by default):
 *  - supported: significant, and the estimate lies beyond the minimum in the claimed direction;
 *  - refuted: significant, and the estimate lies short of the minimum: with min_effect 0 that is a
 *    significant difference in the opposite direction; with a minimum it is a CI that lies wholly
 *    below it (the data exclude an effect that large);
 *  - inconclusive: not significant (or too few runs to test).
 */
import {
  CLAIM_METRICS,
  defaultTest,
  PAIRED_TESTS,
  selectorSpec,
  selects,
  type ClaimMetric,
  type ClaimTest,
  type Hypothesis,
  type Selector,
} from '../config/index.js';
import {
  fisherTest,
  holm,
  mannWhitneyTest,
  pairedTTest,
  seedsFor80Power,
  seedsForRatePower,
  welchTest,
  wilcoxonTest,
  type TestResult,
} from './hypothesis-tests.js';
import type { Interval } from './stats.js';
import type { EpochRecord, MatrixCell, RunRecord } from './summary.js';

export const ALPHA = 0.05;

export type ClaimVerdict = 'supported' | 'refuted' | 'inconclusive';

export interface ClaimSide {
  /** e.g. `batchnorm`, `batchnorm [train.optimizer.lr=0.1]`, `layer+batch [model.hidden=...]`. */
  label: string;
  /** Runs whose figure entered the test. */
  n: number;
  seeds: number[];
  /** Mean of the figures (for divergence_rate: the share diverged). */
  mean: number | null;
  /** Runs the side selects that gave no figure: not finished (or diverged, for metrics of a curve), missing epoch, non-finite value. */
  left_out: number;
  /** epochs_to_accuracy: runs that never reached the level (counted as epochs + 1). */
  censored?: number;
}

export interface ClaimResult {
  name: string;
  claim: string;
  metric: ClaimMetric;
  /** metric probe: the probe compared (`fc2/ics`). */
  probe?: string;
  epoch: 'final' | 'best' | number | null;
  level: number | null;
  direction: 'higher' | 'lower';
  min_effect: number;
  test: ClaimTest;
  compare: ClaimSide;
  against: ClaimSide;
  /** compare - against, in the metric's units (rank tests: Hodges-Lehmann shift; rates: difference of shares). */
  effect: number | null;
  ci95: Interval | null;
  /** Two-sided p of H0: effect = the signed minimum effect. */
  p: number | null;
  /** p after Holm's correction over every claim of the study that has a p. */
  p_holm: number | null;
  statistic: number | null;
  df: number | null;
  method: TestResult['method'];
  /** Seeds per side (pairs for paired tests) for 80% power at the observed effect; null when not computable. */
  seeds_for_80_power: number | null;
  verdict: ClaimVerdict;
  /** The verdict in one sentence. */
  reason: string;
}

/** A run that failed because its loss became non-finite (the loop's message), not for another reason. */
export const isDiverged = (r: RunRecord) => r.status === 'FAILED' && /loss became (NaN|-?Infinity)/.test(r.reason ?? '');
const usable = (r: RunRecord) => r.status === 'FINISHED' && r.epochs.length > 0;

const ACCURACY_LIKE: readonly ClaimMetric[] = ['test_accuracy', 'train_accuracy', 'generalization_gap', 'auc', 'divergence_rate'];
/** For `epoch: best`: which end of a curve is best. */
const HIGHER_IS_BETTER: readonly ClaimMetric[] = ['test_accuracy', 'train_accuracy'];

function figureAt(e: EpochRecord, metric: ClaimMetric): number {
  switch (metric) {
    case 'generalization_gap':
      return e.train_accuracy - e.test_accuracy;
    case 'test_accuracy':
    case 'test_loss':
    case 'train_accuracy':
    case 'train_loss':
      return e[metric];
    default:
      throw new Error(`no per-epoch figure for ${metric}`);
  }
}

/** One run's figure for the claim; undefined when it has none; `censored` for epochs_to_accuracy. */
function runFigure(r: RunRecord, h: Hypothesis): { value: number; censored?: boolean } | undefined {
  const epochs = [...r.epochs].sort((a, b) => a.epoch - b.epoch);
  const last = epochs[epochs.length - 1];
  if (!last) return undefined;
  const epoch = h.epoch ?? 'final';
  if (h.metric === 'epochs_to_accuracy') {
    const hit = epochs.find((e) => e.test_accuracy >= h.level!);
    return hit ? { value: hit.epoch } : { value: last.epoch + 1, censored: true };
  }
  if (h.metric === 'auc') {
    const upTo = epoch === 'final' ? last.epoch : (epoch as number);
    const curve = epochs.filter((e) => e.epoch <= upTo);
    if (curve.length !== upTo) return undefined; // an epoch is missing: no area
    return { value: curve.reduce((s, e) => s + e.test_accuracy, 0) / upTo };
  }
  if (h.metric === 'probe') return probeFigure(r, h.probe!, epoch);
  if (epoch === 'final') return { value: figureAt(last, h.metric) };
  if (epoch === 'best') {
    const vs = epochs.map((e) => figureAt(e, h.metric)).filter(Number.isFinite);
    if (!vs.length) return undefined;
    return { value: HIGHER_IS_BETTER.includes(h.metric) ? Math.max(...vs) : Math.min(...vs) };
  }
  const e = epochs.find((x) => x.epoch === epoch);
  return e ? { value: figureAt(e, h.metric) } : undefined;
}

/**
 * A probe's value after an epoch: probes every epoch log one point per epoch after the initial one
 * (step 0), so epoch N is the N-th point after step 0; final is the last point.
 */
function probeFigure(r: RunRecord, probe: string, epoch: 'final' | 'best' | number): { value: number } | undefined {
  const after = (r.probes?.[probe] ?? []).filter(([step]) => step > 0).sort((a, b) => a[0] - b[0]);
  const point = epoch === 'final' ? after[after.length - 1] : typeof epoch === 'number' ? after[epoch - 1] : undefined;
  return point && Number.isFinite(point[1]) ? { value: point[1] } : undefined;
}

type Scalar = string | number | boolean;

function sideLabel(sel: Selector): string {
  const spec = selectorSpec(sel);
  const cell = Object.entries(spec.matrix).map(([k, vs]) => `${k}=${vs.map(String).join('|')}`);
  return `${spec.variants.join('+')}${cell.length ? ` [${cell.join(', ')}]` : ''}`;
}

const METRIC_WORDS: Record<ClaimMetric, string> = {
  test_accuracy: 'test accuracy',
  test_loss: 'test loss',
  train_accuracy: 'train accuracy',
  train_loss: 'train loss',
  generalization_gap: 'generalization gap (train - test accuracy)',
  epochs_to_accuracy: 'epochs to reach',
  auc: 'area under the test accuracy curve',
  divergence_rate: 'divergence rate',
  probe: 'probe',
};

function metricPhrase(h: Hypothesis): string {
  if (h.metric === 'epochs_to_accuracy') return `epochs to reach ${(h.level! * 100).toFixed(1)}% test accuracy`;
  if (h.metric === 'divergence_rate') return METRIC_WORDS.divergence_rate;
  const at = h.epoch === undefined || h.epoch === 'final' ? 'at the final epoch' : h.epoch === 'best' ? 'at its best epoch' : `at epoch ${h.epoch}`;
  if (h.metric === 'probe') return `probe ${h.probe} ${at}`;
  return h.metric === 'auc' ? `${METRIC_WORDS.auc} up to ${h.epoch === undefined || h.epoch === 'final' ? 'the final epoch' : `epoch ${h.epoch}`}` : `${METRIC_WORDS[h.metric]} ${at}`;
}

/** The unit a claim's metric is given in (after the number). */
const unitOf = (metric: ClaimMetric): string => (ACCURACY_LIKE.includes(metric) ? ' points' : metric === 'epochs_to_accuracy' ? ' epochs' : '');

/** A number in the metric's units, signed, without the unit: +12.3 (points), −0.041, +1.5 (epochs). */
export function fmtEffectNumber(metric: ClaimMetric, x: number): string {
  const sign = x >= 0 ? '+' : '\u2212';
  if (ACCURACY_LIKE.includes(metric)) return `${sign}${Math.abs(x * 100).toFixed(1)}`;
  if (metric === 'epochs_to_accuracy') return `${sign}${Math.abs(x).toFixed(1)}`;
  // probes span many scales (a dead fraction, a gradient norm of 1e-4): three significant digits
  if (metric === 'probe') return `${sign}${Number(Math.abs(x).toPrecision(3))}`;
  return `${sign}${Math.abs(x).toFixed(3)}`;
}

/** A difference in the metric's units, signed: +12.3 points, −0.041, +1.5 epochs. */
export const fmtEffect = (metric: ClaimMetric, x: number): string => `${fmtEffectNumber(metric, x)}${unitOf(metric)}`;

/** The 95% CI of an effect: "+5.8 to +7.8 points". */
export const fmtEffectCi = (metric: ClaimMetric, ci: Interval | null): string =>
  ci ? `${fmtEffectNumber(metric, ci.low)} to ${fmtEffectNumber(metric, ci.high)}${unitOf(metric)}` : 'n/a';

/** A p-value as a bare figure (tables): 0.020, < 0.001, n/a. */
export const fmtPValue = (p: number | null) => (p === null ? 'n/a' : p < 0.001 ? '< 0.001' : p.toPrecision(2));
const pIs = (p: number | null) => (p !== null && p < 0.001 ? '< 0.001' : `= ${fmtPValue(p)}`);

const TEST_WORDS: Record<ClaimTest, string> = {
  welch: 'Welch t-test',
  'paired-t': 'paired t-test by seed',
  'mann-whitney': 'Mann-Whitney U test',
  wilcoxon: 'Wilcoxon signed-rank test by seed',
  fisher: "Fisher's exact test",
};

function defaultClaim(h: Hypothesis): string {
  const min = (h.min_effect ?? 0) > 0 ? ` by at least ${fmtEffect(h.metric, h.min_effect!).slice(1)}` : '';
  return `${sideLabel(h.compare)} has a ${h.direction} ${metricPhrase(h)} than ${sideLabel(h.against)}${min}`;
}

interface Sample {
  values: number[];
  seeds: number[];
  keys: string[];
  leftOut: number;
  censored: number;
  runs: RunRecord[];
}

function sample(runs: RunRecord[], h: Hypothesis, sel: Selector, pairAxes: string[]): Sample {
  const spec = selectorSpec(sel);
  const mine = runs.filter((r) => selects(spec, r.variant, (r.matrix ?? {}) as Record<string, Scalar>));
  const s: Sample = { values: [], seeds: [], keys: [], leftOut: 0, censored: 0, runs: mine };
  for (const r of mine) {
    const f = usable(r) ? runFigure(r, h) : undefined;
    if (!f || !Number.isFinite(f.value)) {
      s.leftOut++;
      continue;
    }
    if (f.censored) s.censored++;
    s.values.push(f.value);
    s.seeds.push(r.seed);
    s.keys.push(JSON.stringify([r.seed, ...pairAxes.map((k) => (r.matrix as MatrixCell)[k] ?? null)]));
  }
  return s;
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

interface Tested {
  result: TestResult;
  compare: ClaimSide;
  against: ClaimSide;
  power: number | null;
}

function testClaim(h: Hypothesis, runs: RunRecord[], test: ClaimTest, shift: number): Tested {
  if (h.metric === 'divergence_rate') {
    const side = (sel: Selector) => {
      const spec = selectorSpec(sel);
      const mine = runs.filter((r) => selects(spec, r.variant, (r.matrix ?? {}) as Record<string, Scalar>));
      // Only runs that ended one way or the other count: finished or diverged (not killed, not other failures).
      const decided = mine.filter((r) => r.status === 'FINISHED' || isDiverged(r));
      const k = decided.filter(isDiverged).length;
      return { k, n: decided.length, side: { label: sideLabel(sel), n: decided.length, seeds: decided.map((r) => r.seed), mean: decided.length ? k / decided.length : null, left_out: mine.length - decided.length } };
    };
    const c = side(h.compare);
    const a = side(h.against);
    return { result: fisherTest(c.k, c.n, a.k, a.n), compare: c.side, against: a.side, power: c.n && a.n ? seedsForRatePower(c.k / c.n, a.k / a.n) : null };
  }
  const paired = PAIRED_TESTS.includes(test);
  const cSpec = selectorSpec(h.compare);
  const aSpec = selectorSpec(h.against);
  const named = new Set([...Object.keys(cSpec.matrix), ...Object.keys(aSpec.matrix)]);
  const axes = [...new Set(runs.flatMap((r) => Object.keys(r.matrix ?? {})))].filter((k) => !named.has(k)).sort();
  let c = sample(runs, h, h.compare, axes);
  let a = sample(runs, h, h.against, axes);
  if (paired) {
    // Keep the pairs present on both sides; a run without its partner cannot enter a paired test.
    const both = c.keys.filter((k) => a.keys.includes(k));
    const keep = (s: Sample): Sample => {
      const idx = both.map((k) => s.keys.indexOf(k));
      return { ...s, values: idx.map((i) => s.values[i]!), seeds: idx.map((i) => s.seeds[i]!), keys: both, leftOut: s.leftOut + (s.keys.length - both.length) };
    };
    c = keep(c);
    a = keep(a);
  }
  if (test === 'fisher') throw new Error(`claim: the fisher test is for divergence_rate only (metric ${h.metric}); the study's validation refuses this`);
  const run = { welch: welchTest, 'paired-t': pairedTTest, 'mann-whitney': mannWhitneyTest, wilcoxon: wilcoxonTest }[test];
  const result = run(c.values, a.values, shift);
  const side = (s: Sample, sel: Selector): ClaimSide => ({
    label: sideLabel(sel),
    n: s.values.length,
    seeds: s.seeds,
    mean: mean(s.values),
    left_out: s.leftOut,
    ...(h.metric === 'epochs_to_accuracy' ? { censored: s.censored } : {}),
  });
  return { result, compare: side(c, h.compare), against: side(a, h.against), power: seedsFor80Power(test, c.values, a.values, shift) };
}

function reasonOf(c: Omit<ClaimResult, 'reason'>, note: string | undefined): string {
  const min = c.min_effect > 0 ? `the claimed minimum of ${fmtEffect(c.metric, c.min_effect).slice(1)}` : 'no difference';
  const n = `n = ${c.compare.n} vs ${c.against.n}${PAIRED_TESTS.includes(c.test) ? ' pairs' : ''}`;
  const extras: string[] = [];
  const left = c.compare.left_out + c.against.left_out;
  if (left) extras.push(`${left} selected run${left === 1 ? '' : 's'} gave no figure (unfinished, diverged or missing the epoch)`);
  const censored = (c.compare.censored ?? 0) + (c.against.censored ?? 0);
  if (censored) extras.push(`${censored} run${censored === 1 ? '' : 's'} never reached the level (counted as epochs + 1)`);
  if (c.p === null || c.effect === null) {
    const tail = extras.length ? `; ${extras.join('; ')}` : '';
    return `inconclusive: too few results to test (${n}; ${TEST_WORDS[c.test]} needs ${c.test === 'fisher' ? 'a run' : PAIRED_TESTS.includes(c.test) ? 'two pairs' : 'two results'} on each side)${tail}.`;
  }
  if (note) extras.push(note);
  const tail = extras.length ? `; ${extras.join('; ')}` : '';
  const ci = c.ci95 ? `95% CI ${fmtEffectCi(c.metric, c.ci95)}` : 'no 95% CI at this sample size';
  const stats = `${fmtEffect(c.metric, c.effect)} (${ci}; p ${pIs(c.p)}, Holm-adjusted p ${pIs(c.p_holm)}; ${TEST_WORDS[c.test]}, ${n})`;
  const power = c.seeds_for_80_power !== null ? `; about ${c.seeds_for_80_power} seeds per side would give 80% power at this effect` : '';
  if (c.verdict === 'supported')
    return `supported: ${stats}: ${c.min_effect > 0 ? `significantly more than ${min}` : 'significant in the claimed direction'}${tail}.`;
  if (c.verdict === 'refuted')
    return c.min_effect > 0 && Math.sign(c.effect) === (c.direction === 'higher' ? 1 : -1)
      ? `refuted: ${stats}: in the claimed direction but significantly short of ${min}${tail}.`
      : `refuted: ${stats}: significantly in the opposite direction${tail}.`;
  return `inconclusive: ${stats}: not significantly different from ${min} at alpha ${ALPHA}${power}${tail}.`;
}

/** Test every hypothesis of a study on its runs, Holm-corrected together. */
export function evaluateClaims(hypotheses: Record<string, Hypothesis> | undefined, runs: RunRecord[]): ClaimResult[] {
  const entries = Object.entries(hypotheses ?? {});
  const tested = entries.map(([name, h]) => {
    const test = defaultTest(h);
    const sign = h.direction === 'higher' ? 1 : -1;
    const shift = sign * (h.min_effect ?? 0);
    return { name, h, test, sign, shift, t: testClaim(h, runs, test, shift) };
  });
  const adjusted = holm(tested.map((x) => x.t.result.p));
  return tested.map(({ name, h, test, sign, shift, t }, i) => {
    const r = t.result;
    const pHolm = adjusted[i]!;
    let verdict: ClaimVerdict = 'inconclusive';
    if (pHolm !== null && r.effect !== null && pHolm < ALPHA && r.effect !== shift) verdict = sign * (r.effect - shift) > 0 ? 'supported' : 'refuted';
    const base: Omit<ClaimResult, 'reason'> = {
      name,
      claim: h.claim ?? defaultClaim(h),
      metric: h.metric,
      ...(h.probe !== undefined ? { probe: h.probe } : {}),
      epoch: h.metric === 'epochs_to_accuracy' || h.metric === 'divergence_rate' ? null : (h.epoch ?? 'final'),
      level: h.level ?? null,
      direction: h.direction,
      min_effect: h.min_effect ?? 0,
      test,
      compare: t.compare,
      against: t.against,
      effect: r.effect,
      ci95: r.ci95,
      p: r.p,
      p_holm: pHolm,
      statistic: r.statistic,
      df: r.df,
      method: r.method,
      seeds_for_80_power: t.power,
      verdict,
    };
    return { ...base, reason: reasonOf(base, r.note) };
  });
}

export { CLAIM_METRICS };
