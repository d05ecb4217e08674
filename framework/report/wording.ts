/**
 * The wording shared by summary.json, report.md, index.html and the terminal: figures as text and the
 * verdict sentences, worded from the statistics. Split from summary.ts, which computes them.
 */
import { matrixValueText, type MatrixCell } from '../config/index.js';
import type { ClaimResult } from './claims.js';
import type { Describe, Interval } from './stats.js';
import type { Comparison, Summary } from './summary.js';

/** `train.optimizer.lr=0.01, model.norm={type:group,groups:4}`: a matrix cell as text. */
export const cellText = (matrix: MatrixCell): string =>
  Object.entries(matrix)
    .map(([k, v]) => `${k}=${matrixValueText(v)}`)
    .join(', ');

/** +25.1 (accuracy difference in percentage points). */
export const fmtPoints = (d: number) => `${d >= 0 ? '+' : '\u2212'}${Math.abs(d * 100).toFixed(1)}`;
export const fmtPct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
export function fmtP(p: number | null): string {
  if (p === null) return 'p = n/a';
  return p < 0.001 ? 'p < 0.001' : `p = ${p.toPrecision(2)}`;
}
export const fmtInterval = (ci: Interval | null, f: (x: number) => string) => (ci ? `${f(ci.low)} to ${f(ci.high)}` : 'n/a');

/** A statistic's CI as text: "n too small" where one seed cannot give one, "(cut at the bounds)" when clamped. */
export const fmtCi = (d: Describe, f: (x: number) => string): string =>
  d.ci95 ? `${fmtInterval(d.ci95, f)}${d.ci95_clamped ? ' (cut at the bounds)' : ''}` : d.n === 1 ? 'n too small (1 seed)' : 'n/a';

/**
 * The verdict of a comparison in one sentence, worded from the statistics: "beats"/"trails" only when
 * Welch's test is significant (p < 0.05), "no significant difference" otherwise, and what the data
 * cannot tell (one seed; no spread at all) said as such. `name` formats user-written names (variants,
 * matrix values) for the target format: identity for plain text, escaping for Markdown/HTML.
 */
export function verdict(c: Comparison, name: (s: string) => string = (s) => s): string {
  const v = name(c.variant);
  const ref = name(c.reference);
  const cell = Object.keys(c.matrix).length ? ` at ${name(cellText(c.matrix))}` : '';
  const a = c.test_accuracy;
  if (c.n === 0) return `${v}${cell} has no finished runs to compare with ${ref}.`;
  if (c.n_reference === 0) return `${ref}${cell} has no finished runs, so ${v} cannot be compared with it.`;
  const pts = `${fmtPoints(a.diff!)} points`;
  const n = `n = ${c.n} vs ${c.n_reference}`;
  if (a.p === null || a.ci95 === null) {
    if (c.n < 2 || c.n_reference < 2)
      return `${v}${cell} vs ${ref}: ${pts} of test accuracy (${n}; no CI or p-value with fewer than two finished runs on a side: add seeds).`;
    // Two or more runs each, yet no test: every seed gave the same accuracy on both sides.
    if (a.diff === 0) return `${v}${cell} matches ${ref}: ${fmtPct(a.mean)} test accuracy on every seed on both sides (${n}, no spread).`;
    return `${v}${cell} vs ${ref}: ${pts} of test accuracy on every seed (${fmtPct(a.mean)} vs ${fmtPct(a.reference_mean)}, ${n}, no spread on either side, so no t-test).`;
  }
  const stats = `(95% CI ${fmtInterval(a.ci95, fmtPoints)}, ${fmtP(a.p)}, Welch t-test, ${n})`;
  if (a.p >= 0.05) return `no significant difference between ${v}${cell} and ${ref}: ${pts} of test accuracy ${stats}.`;
  // The speed clause belongs to a significant gain only: for a loss it would restate the loss.
  const reach =
    a.diff! > 0 && c.epochs_to_reference_accuracy !== null
      ? `; it reaches ${ref}'s final accuracy (${fmtPct(a.reference_mean)}) at epoch ${c.epochs_to_reference_accuracy}${c.reference_epochs ? ` of ${c.reference_epochs}` : ''}`
      : '';
  return `${v}${cell} ${a.diff! > 0 ? 'beats' : 'trails'} ${ref} by ${pts} of test accuracy ${stats}${reach}.`;
}

/** A claim's verdict line for the terminal. */
export const claimLine = (c: ClaimResult): string => `claim ${c.name}: ${c.reason}`;

/**
 * The result in a few plain lines for the terminal: one verdict per comparison, or, in a study
 * with one variant, its accuracy.
 */
export function verdictLines(s: Summary): string[] {
  const claims = (s.claims ?? []).map(claimLine);
  if (s.comparisons.length) return [...claims, ...s.comparisons.map((c) => c.verdict)];
  return [
    ...claims,
    ...s.variants.map((v) => {
      const a = v.final_test_accuracy;
      const ci = a.ci95 ? ` (95% CI ${fmtInterval(a.ci95, (x) => fmtPct(x))})` : '';
      return `${v.group}: test accuracy ${fmtPct(a.mean)}${ci}, n = ${a.n}`;
    }),
  ];
}
