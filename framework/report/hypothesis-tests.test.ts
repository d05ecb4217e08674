/**
 * The claim tests against known figures: scipy 1.17 (scipy.stats.ttest_ind/ttest_rel/mannwhitneyu/
 * wilcoxon/fisher_exact, scipy.stats.nct for power), and published worked examples: Hollander & Wolfe
 * (1973) pp. 29 and 69 (the examples in R's wilcox.test help), Newcombe (1998) Table II, Cohen (1988)
 * Table 2.4.1, Holm (1979) as worked on Wikipedia's "Holm-Bonferroni method" page.
 */
import { describe as suite, expect, test } from 'vitest';
import {
  fisherTest,
  holm,
  mannWhitneyTest,
  pairedTTest,
  seedsFor80Power,
  seedsForPower,
  seedsForRatePower,
  tTestPower,
  welchTest,
  wilcoxonTest,
  wilson,
} from './hypothesis-tests.js';

// The seed study's final test accuracies (reports/bn-vs-baseline, seeds 1-3).
const baseline = [0.5899, 0.5908, 0.4722];
const batchnorm = [0.8282, 0.8286, 0.8259];

suite('t tests (scipy 1.17)', () => {
  test("Welch's t of the seed study", () => {
    const r = welchTest(batchnorm, baseline);
    expect(r.statistic).toBeCloseTo(7.021520892378839, 9);
    expect(r.df).toBeCloseTo(2.0018252105973096, 9);
    expect(r.p).toBeCloseTo(0.019638649134802868, 9);
    expect(r.ci95!.low).toBeCloseTo(0.10725285819106772, 9);
    expect(r.ci95!.high).toBeCloseTo(0.4459471418089324, 9);
    expect(r.effect).toBeCloseTo(0.27660000000000007, 12);
  });
  test('Welch against a minimum effect: H0 diff = 0.30 is ttest_ind(a - 0.30, b)', () => {
    const r = welchTest(batchnorm, baseline, 0.3);
    expect(r.statistic).toBeCloseTo(-0.5940115288563437, 9);
    expect(r.p).toBeCloseTo(0.612696209743686, 8);
    expect(r.effect).toBeCloseTo(0.2766, 9); // the effect is not shifted, only the null
  });
  test('paired t by seed', () => {
    const r = pairedTTest(batchnorm, baseline);
    expect(r.statistic).toBeCloseTo(7.17504698376404, 9);
    expect(r.df).toBe(2);
    expect(r.p).toBeCloseTo(0.018876281668940606, 9);
    expect(r.ci95!.low).toBeCloseTo(0.11073157464449582, 9);
    expect(r.ci95!.high).toBeCloseTo(0.44246842535550424, 9);
  });
  test('no spread on either side: identical sides are p = 1, different constants p = 0 (the limit), never NaN', () => {
    const same = welchTest([1, 1, 1], [1, 1, 1]);
    expect(same).toMatchObject({ effect: 0, p: 1, method: 'degenerate' });
    expect(welchTest([1, 1, 1], [0.9, 0.9, 0.9])).toMatchObject({ p: 0, method: 'degenerate' });
    expect(welchTest([1], [0.5, 0.6]).p).toBeNull();
    expect(JSON.parse(JSON.stringify(same))).toEqual(same);
  });
});

suite('rank tests', () => {
  // Hollander & Wolfe (1973) p. 69: permeability constants; R: W = 35, p = 0.1272 (greater), scipy the same.
  const x = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
  const y = [1.15, 0.88, 0.9, 0.74, 1.21];
  test('Mann-Whitney U, exact (Hollander & Wolfe p. 69)', () => {
    const r = mannWhitneyTest(x, y);
    expect(r.method).toBe('exact');
    expect(r.statistic).toBe(35);
    expect(r.p).toBeCloseTo(0.2544122544122544, 12); // two-sided = 2 x R's one-sided 0.1272
    expect(r.effect).toBeCloseTo(0.305, 12); // Hodges-Lehmann: median of the 50 differences
  });
  test('Mann-Whitney with a shift is the test of a - shift vs b (scipy)', () => {
    expect(mannWhitneyTest(x, y, 0.2).p).toBeCloseTo(0.594072594072594, 12);
  });
  test('Mann-Whitney with ties: normal approximation with tie and continuity correction (scipy)', () => {
    const r = mannWhitneyTest([1, 2, 2, 3, 4, 5, 9], [2, 3, 3, 6, 7, 8, 8, 10]);
    expect(r.method).toBe('normal');
    expect(r.statistic).toBe(16);
    expect(r.p).toBeCloseTo(0.1796960399711115, 10);
  });
  test('3 vs 3 seeds: the smallest possible two-sided p is 0.1, and no 95% CI exists', () => {
    const r = mannWhitneyTest(batchnorm, baseline);
    expect(r.statistic).toBe(9);
    expect(r.p).toBeCloseTo(0.1, 12);
    expect(r.ci95).toBeNull();
  });
  test('the distribution-free CI: 5 vs 5 uses the 3rd smallest and 3rd largest difference (P(U <= 2) = 4/252)', () => {
    const a = [10, 12, 15, 17, 20];
    const b = [1, 4, 9, 11, 30];
    const diffs = a.flatMap((u) => b.map((v) => u - v)).sort((p, q) => p - q);
    const r = mannWhitneyTest(a, b);
    expect(r.ci95).toEqual({ low: diffs[2], high: diffs[22] });
  });
  // Hollander & Wolfe (1973) p. 29: Hamilton depression scale; R: V = 40, p = 0.01953 (greater).
  const hx = [1.83, 0.5, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.3];
  const hy = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29];
  test('Wilcoxon signed-rank, exact (Hollander & Wolfe p. 29)', () => {
    const r = wilcoxonTest(hx, hy);
    expect(r.method).toBe('exact');
    expect(r.statistic).toBe(40);
    expect(r.p).toBeCloseTo(0.0390625, 12);
    expect(r.effect).toBeCloseTo(0.46, 12); // median of the 45 Walsh averages
  });
  test('Wilcoxon with ties: normal approximation with tie correction (scipy method="approx")', () => {
    const d = [1, 1, 2, 3, -1, 4, 5, 2, 6, -2, 3];
    const r = wilcoxonTest(d, d.map(() => 0));
    expect(r.method).toBe('normal');
    expect(r.p).toBeCloseTo(0.020231306339527272, 10);
  });
  test('Wilcoxon of 3 pairs: p = 0.25 at best', () => {
    expect(wilcoxonTest(batchnorm, baseline).p).toBeCloseTo(0.25, 12);
  });
});

