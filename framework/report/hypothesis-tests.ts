/**
 * The tests a claim can use, pure: Welch's t, paired t, Mann-Whitney U, Wilcoxon signed-rank and
 * Fisher's exact test, each of H0 "effect = shift" (two-sided), with an estimate of the effect and its
 * 95% CI; Holm's correction; and the number of seeds that would give 80% power.
 *
 * The rank tests are written here, not taken from npm: no maintained package gives exact
 * Mann-Whitney p-values for the small samples a study has (3 seeds a side) together with the
 * Hodges-Lehmann estimate and its distribution-free CI (@stdlib/stats-wilcoxon has the signed-rank p
 * only; mann-whitney-utest the normal approximation only). The exact null distributions are small
 * dynamic programs; every figure is checked against scipy 1.17 and published worked examples.
 */
import { createRequire } from 'node:module';
import { mean as ssMean, median, sampleStandardDeviation } from 'simple-statistics';
import { tQuantile, tTwoSidedP, type Interval } from './stats.js';

interface JStatDists {
  noncentralt: { cdf(x: number, dof: number, ncp: number): number };
  normal: { cdf(x: number, mean: number, sd: number): number; inv(p: number, mean: number, sd: number): number };
}
const { jStat } = createRequire(import.meta.url)('jstat') as { jStat: JStatDists };

export const TESTS = ['welch', 'paired-t', 'mann-whitney', 'wilcoxon', 'fisher'] as const;
export type TestName = (typeof TESTS)[number];

export interface TestResult {
  test: TestName;
  /** Estimate of a - b: difference of means (t tests), Hodges-Lehmann shift (rank tests), difference of rates (Fisher). */
  effect: number | null;
  /** 95% CI of the effect; null when the sample cannot give one (e.g. 3 vs 3 seeds in a rank test). */
  ci95: Interval | null;
  /** Two-sided p-value of H0: effect = shift. */
  p: number | null;
  /** t, U (of a), W+ or the odds ratio. */
  statistic: number | null;
  df: number | null;
  /** How p was computed. */
  method: 't' | 'exact' | 'normal' | 'degenerate';
  /** Sample sizes (pairs for paired tests: both the same). */
  n: [number, number];
  /** Why a figure is missing or degenerate, in words. */
  note?: string;
}

const Z975 = 1.959963984540054;
const clamp01 = (p: number) => Math.min(1, Math.max(0, p));
const normSf = (z: number) => jStat.normal.cdf(-z, 0, 1);
const variance = (xs: number[]) => sampleStandardDeviation(xs) ** 2;

/** Welch's unequal-variance t-test of mean(a) - mean(b) = shift. */
export function welchTest(a: number[], b: number[], shift = 0): TestResult {
  const base = { test: 'welch' as const, n: [a.length, b.length] as [number, number] };
  if (a.length < 2 || b.length < 2)
    return { ...base, effect: a.length && b.length ? ssMean(a) - ssMean(b) : null, ci95: null, p: null, statistic: null, df: null, method: 't', note: 'needs two results on each side' };
  const diff = ssMean(a) - ssMean(b);
  const va = variance(a) / a.length;
  const vb = variance(b) / b.length;
  const se = Math.sqrt(va + vb);
  if (!(se > 0)) return degenerate(base, diff, shift);
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const t = (diff - shift) / se;
  const half = tQuantile(0.975, df) * se;
  return { ...base, effect: diff, ci95: { low: diff - half, high: diff + half }, p: tTwoSidedP(t, df), statistic: t, df, method: 't' };
}

/**
 * No spread on either side: every seed gave the same figure. Identical sides are no evidence of a
 * difference (p = 1); different constants are the limit of a t-test as the spread goes to 0 (p = 0,
 * as scipy gives), but with so little information the result says so.
 */
