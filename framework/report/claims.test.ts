import { describe as suite, expect, test } from 'vitest';
import type { Hypothesis } from '../config/index.js';
import { evaluateClaims } from './claims.js';
import { holm, pairedTTest, welchTest } from './hypothesis-tests.js';
import { compile } from 'vega-lite';
import { buildHeatmaps } from './heatmaps.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import { buildSummary, finalEpoch, type RunRecord } from './summary.js';
import { studyFixture } from './testing.js';

// The fixture: 3 seeds x {baseline, batchnorm}, 5 epochs; batchnorm ends about 6 points higher.
const input = studyFixture({ withFailed: true });
const finals = (variant: string) =>
  input.runs.filter((r) => r.variant === variant && r.status === 'FINISHED').map((r) => finalEpoch(r)!.test_accuracy);
const acc = (direction: 'higher' | 'lower', extra: Partial<Hypothesis> = {}): Hypothesis => ({
  compare: 'batchnorm',
  against: 'baseline',
  metric: 'test_accuracy',
  direction,
  ...extra,
});

suite('claims: verdicts', () => {
  const claims = evaluateClaims(
    {
      higher: acc('higher'),
      lower: acc('lower'),
      'by-20-points': acc('higher', { min_effect: 0.2 }),
      'by-6-points': acc('higher', { min_effect: 0.06 }),
    },
    input.runs,
  );
  const [higher, lower, by20, by6] = claims;

  test('the figures are those of the test on the runs the sides select (diverged run left out)', () => {
    const w = welchTest(finals('batchnorm'), finals('baseline'));
    expect(higher!.effect).toBeCloseTo(w.effect!, 12);
    expect(higher!.p).toBeCloseTo(w.p!, 12);
    expect(higher!.ci95).toEqual(w.ci95);
    expect(higher!.compare).toMatchObject({ label: 'batchnorm', n: 3, seeds: [1, 2, 3], left_out: 1 });
    expect(higher!.against).toMatchObject({ label: 'baseline', n: 3, left_out: 0 });
    expect(by20!.p).toBeCloseTo(welchTest(finals('batchnorm'), finals('baseline'), 0.2).p!, 12);
  });
  test('Holm over all claims of the study', () => {
    const adj = holm(claims.map((c) => c.p));
    expect(claims.map((c) => c.p_holm)).toEqual(adj);
    expect(higher!.p_holm!).toBeGreaterThan(higher!.p!);
  });
  test('supported, refuted (opposite direction), refuted (short of the minimum), inconclusive', () => {
    expect(claims.map((c) => c.verdict)).toEqual(['supported', 'refuted', 'refuted', 'inconclusive']);
    expect(higher!.reason).toMatch(/^supported: \+\d\.\d points \(95% CI \+[\d.]+ to \+[\d.]+ points; p [<=] [\d.]+, Holm-adjusted p [<=] [\d.]+; Welch t-test, n = 3 vs 3\): significant in the claimed direction; 1 selected run gave no figure/);
    expect(lower!.reason).toMatch(/significantly in the opposite direction/);
    expect(by20!.reason).toMatch(/in the claimed direction but significantly short of the claimed minimum of 20\.0 points/);
    expect(by6!.reason).toMatch(/^inconclusive: .*: not significantly different from the claimed minimum of 6\.0 points at alpha 0\.05; about \d+ seeds per side would give 80% power/);
    expect(higher!.claim).toBe('batchnorm has a higher test accuracy at the final epoch than baseline');
  });
  test('summary.json carries the claims, and survives JSON', () => {
    const s = buildSummary({ ...input, hypotheses: { higher: acc('higher') } });
    expect(s.claims.map((c) => c.verdict)).toEqual(['supported']);
    expect(JSON.parse(JSON.stringify(s.claims))).toEqual(s.claims);
    expect(buildSummary(input).claims).toEqual([]);
  });
});

