/** README.md's "What bnx finds" is the committed reports' claims, figure for figure. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PACKAGE_ROOT } from '../util/paths.js';
import { FINDINGS_END, FINDINGS_START, findingsMarkdown, readResultSummaries, withFindings } from './findings.js';

describe('README findings', () => {
  const studies = readResultSummaries(join(PACKAGE_ROOT, 'results'));
  const readme = readFileSync(join(PACKAGE_ROOT, 'README.md'), 'utf8');

  test('the README block is generated from results/*/summary.json (run `npm run findings` after committing a report)', () => {
    const block = readme.slice(readme.indexOf(FINDINGS_START), readme.indexOf(FINDINGS_END) + FINDINGS_END.length);
    expect(block).toBe(findingsMarkdown(studies));
  });

  test('every committed claim is in it with its verdict and Holm p', () => {
    const block = findingsMarkdown(studies);
    const claims = studies.flatMap((s) => s.summary.claims);
    expect(claims.length).toBeGreaterThan(10);
    for (const c of claims) expect(block).toContain(`| **${c.verdict}** |`);
    expect(block.split('\n').filter((l) => /\| \*\*(supported|refuted|inconclusive)\*\* \|/.test(l))).toHaveLength(claims.length);
  });

  test('withFindings replaces only the block, and refuses a README without one', () => {
    expect(withFindings(`a\n${FINDINGS_START}\nold\n${FINDINGS_END}\nb`, 'NEW')).toBe('a\nNEW\nb');
    expect(() => withFindings('no block', 'NEW')).toThrow(/no findings block/);
  });
});