function degenerate(base: { test: TestName; n: [number, number] }, diff: number, shift: number): TestResult {
  const same = diff === shift;
  return {
    ...base,
    effect: diff,
    ci95: { low: diff, high: diff },
    p: same ? 1 : 0,
    statistic: null,
    df: null,
    method: 'degenerate',
    note: 'no spread: every seed gave the same result on each side',
  };
}

/** Paired t-test of mean(a_i - b_i) = shift. */
export function pairedTTest(a: number[], b: number[], shift = 0): TestResult {
  if (a.length !== b.length) throw new RangeError(`paired test: ${a.length} vs ${b.length} values`);
  const n = a.length;
  const base = { test: 'paired-t' as const, n: [n, n] as [number, number] };
  const d = a.map((x, i) => x - b[i]!);
  if (n < 2) return { ...base, effect: n ? d[0]! : null, ci95: null, p: null, statistic: null, df: null, method: 't', note: 'needs two pairs' };
  const m = ssMean(d);
  const se = sampleStandardDeviation(d) / Math.sqrt(n);
  if (!(se > 0)) return degenerate(base, m, shift);
  const t = (m - shift) / se;
  const half = tQuantile(0.975, n - 1) * se;
  return { ...base, effect: m, ci95: { low: m - half, high: m + half }, p: tTwoSidedP(t, n - 1), statistic: t, df: n - 1, method: 't' };
}

/** Mid-ranks (1-based) of values, and the tie groups' sizes. */
function ranks(xs: number[]): { r: number[]; ties: number[] } {
  const idx = xs.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
  const r = new Array<number>(xs.length);
  const ties: number[] = [];
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++;
    for (let k = i; k <= j; k++) r[idx[k]![1]] = (i + j) / 2 + 1;
    if (j > i) ties.push(j - i + 1);
    i = j + 1;
  }
  return { r, ties };
}

/** Counts of U = 0..m*n under H0 (all orderings of m + n distinct values equally likely). */
function uCounts(m: number, n: number): number[] {
  // f[i][j][u]: orderings of i a's and j b's with U = u; U grows by j when an a comes after j b's.
  let prev: number[][] = Array.from({ length: n + 1 }, () => [1]);
  for (let i = 1; i <= m; i++) {
    const cur: number[][] = [];
    for (let j = 0; j <= n; j++) {
      const size = i * j + 1;
      const c = new Array<number>(size).fill(0);
      const fromA = prev[j]!; // last element an a that beats the j b's before it
      for (let u = 0; u < fromA.length; u++) c[u + j] += fromA[u]!;
      if (j > 0) {
        const fromB = cur[j - 1]!;
        for (let u = 0; u < fromB.length; u++) c[u] += fromB[u]!;
      }
      cur.push(c);
    }
    prev = cur;
  }
  return prev[n]!;
}

/** Counts of W+ = 0..n(n+1)/2 under H0 (each of 2^n sign patterns of ranks 1..n equally likely). */
function signedRankCounts(n: number): number[] {
  let c = [1];
  for (let k = 1; k <= n; k++) {
    const next = new Array<number>(c.length + k).fill(0);
    for (let w = 0; w < c.length; w++) {
      next[w] += c[w]!;
      next[w + k] += c[w]!;
    }
    c = next;
  }
  return c;
}

/** Cumulative probabilities P(S <= s) of a count table. */
function cdfOf(counts: number[]): number[] {
  const total = counts.reduce((s, x) => s + x, 0);
  let acc = 0;
  return counts.map((x) => (acc += x) / total);
}

/** Two-sided exact p of statistic s: twice the smaller tail, capped at 1 (scipy's definition). */
function exactTwoSided(cdf: number[], s: number): number {
  const lower = cdf[Math.floor(s)]!;
  const upper = 1 - (Math.ceil(s) >= 1 ? cdf[Math.ceil(s) - 1]! : 0);
  return clamp01(2 * Math.min(lower, upper));
}

/**
 * Order-statistic CI of a shift estimate: [x_(k), x_(N+1-k)] of the sorted pairwise differences (or
 * Walsh averages), with k - 1 the largest count whose lower tail P(S <= k - 1) is at most 2.5%.
 * Null when even k = 1 would cover less than 95% (3 vs 3 seeds: P(U = 0) = 5%).
 */
