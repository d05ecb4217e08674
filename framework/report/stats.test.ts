import { describe as suite, expect, test } from 'vitest';
import { describe, epochsToReach, tQuantile, tTwoSidedP, welch } from './stats.js';

suite('t distribution (textbook table values)', () => {
  test('two-sided 95% quantiles', () => {
    expect(tQuantile(0.975, 1)).toBeCloseTo(12.706, 3);
    expect(tQuantile(0.975, 2)).toBeCloseTo(4.303, 3);
    expect(tQuantile(0.975, 10)).toBeCloseTo(2.228, 3);
    expect(tQuantile(0.975, 1e6)).toBeCloseTo(1.96, 2);
  });
  test('p-values', () => {
    expect(tTwoSidedP(2.228, 10)).toBeCloseTo(0.05, 3);
    expect(tTwoSidedP(-4.303, 2)).toBeCloseTo(0.05, 3);
    expect(tTwoSidedP(0, 5)).toBeCloseTo(1, 6);
    // scipy 2 * t.sf(t, df): tiny p-values keep their relative precision
    expect(tTwoSidedP(12, 4) / 2.76428548503e-4).toBeCloseTo(1, 9);
    expect(tTwoSidedP(50, 10) / 2.47431032930e-13).toBeCloseTo(1, 9);
  });
  test('df must be positive', () => {
    expect(() => tQuantile(0.975, 0)).toThrow(RangeError);
  });
});

suite('describe', () => {
  test('mean, sample std and t-based CI of three seeds', () => {
    const d = describe([0.8412, 0.8453, 0.8398]);
    expect(d.n).toBe(3);
    expect(d.mean).toBeCloseTo(0.8421, 10);
    expect(d.std).toBeCloseTo(0.0028583212, 9); // n - 1 in the denominator
    expect(d.ci95!.low).toBeCloseTo(0.8349995366, 9);
    expect(d.ci95!.high).toBeCloseTo(0.8492004634, 9);
    expect([d.min, d.max]).toEqual([0.8398, 0.8453]);
  });
  test('one value: mean only, null (not NaN) spread', () => {
    const d = describe([0.9]);
    expect(d).toEqual({ n: 1, excluded: 0, mean: 0.9, std: null, ci95: null, min: 0.9, max: 0.9 });
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
  });
  test('no values, and non-finite values are excluded and counted', () => {
    expect(describe([]).mean).toBeNull();
    const d = describe([1, Number.NaN, 3, Number.POSITIVE_INFINITY]);
    expect(d.n).toBe(2);
    expect(d.excluded).toBe(2);
    expect(d.mean).toBe(2);
  });
});

suite("Welch's t-test", () => {
  // Wikipedia, "Welch's t-test", example 1: t = -2.46, df = 24.99, p = 0.021 (checked with scipy 1.17).
  const a1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
  const a2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
  test('worked example', () => {
    const w = welch(a1, a2);
    expect(w.t).toBeCloseTo(-2.455356, 5);
    expect(w.df).toBeCloseTo(24.98853, 4);
    expect(w.p).toBeCloseTo(0.021378, 5);
    expect(w.diff).toBeCloseTo(-2.1666667, 6);
    expect(w.ci95!.low).toBeCloseTo(-3.984096, 5);
    expect(w.ci95!.high).toBeCloseTo(-0.349237, 5);
  });
  test('antisymmetric', () => {
    const w = welch(a2, a1);
    expect(w.t).toBeCloseTo(2.455356, 5);
    expect(w.p).toBeCloseTo(0.021378, 5);
  });
  test('unequal sizes and variances', () => {
    // scipy.stats.ttest_ind([1,2,3,4], [2,4,6,8,10,12], equal_var=False): t = -2.713602, df = 6.594671, p = 0.0318244
    const w = welch([1, 2, 3, 4], [2, 4, 6, 8, 10, 12]);
    expect(w.t).toBeCloseTo(-2.713602, 5);
    expect(w.df).toBeCloseTo(6.594671, 5);
    expect(w.p).toBeCloseTo(0.0318244, 6);
  });
  test('undefined cases are null, not NaN', () => {
    expect(welch([0.9], [0.8, 0.81])).toEqual({ diff: 0.9 - 0.805, se: null, t: null, df: null, p: null, ci95: null });
    expect(welch([0.5, 0.5], [0.5, 0.5]).p).toBeNull();
    expect(welch([], [1, 2]).diff).toBeNull();
  });
});

test('epochs to reach a target', () => {
  const curve = [
    { epoch: 1, mean: 0.7 },
    { epoch: 2, mean: 0.82 },
    { epoch: 3, mean: 0.85 },
  ];
  expect(epochsToReach(curve, 0.82)).toBe(2);
  expect(epochsToReach(curve, 0.9)).toBeNull();
  expect(epochsToReach(curve, null)).toBeNull();
});

suite('bounded metrics (issue 11: accuracy CIs never outside 0-100%)', () => {
  test('a t interval past the bounds is cut and flagged; inside, it is untouched', () => {
    const near = describe([0.93, 0.999], [0, 1]);
    expect(near.ci95!.high).toBe(1);
    expect(near.ci95!.low).toBeGreaterThan(0);
    expect(near.ci95_clamped).toBe(true);
    const unbounded = describe([0.93, 0.999]);
    expect(unbounded.ci95!.high).toBeGreaterThan(1);
    expect(unbounded.ci95_clamped).toBeUndefined();
    const inside = describe([0.5, 0.51, 0.52], [0, 1]);
    expect(inside.ci95).toEqual(describe([0.5, 0.51, 0.52]).ci95);
    expect(inside.ci95_clamped).toBeUndefined();
  });
  test('a difference of accuracies stays within -1..1', () => {
    const w = welch([0.99, 0.2], [0.1, 0.12], [0, 1]);
    expect(w.ci95!.high).toBeLessThanOrEqual(1);
    expect(w.ci95!.low).toBeGreaterThanOrEqual(-1);
  });
});