suite('claims: metrics, tests and designs', () => {
  test('paired by seed', () => {
    const [c] = evaluateClaims({ p: acc('higher', { test: 'paired-t' }) }, input.runs);
    const r = pairedTTest(finals('batchnorm'), finals('baseline'));
    expect(c!.p).toBeCloseTo(r.p!, 12);
    expect(c!.df).toBe(2);
    expect(c!.reason).toMatch(/paired t-test by seed, n = 3 vs 3 pairs/);
  });
  test('Mann-Whitney with 3 seeds a side cannot be significant (p >= 0.1), and says there is no 95% CI', () => {
    const [c] = evaluateClaims({ m: acc('higher', { test: 'mann-whitney' }) }, input.runs);
    expect(c!.p).toBeCloseTo(0.1, 12);
    expect(c!.verdict).toBe('inconclusive');
    expect(c!.reason).toContain('no 95% CI at this sample size');
    expect(c!.seeds_for_80_power).not.toBeNull();
  });
  test('epochs to reach a level, with runs that never reach it counted as epochs + 1', () => {
    const [c] = evaluateClaims({ e: { compare: 'batchnorm', against: 'baseline', metric: 'epochs_to_accuracy', level: 0.8, direction: 'lower' } }, input.runs);
    // baseline ends near 78%: it never reaches 80% -> 6 on every seed
    expect(c!.against).toMatchObject({ mean: 6, censored: 3 });
    expect(c!.compare.mean).toBeLessThan(6);
    expect(c!.reason).toMatch(/3 runs never reached the level \(counted as epochs \+ 1\)/);
  });
  test('generalization gap, best epoch, auc read from the curves', () => {
    const runs = input.runs.filter((r) => r.status === 'FINISHED');
    const [gap, best, auc] = evaluateClaims(
      {
        gap: { compare: 'batchnorm', against: 'baseline', metric: 'generalization_gap', direction: 'lower' },
        best: { compare: 'batchnorm', against: 'baseline', metric: 'test_loss', epoch: 'best', direction: 'lower' },
        auc: { compare: 'batchnorm', against: 'baseline', metric: 'auc', epoch: 3, direction: 'higher' },
      },
      runs,
    );
    const bn = runs.filter((r) => r.variant === 'batchnorm');
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(gap!.compare.mean).toBeCloseTo(mean(bn.map((r) => finalEpoch(r)!.train_accuracy - finalEpoch(r)!.test_accuracy)), 12);
    expect(best!.compare.mean).toBeCloseTo(mean(bn.map((r) => Math.min(...r.epochs.map((e) => e.test_loss)))), 12);
    expect(auc!.compare.mean).toBeCloseTo(mean(bn.map((r) => (r.epochs[0]!.test_accuracy + r.epochs[1]!.test_accuracy + r.epochs[2]!.test_accuracy) / 3)), 12);
  });
  test("divergence rate: Fisher's exact test on diverged vs finished runs", () => {
    const [c] = evaluateClaims({ d: { compare: 'batchnorm', against: 'baseline', metric: 'divergence_rate', direction: 'higher' } }, input.runs);
    expect(c!.test).toBe('fisher');
    expect(c!.compare).toMatchObject({ n: 4, mean: 0.25 });
    expect(c!.against).toMatchObject({ n: 3, mean: 0 });
    expect(c!.p).toBeCloseTo(1, 12);
    expect(c!.verdict).toBe('inconclusive');
  });
  test('pooled groups and matrix cells', () => {
    const base = studyFixture({ seeds: [1, 2, 3] });
    const runs: RunRecord[] = [0.01, 0.1].flatMap((lr) => base.runs.map((r) => ({ ...r, key: `${r.key}-${lr}`, matrix: { 'train.optimizer.lr': lr } })));
    const [pooled, cell, paired] = evaluateClaims(
      {
        pooled: { compare: 'batchnorm', against: 'baseline', metric: 'test_accuracy', direction: 'higher' },
        cell: { compare: { variant: 'batchnorm', matrix: { 'train.optimizer.lr': 0.1 } }, against: { variant: ['baseline'], matrix: { 'train.optimizer.lr': [0.1] } }, metric: 'test_accuracy', direction: 'higher' },
        paired: { compare: 'batchnorm', against: 'baseline', metric: 'test_accuracy', direction: 'higher', test: 'wilcoxon' },
      },
      runs,
    );
    expect(pooled!.compare.n).toBe(6);
    expect(cell!.compare).toMatchObject({ n: 3, label: 'batchnorm [train.optimizer.lr=0.1]' });
    // pairs by (seed, lr): 6 pairs
    expect(paired!.compare.n).toBe(6);
  });
  test('too few runs: inconclusive, and says why', () => {
    const [c] = evaluateClaims({ c: acc('higher') }, studyFixture({ seeds: [1] }).runs);
    expect(c!.p).toBeNull();
    expect(c!.verdict).toBe('inconclusive');
    expect(c!.reason).toMatch(/^inconclusive: too few results to test \(n = 1 vs 1; Welch t-test needs two results on each side\)\.$/);
  });
});