function orderCi(sorted: number[], cdf: (s: number) => number): Interval | null {
  let k = 0;
  while (k < sorted.length && cdf(k) <= 0.025) k++;
  if (k === 0) return null;
  return { low: sorted[k - 1]!, high: sorted[sorted.length - k]! };
}

/**
 * Mann-Whitney U test of a - shift vs b (H0: the distributions are equal up to the shift), two-sided.
 * Exact null distribution when there are no ties and a side has at most 8 values (scipy's rule),
 * else the normal approximation with tie correction and continuity correction. The effect is the
 * Hodges-Lehmann shift (median of all a_i - b_j) with its distribution-free CI.
 */
export function mannWhitneyTest(a: number[], b: number[], shift = 0): TestResult {
  const m = a.length;
  const n = b.length;
  const base = { test: 'mann-whitney' as const, n: [m, n] as [number, number], df: null };
  if (!m || !n) return { ...base, effect: null, ci95: null, p: null, statistic: null, method: 'exact', note: 'needs a result on each side' };
  const diffs = a.flatMap((x) => b.map((y) => x - y)).sort((p, q) => p - q);
  const effect = median(diffs);
  const shifted = a.map((x) => x - shift);
  const { r, ties } = ranks([...shifted, ...b]);
  const u = r.slice(0, m).reduce((s, x) => s + x, 0) - (m * (m + 1)) / 2;
  const N = m + n;
  const tieSum = ties.reduce((s, t) => s + t ** 3 - t, 0);
  const sigma = Math.sqrt(((m * n) / 12) * (N + 1 - tieSum / (N * (N - 1))));
  const normalCdf = (s: number) => jStat.normal.cdf((s + 0.5 - (m * n) / 2) / sigma, 0, 1);
  if (!(sigma > 0)) return { ...degenerate(base as never, effect, shift), test: 'mann-whitney', ci95: null };
  if (!ties.length && Math.min(m, n) <= 8) {
    const cdf = cdfOf(uCounts(m, n));
    return { ...base, effect, ci95: orderCi(diffs, (s) => cdf[s]!), p: exactTwoSided(cdf, u), statistic: u, method: 'exact' };
  }
  const z = (Math.abs(u - (m * n) / 2) - 0.5) / sigma;
  const p = clamp01(2 * normSf(Math.max(0, z)));
  return { ...base, effect, ci95: orderCi(diffs, normalCdf), p, statistic: u, method: 'normal' };
}

/**
 * Wilcoxon signed-rank test of the paired differences a_i - b_i - shift (zeros dropped, as scipy's
 * default), two-sided. Exact when there are no ties or zeros and at most 50 pairs; else the normal
 * approximation with tie correction. The effect is the Hodges-Lehmann estimate (median of the Walsh
 * averages of a_i - b_i) with its distribution-free CI.
 */
export function wilcoxonTest(a: number[], b: number[], shift = 0): TestResult {
  if (a.length !== b.length) throw new RangeError(`paired test: ${a.length} vs ${b.length} values`);
  const pairs = a.length;
  const base = { test: 'wilcoxon' as const, n: [pairs, pairs] as [number, number], df: null };
  const raw = a.map((x, i) => x - b[i]!);
  const walsh = raw.flatMap((x, i) => raw.slice(i).map((y) => (x + y) / 2)).sort((p, q) => p - q);
  const effect = pairs ? median(walsh) : null;
  const d = raw.map((x) => x - shift);
  const nz = d.filter((x) => x !== 0);
  const n = nz.length;
  if (!n) return pairs ? { ...degenerate(base as never, effect!, shift), test: 'wilcoxon', ci95: null } : { ...base, effect, ci95: null, p: null, statistic: null, method: 'exact', note: 'needs a pair' };
  const { r, ties } = ranks(nz.map(Math.abs));
  const wPlus = r.reduce((s, x, i) => s + (nz[i]! > 0 ? x : 0), 0);
  const M = (n * (n + 1)) / 4;
  const sigma = Math.sqrt((n * (n + 1) * (2 * n + 1)) / 24 - ties.reduce((s, t) => s + t ** 3 - t, 0) / 48);
  const ciCdf = cdfOf(signedRankCounts(pairs));
  const ci = orderCi(walsh, (s) => ciCdf[s]!);
  if (!ties.length && n === pairs && n <= 50) {
    return { ...base, effect, ci95: ci, p: exactTwoSided(cdfOf(signedRankCounts(n)), wPlus), statistic: wPlus, method: 'exact' };
  }
  const p = sigma > 0 ? clamp01(2 * normSf(Math.abs(wPlus - M) / sigma)) : 1;
  return { ...base, effect, ci95: ci, p, statistic: wPlus, method: 'normal' };
}

