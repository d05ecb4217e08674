/**
 * The claims table, first in report.md and index.html: one row per claim with its verdict, effect,
 * CI, p (raw and Holm-adjusted), test, seeds, and the seeds per side for 80% power. `name` escapes
 * user-written text for the target format; numbers are formatted here only.
 */
import { fmtEffect, fmtEffectCi, fmtPValue, type ClaimResult } from './claims.js';

export const CLAIM_HEAD = ['Claim', 'Verdict', 'Effect (compare − against)', '95% CI', 'p', 'p (Holm)', 'Test', 'n', 'Seeds for 80% power'];

const TEST_SHORT: Record<ClaimResult['test'], string> = {
  welch: 'Welch t',
  'paired-t': 'paired t',
  'mann-whitney': 'Mann-Whitney U',
  wilcoxon: 'Wilcoxon signed-rank',
  fisher: 'Fisher exact',
};

export function claimRows(claims: ClaimResult[], name: (s: string) => string, verdictCell: (c: ClaimResult) => string = (c) => c.verdict): string[][] {
  return claims.map((c) => [
    `${name(c.name)}: ${name(c.claim)}`,
    verdictCell(c),
    c.effect === null ? 'n/a' : fmtEffect(c.metric, c.effect),
    c.ci95 ? fmtEffectCi(c.metric, c.ci95) : 'n/a',
    fmtPValue(c.p),
    fmtPValue(c.p_holm),
    TEST_SHORT[c.test],
    `${c.compare.n} vs ${c.against.n}`,
    c.seeds_for_80_power === null ? 'n/a' : String(c.seeds_for_80_power),
  ]);
}

/** How the verdicts are reached, one paragraph for both renderers. */
export const CLAIMS_NOTE =
  'Each claim is tested across seeds (two-sided, H0: the difference equals the claimed minimum, 0 by default) and all claims of the study are corrected together with Holm\'s method. ' +
  'Supported: Holm-adjusted p < 0.05 with the estimate beyond the minimum in the claimed direction. ' +
  'Refuted: Holm-adjusted p < 0.05 with the estimate short of it (the opposite direction, or significantly less than the claimed minimum). ' +
  'Inconclusive: otherwise. CIs are unadjusted 95% intervals; the power column is seeds per side (pairs for paired tests) that would give 80% power at the observed effect.';