suite('claims and heatmaps in the report', () => {
  const HOSTILE = '<b>x</b> | *y*';
  const s = buildSummary({
    ...input,
    hypotheses: { 'bn-higher': acc('higher', { claim: `BN helps ${HOSTILE}` }), 'bn-lower': acc('lower') },
  });
  test('report.md: the claims table comes first, with verdict, effect, CI, p, Holm p, test, n, power', () => {
    const text = renderMarkdown(s);
    const claims = text.indexOf('## Claims');
    expect(claims).toBeGreaterThan(0);
    expect(claims).toBeLessThan(text.indexOf('## Verdict'));
    const rows = text.split('\n').filter((l) => l.startsWith('| bn-'));
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^\| bn-higher: BN helps .*\| \*\*supported\*\* \| \+\d\.\d points \| \+[\d.]+ to \+[\d.]+ points \| [<\d.]+ [\d.]* ?\| .* \| Welch t \| 3 vs 3 \| \d+ \|$/);
    expect(rows[1]).toContain('**refuted**');
    expect(text).not.toContain('<b>x</b>'); // user text is escaped
  });
  test('index.html: a claims section before the verdict, escaped', () => {
    const page = renderHtml(s);
    expect(page.indexOf('id="claims"')).toBeGreaterThan(0);
    expect(page.indexOf('id="claims"')).toBeLessThan(page.indexOf('id="verdict"'));
    expect(page).toContain('class="claim-supported">supported<');
    expect(page).not.toContain('<b>x</b>');
  });
  test('no hypotheses: no claims section', () => {
    expect(renderMarkdown(buildSummary(input))).not.toContain('## Claims');
    expect(renderHtml(buildSummary(input))).not.toContain('id="claims"');
  });
  test('a variant x lr matrix gets a heatmap that compiles, with diverged cells marked', () => {
    const base = studyFixture({ seeds: [1, 2] });
    const runs: RunRecord[] = [0.01, 0.1, 1].flatMap((lr) =>
      base.runs.map((r) =>
        lr === 1 && r.variant === 'baseline'
          ? { ...r, key: `${r.key}-${lr}`, matrix: { 'train.optimizer.lr': lr }, status: 'FAILED' as const, reason: 'training loss became NaN at epoch 1, step 3 (lr 1)' }
          : { ...r, key: `${r.key}-${lr}`, matrix: { 'train.optimizer.lr': lr } },
      ),
    );
    const m = buildSummary({ ...base, runs });
    expect(buildHeatmaps(buildSummary(base))).toEqual([]);
    const [hm] = buildHeatmaps(m);
    const values = (hm!.spec as { data: { values: { row: string; col: string; mean: number | null; label: string }[] } }).data.values;
    expect(values).toHaveLength(6);
    const dead = values.find((v) => v.row === 'baseline' && v.col === '1')!;
    expect(dead).toMatchObject({ mean: null, label: '✕ diverged 2/2' });
    const ok = values.find((v) => v.row === 'batchnorm' && v.col === '0.01')!;
    const bn = runs.filter((r) => r.variant === 'batchnorm' && r.matrix['train.optimizer.lr'] === 0.01).map((r) => finalEpoch(r)!.test_accuracy);
    expect(ok.mean).toBeCloseTo((bn[0]! + bn[1]!) / 2, 12);
    expect(ok.label).toBe(`${(ok.mean! * 100).toFixed(1)}%`);
    const warnings: string[] = [];
    const logger = { level: () => logger, warn: (...a: unknown[]) => warnings.push(a.join(' ')), info: () => {}, debug: () => {}, error: (...a: unknown[]) => warnings.push(a.join(' ')) };
    expect(() => compile(hm!.spec, { logger: logger as never })).not.toThrow();
    expect(warnings).toEqual([]);
    expect(renderHtml(m)).toContain('id="heatmap-0"');
  });
});

suite('claims on probes', () => {
  // fc2/ics after each epoch (step 0 is the initial model); batchnorm's is larger on every seed
  const withProbes = input.runs.map((r, i) => ({
    ...r,
    probes: { 'fc2/ics': [[0, 9], [100, (r.variant === 'batchnorm' ? 2 : 1) + i * 0.01], [200, (r.variant === 'batchnorm' ? 4 : 1) + i * 0.02]] as [number, number][] },
  }));
  const probe = (epoch: Hypothesis['epoch']): Hypothesis => ({ compare: 'batchnorm', against: 'baseline', metric: 'probe', probe: 'fc2/ics', direction: 'higher', ...(epoch ? { epoch } : {}) });
  const [final, first] = evaluateClaims({ final: probe(undefined), first: probe(1) }, withProbes);
  const values = (variant: string, k: number) =>
    withProbes.filter((r) => r.variant === variant && r.status === 'FINISHED').map((r) => r.probes['fc2/ics'][k]![1]);

  test('the probe after the epoch (final: the last probe), tested like any figure', () => {
    const wf = welchTest(values('batchnorm', 2), values('baseline', 2));
    expect(final!.effect).toBeCloseTo(wf.effect!, 12);
    expect(final!.p).toBeCloseTo(wf.p!, 12);
    expect(final!.probe).toBe('fc2/ics');
    expect(final!.claim).toBe('batchnorm has a higher probe fc2/ics at the final epoch than baseline');
    const w1 = welchTest(values('batchnorm', 1), values('baseline', 1));
    expect(first!.effect).toBeCloseTo(w1.effect!, 12);
    expect(first!.verdict).toBe('supported');
  });

  test('runs without probes give no figure', () => {
    const [c] = evaluateClaims({ c: probe(undefined) }, input.runs);
    expect(c!.compare.n).toBe(0);
    expect(c!.verdict).toBe('inconclusive');
  });
});