const logFact = (() => {
  const cache = [0];
  return (k: number): number => {
    for (let i = cache.length; i <= k; i++) cache.push(cache[i - 1]! + Math.log(i));
    return cache[k]!;
  };
})();

/** Wilson score interval of a proportion k / n. */
export function wilson(k: number, n: number): Interval {
  const p = k / n;
  const den = 1 + (Z975 * Z975) / n;
  const centre = (p + (Z975 * Z975) / (2 * n)) / den;
  const half = (Z975 * Math.sqrt((p * (1 - p)) / n + (Z975 * Z975) / (4 * n * n))) / den;
  // At k = 0 or k = n the bound is exactly 0 or 1 in theory; rounding leaves 1e-17.
  return { low: k === 0 ? 0 : Math.max(0, centre - half), high: k === n ? 1 : Math.min(1, centre + half) };
}

/**
 * Fisher's exact test of equal rates, k1 of n1 vs k2 of n2 (two-sided: the tables no more likely
 * than the observed one, as scipy). Effect: k1/n1 - k2/n2, with Newcombe's hybrid score CI (his
 * method 10, built from the two Wilson intervals).
 */
export function fisherTest(k1: number, n1: number, k2: number, n2: number): TestResult {
  const base = { test: 'fisher' as const, n: [n1, n2] as [number, number], df: null };
  if (!n1 || !n2) return { ...base, effect: null, ci95: null, p: null, statistic: null, method: 'exact', note: 'needs a run on each side' };
  const K = k1 + k2;
  const N = n1 + n2;
  const logP = (x: number) =>
    logFact(K) + logFact(N - K) + logFact(n1) + logFact(n2) - logFact(N) - logFact(x) - logFact(K - x) - logFact(n1 - x) - logFact(n2 - K + x);
  const observed = logP(k1);
  let p = 0;
  for (let x = Math.max(0, K - n2); x <= Math.min(K, n1); x++) if (logP(x) <= observed + 1e-7) p += Math.exp(logP(x));
  const p1 = k1 / n1;
  const p2 = k2 / n2;
  const w1 = wilson(k1, n1);
  const w2 = wilson(k2, n2);
  const effect = p1 - p2;
  const ci = { low: effect - Math.hypot(p1 - w1.low, w2.high - p2), high: effect + Math.hypot(w1.high - p1, p2 - w2.low) };
  const odds = (k1 * (n2 - k2)) / ((n1 - k1) * k2);
  return { ...base, effect, ci95: ci, p: clamp01(p), statistic: Number.isFinite(odds) ? odds : null, method: 'exact' };
}

/** Holm's step-down adjustment: adjusted p-values in the input order (nulls stay null, and do not count). */
export function holm(ps: (number | null)[]): (number | null)[] {
  const idx = ps.map((p, i) => [p, i] as const).filter((x): x is readonly [number, number] => x[0] !== null).sort((a, b) => a[0] - b[0]);
  const m = idx.length;
  const out: (number | null)[] = ps.map(() => null);
  let running = 0;
  idx.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * p));
    out[i] = running;
  });
  return out;
}