suite('rates', () => {
  test("Fisher's exact test (scipy)", () => {
    expect(fisherTest(8, 10, 1, 6).p).toBeCloseTo(0.034965034965034975, 12);
    expect(fisherTest(8, 10, 1, 6).statistic).toBeCloseTo(20, 12);
    expect(fisherTest(3, 3, 0, 3).p).toBeCloseTo(0.1, 12);
    expect(fisherTest(0, 3, 0, 3).p).toBeCloseTo(1, 12);
  });
  test("Newcombe's hybrid score CI of a difference of rates (Newcombe 1998, Table II, example a: 56/70 - 48/80)", () => {
    const r = fisherTest(56, 70, 48, 80);
    expect(r.effect).toBeCloseTo(0.2, 12);
    expect(r.ci95!.low).toBeCloseTo(0.0524, 4);
    expect(r.ci95!.high).toBeCloseTo(0.3339, 4);
  });
  test('Wilson interval stays in [0, 1]', () => {
    expect(wilson(3, 3).high).toBe(1);
    expect(wilson(0, 3).low).toBe(0);
  });
});

suite('Holm', () => {
  test('textbook example: p = 0.01, 0.04, 0.03, 0.005 -> adjusted 0.03, 0.06, 0.06, 0.02', () => {
    const adj = holm([0.01, 0.04, 0.03, 0.005]);
    expect(adj[0]).toBeCloseTo(0.03, 12);
    expect(adj[1]).toBeCloseTo(0.06, 12);
    expect(adj[2]).toBeCloseTo(0.06, 12);
    expect(adj[3]).toBeCloseTo(0.02, 12);
    // at alpha 0.05: the two smallest are rejected, the others not (Holm's step-down stops at 0.03 > 0.05/2)
    expect(adj.map((p) => p! < 0.05)).toEqual([true, false, false, true]);
  });
  test('capped at 1, nulls kept and not counted', () => {
    expect(holm([0.6, null, 0.9])).toEqual([1, null, 1]);
    expect(holm([0.02])).toEqual([0.02]);
  });
});

suite('seeds for 80% power (Cohen 1988 Table 2.4.1; scipy.stats.nct)', () => {
  test('two samples, two-sided alpha 0.05: d = 0.2, 0.5, 0.8 need 394, 64, 26 per group', () => {
    expect(seedsForPower(0.5, false)).toBe(64);
    expect(seedsForPower(0.8, false)).toBe(26);
    expect(seedsForPower(0.2, false)).toBe(394);
    expect(seedsForPower(-0.5, false)).toBe(64);
  });
  test('power figures (scipy nct): n = 64 and 63 at d = 0.5', () => {
    expect(tTestPower(64, 0.5, false)).toBeCloseTo(0.8014595579222541, 6);
    expect(tTestPower(63, 0.5, false)).toBeCloseTo(0.795168338123338, 6);
  });
  test('pairs: d = 0.5 needs 34; large effects a few seeds', () => {
    expect(seedsForPower(0.5, true)).toBe(34);
    expect(seedsForPower(2, false)).toBe(6);
    expect(seedsForPower(5, false)).toBe(3);
    expect(seedsForPower(0, false)).toBeNull();
  });
  test('from samples: the seed study would need 2 seeds a side for Welch; a rank test at least the 4 that can reach p < 0.05', () => {
    // d = 0.2766 / pooled SD 0.04825 = 5.733; scipy nct: power 0.8086 at n = 2
    expect(seedsFor80Power('welch', batchnorm, baseline, 0)).toBe(2);
    expect(seedsFor80Power('mann-whitney', batchnorm, baseline, 0)).toBe(4);
    expect(seedsFor80Power('wilcoxon', batchnorm, baseline, 0)).toBe(6);
    // a small effect: the t figure scaled by pi/3 (ARE): d = 0.5 -> 64 -> 68
    const a = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const sd = Math.sqrt(a.reduce((s, x) => s + (x - 4.5) ** 2, 0) / 9);
    expect(seedsFor80Power('mann-whitney', a.map((x) => x + 0.5 * sd), a, 0)).toBe(Math.ceil(64 * (Math.PI / 3)));
    // at the claimed minimum effect itself there is nothing to detect
    expect(seedsFor80Power('welch', [1, 2, 3], [0, 1, 2], 1)).toBeNull();
  });
  test("rates: Cohen's h", () => {
    // h = 2 asin(sqrt .5) - 2 asin(sqrt .2) = 0.6435; n = ((1.96 + 0.8416) / h)^2 = 18.95 -> 19
    expect(seedsForRatePower(0.5, 0.2)).toBe(19);
    expect(seedsForRatePower(0.3, 0.3)).toBeNull();
  });
});
