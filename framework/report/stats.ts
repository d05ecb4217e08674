/**
 * The statistics of a study, pure: descriptive statistics with t-based 95% confidence intervals and
 * Welch's unequal-variance t-test. Means and sample standard deviations come from simple-statistics,
 * t quantiles and the t CDF from jStat. Undefined quantities (a CI from one seed, a test with zero
 * variance) are null, never NaN, so they survive JSON and print as "n/a".
 */
import { createRequire } from 'node:module';
import { mean as ssMean, sampleStandardDeviation } from 'simple-statistics';

interface JStat {
  studentt: { inv(p: number, dof: number): number; cdf(x: number, dof: number): number };
}
// jstat ships no types; a typed require keeps the rest of the file checked.
const { jStat } = createRequire(import.meta.url)('jstat') as { jStat: JStat };

export interface Interval {
  low: number;
  high: number;
}

export interface Describe {
  /** Finite values used. */
  n: number;
  /** Non-finite values (NaN, Infinity: a diverged run) left out of the figures. */
  excluded: number;
  mean: number | null;
  /** Sample standard deviation (n - 1); null for n < 2. */
  std: number | null;
  /** 95% CI of the mean with the t distribution (df = n - 1), within the metric's bounds; null for n < 2. */
  ci95: Interval | null;
  /** Present (true) when the t interval ran past the metric's bounds (accuracy 0-1, loss >= 0) and was cut there. */
  ci95_clamped?: true;
  min: number | null;
  max: number | null;
}

export interface Welch {
  /** mean(a) - mean(b). */
  diff: number | null;
  se: number | null;
  t: number | null;
  /** Welch–Satterthwaite degrees of freedom. */
  df: number | null;
  /** Two-sided p-value. */
  p: number | null;
  /** 95% CI of the difference of means. */
  ci95: Interval | null;
}

/** The t quantile: P(T <= q) = p with `df` degrees of freedom. */
export function tQuantile(p: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`t quantile needs df > 0, got ${df}`);
  return jStat.studentt.inv(p, df);
}

/** Two-sided p-value of a t statistic. */
export function tTwoSidedP(t: number, df: number): number {
  if (!(df > 0)) throw new RangeError(`t test needs df > 0, got ${df}`);
  // The lower tail directly: 1 - cdf(|t|) would lose tiny p-values to cancellation.
  const p = 2 * jStat.studentt.cdf(-Math.abs(t), df);
  return Math.min(1, Math.max(0, p));
}

const finite = (xs: readonly number[]) => xs.filter((x) => Number.isFinite(x));

/** The values a metric can take: an interval past them is cut to them (a mean cannot leave them). */
export type Bounds = readonly [low: number, high: number];
export const ACCURACY_BOUNDS: Bounds = [0, 1];
export const NONNEGATIVE: Bounds = [0, Infinity];

export function clampInterval(ci: Interval, [lo, hi]: Bounds): { ci: Interval; clamped: boolean } {
  const low = Math.max(lo, ci.low);
  const high = Math.min(hi, ci.high);
  return { ci: { low, high }, clamped: low !== ci.low || high !== ci.high };
}

export function describe(values: readonly number[], bounds?: Bounds): Describe {
  const xs = finite(values);
  const n = xs.length;
  const excluded = values.length - n;
  if (n === 0) return { n, excluded, mean: null, std: null, ci95: null, min: null, max: null };
  const mean = ssMean(xs);
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  if (n < 2) return { n, excluded, mean, std: null, ci95: null, min, max };
  const std = sampleStandardDeviation(xs);
  const half = tQuantile(0.975, n - 1) * (std / Math.sqrt(n));
  const raw = { low: mean - half, high: mean + half };
  if (!bounds) return { n, excluded, mean, std, ci95: raw, min, max };
  const { ci, clamped } = clampInterval(raw, bounds);
  return { n, excluded, mean, std, ci95: ci, ...(clamped ? { ci95_clamped: true as const } : {}), min, max };
}

/**
 * Welch's t-test of mean(a) - mean(b), two-sided, with its 95% CI. Needs two finite values on each
 * side; with zero variance on both sides the test is undefined (null), though the difference is not.
 */
export function welch(aValues: readonly number[], bValues: readonly number[], bounds?: Bounds): Welch {
  const a = finite(aValues);
  const b = finite(bValues);
  const diff = a.length && b.length ? ssMean(a) - ssMean(b) : null;
  const none = { diff, se: null, t: null, df: null, p: null, ci95: null };
  if (a.length < 2 || b.length < 2 || diff === null) return none;
  const va = sampleStandardDeviation(a) ** 2 / a.length;
  const vb = sampleStandardDeviation(b) ** 2 / b.length;
  const se = Math.sqrt(va + vb);
  if (!(se > 0)) return none;
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const t = diff / se;
  const half = tQuantile(0.975, df) * se;
  const raw = { low: diff - half, high: diff + half };
  // A difference of two bounded means is bounded by the width of the bounds (accuracy: -1 to 1).
  const ci95 = bounds ? clampInterval(raw, [bounds[0] - bounds[1], bounds[1] - bounds[0]]).ci : raw;
  return { diff, se, t, df, p: tTwoSidedP(t, df), ci95 };
}

/**
 * The first epoch (1-based, as recorded) at which a curve of mean values reaches `target`, or null
 * if it never does.
 */
export function epochsToReach(curve: readonly { epoch: number; mean: number | null }[], target: number | null): number | null {
  if (target === null) return null;
  for (const p of curve) if (p.mean !== null && p.mean >= target) return p.epoch;
  return null;
}