/** Power of a two-sided t-test at alpha 0.05: two samples of n each, or n pairs, standardized effect d. */
export function tTestPower(n: number, d: number, paired: boolean): number {
  const df = paired ? n - 1 : 2 * n - 2;
  const ncp = d * Math.sqrt(paired ? n : n / 2);
  const tc = tQuantile(0.975, df);
  return 1 - jStat.noncentralt.cdf(tc, df, ncp) + jStat.noncentralt.cdf(-tc, df, ncp);
}

export const MAX_SEEDS = 10_000;

/**
 * Seeds per side that give a two-sided t-test (alpha 0.05) 80% power when the true standardized effect
 * is d: the smallest n with power >= 0.8, from the noncentral t. Null when d is 0 (no sample size
 * suffices) or the answer is above MAX_SEEDS.
 */
export function seedsForPower(d: number, paired: boolean): number | null {
  const e = Math.abs(d);
  if (!(e > 0)) return null;
  if (!Number.isFinite(e)) return 2;
  if (tTestPower(MAX_SEEDS, e, paired) < 0.8) return null;
  let lo = 2;
  let hi = MAX_SEEDS;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (tTestPower(mid, e, paired) >= 0.8) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Seeds per side for 80% power comparing two rates (Cohen's h, normal approximation, alpha 0.05 two-sided). */
export function seedsForRatePower(p1: number, p2: number): number | null {
  const h = Math.abs(2 * Math.asin(Math.sqrt(p1)) - 2 * Math.asin(Math.sqrt(p2)));
  if (!(h > 0)) return null;
  const n = Math.ceil(((Z975 + jStat.normal.inv(0.8, 0, 1)) / h) ** 2);
  return n > MAX_SEEDS ? null : Math.max(MIN_SEEDS_FOR_P05.fisher, n);
}

/**
 * Exact tests cannot reach p < 0.05 below these sizes (two-sided): Mann-Whitney 3 vs 3 gives 0.1 at
 * best, 4 vs 4 2/70; Wilcoxon 5 pairs 2/32, 6 pairs 2/64; Fisher 3 vs 3 0.1, 4 vs 4 2/70. No power
 * figure below them makes sense, whatever the asymptotics say.
 */
export const MIN_SEEDS_FOR_P05 = { 'mann-whitney': 4, wilcoxon: 6, fisher: 4 } as const;

/**
 * The asymptotic relative efficiency of the rank tests to the t-test under normal data is 3/pi
 * (Hodges & Lehmann 1956): they need about pi/3 times as many seeds for the same power.
 */
export const RANK_TEST_ARE = 3 / Math.PI;

/**
 * Seeds per side for 80% power at the observed effect (its distance from the claimed shift), for the
 * test used. The standardized effect uses the pooled sample SD (two samples) or the SD of the
 * differences (pairs); rank tests scale the t-test's figure by 1 / ARE.
 */
export function seedsFor80Power(test: TestName, a: number[], b: number[], shift: number): number | null {
  if (test === 'fisher') return null;
  const paired = test === 'paired-t' || test === 'wilcoxon';
  if (paired ? a.length < 2 : a.length < 2 || b.length < 2) return null;
  let d: number;
  if (paired) {
    const diffs = a.map((x, i) => x - b[i]!);
    const sd = sampleStandardDeviation(diffs);
    d = (ssMean(diffs) - shift) / sd;
  } else {
    const sd = Math.sqrt((variance(a) + variance(b)) / 2);
    d = (ssMean(a) - ssMean(b) - shift) / sd;
  }
  if (Number.isNaN(d)) return null;
  const n = seedsForPower(d, paired);
  if (n === null || test === 'welch' || test === 'paired-t') return n;
  const scaled = Math.max(MIN_SEEDS_FOR_P05[test], Math.ceil(n / RANK_TEST_ARE));
  return scaled > MAX_SEEDS ? null : scaled;
}
