import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mean, sampleStandardDeviation } from 'simple-statistics';
import { compile } from 'vega-lite';
import { afterAll, describe as suite, expect, test } from 'vitest';
import { UserError } from '../util/errors.js';
import { axisFormat, buildCharts } from './charts.js';
import { CLIENT_JS } from './client.js';
import { escapeMd, jsonForScript } from './escape.js';
import { buildSummary, finalEpoch, renderHtml, renderMarkdown, verdictLines, welch, writeReport, type RunRecord, type StudyInput } from './index.js';
import { buildTinyOnnx, FASHION_CLASSES, studyFixture, syntheticImages } from './testing.js';

const HOSTILE = '<img src=x onerror=alert(1)> | *x*';
const NOW = new Date('2026-02-03T04:05:06Z');
const work = mkdtempSync(join(tmpdir(), 'bnx-report-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const finals = (input: StudyInput, variant: string) =>
  input.runs.filter((r) => r.variant === variant && r.status === 'FINISHED').map((r) => finalEpoch(r)!.test_accuracy);

suite('buildSummary from a stored study (3 seeds x 2 variants x 5 epochs, one failed run)', () => {
  const input = studyFixture({ withFailed: true });
  const s = buildSummary(input, { now: NOW });

  test('groups, counts and the contract fields', () => {
    expect(s.schema_version).toBe(1);
    expect(s.experiment).toBe('bn-vs-baseline');
    expect(s.generated_at).toBe(NOW.toISOString());
    expect(s.reference).toBe('baseline');
    expect(s.runs).toBe(input.runs);
    expect(s.variants.map((v) => v.group)).toEqual(['baseline', 'batchnorm']);
    const bn = s.variants[1]!;
    expect(bn.runs).toEqual({ total: 4, finished: 3, failed: 1, killed: 0, running: 0, planned: 0 });
    expect(bn.seeds).toEqual([1, 2, 3]); // the failed run is counted, not averaged
    expect(bn.epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(bn.epochs.every((e) => e.test_accuracy.n === 3)).toBe(true);
  });

  test('figures equal an independent computation', () => {
    const bnFinals = finals(input, 'batchnorm');
    const bn = s.variants[1]!;
    expect(bn.final_test_accuracy.mean).toBeCloseTo(mean(bnFinals), 12);
    expect(bn.final_test_accuracy.std).toBeCloseTo(sampleStandardDeviation(bnFinals), 12);
    const half = 4.302652729749462 * (sampleStandardDeviation(bnFinals) / Math.sqrt(3));
    expect(bn.final_test_accuracy.ci95!.low).toBeCloseTo(mean(bnFinals) - half, 10);
    const secs = input.runs.filter((r) => r.variant === 'batchnorm' && r.status === 'FINISHED').map((r) => r.seconds!);
    expect(bn.seconds_per_run.mean).toBeCloseTo(mean(secs), 12);
    const e2 = input.runs.filter((r) => r.variant === 'batchnorm' && r.status === 'FINISHED').map((r) => r.epochs[1]!.train_loss);
    expect(bn.epochs[1]!.train_loss.mean).toBeCloseTo(mean(e2), 12);
  });

  test('comparison with the reference', () => {
    expect(s.comparisons).toHaveLength(1);
    const c = s.comparisons[0]!;
    const w = welch(finals(input, 'batchnorm'), finals(input, 'baseline'));
    expect(c.variant).toBe('batchnorm');
    expect(c.reference).toBe('baseline');
    expect(c.test_accuracy.diff).toBeCloseTo(w.diff!, 12);
    expect(c.test_accuracy.p).toBeCloseTo(w.p!, 12);
    expect(c.test_accuracy.df).toBeGreaterThan(2);
    expect(c.test_accuracy.diff).toBeGreaterThan(0.05); // the fixture's BN ends ~6 points higher
    expect(c.test_accuracy.p).toBeLessThan(0.01);
    // The BN curve passes baseline's final mean early.
    const refFinal = s.variants[0]!.final_test_accuracy.mean!;
    const firstAbove = s.variants[1]!.epochs.find((e) => e.test_accuracy.mean! >= refFinal)!.epoch;
    expect(c.epochs_to_reference_accuracy).toBe(firstAbove);
    expect(firstAbove).toBeLessThan(5);
    expect(c.reference_epochs).toBe(5);
    expect(c.seconds_per_run.ratio).toBeGreaterThan(1);
    expect(c.verdict).toMatch(/^batchnorm beats baseline by \+\d+\.\d points of test accuracy \(95% CI \+[\d.]+ to \+[\d.]+, p [<=] [\d.]+, Welch t-test, n = 3 vs 3\); it reaches baseline's final accuracy \([\d.]+%\) at epoch \d of 5\.$/);
  });

  test('ONNX parity', () => {
    const o = s.variants[0]!.onnx!;
    expect(o.n).toBe(3);
    expect(o.max_abs_diff).toBe(Math.max(...input.runs.filter((r) => r.variant === 'baseline').map((r) => r.onnx!.max_abs_diff)));
    expect(o.max_accuracy_gap).toBe(0);
    expect(o.min_prediction_agreement).toBe(1);
  });

  test('survives JSON: NaN becomes null, nothing else changes', () => {
    const back = JSON.parse(JSON.stringify(s)) as typeof s;
    expect(back.variants).toEqual(s.variants);
    expect(back.comparisons).toEqual(s.comparisons);
    expect(back.runs.at(-1)!.epochs[0]!.test_loss).toBeNull();
  });

  test('a configured reference flips the comparison', () => {
    const t = buildSummary({ ...input, reference: 'batchnorm' }, { now: NOW });
    expect(t.comparisons[0]!.variant).toBe('baseline');
    expect(t.comparisons[0]!.test_accuracy.diff).toBeCloseTo(-s.comparisons[0]!.test_accuracy.diff!, 12);
    expect(t.comparisons[0]!.verdict).toMatch(/^baseline trails batchnorm by −/);
    expect(t.comparisons[0]!.epochs_to_reference_accuracy).toBeNull();
    // It trails significantly: the verdict says so, and no "reaches"/"never reaches" clause restates it.
    expect(t.comparisons[0]!.verdict).not.toMatch(/reach/);
  });

  test('an unknown reference is a UserError naming the variants', () => {
    expect(() => buildSummary({ ...input, reference: 'bn' })).toThrow(UserError);
    expect(() => buildSummary({ ...input, reference: 'bn' })).toThrow(/"bn" is not a variant/);
  });
});

test('one seed: no spread, CI or p-value (null, never NaN), and the verdict says so', () => {
  const s = buildSummary(studyFixture({ seeds: [1] }), { now: NOW });
  const v = s.variants[0]!;
  expect(v.final_test_accuracy.std).toBeNull();
  expect(v.final_test_accuracy.ci95).toBeNull();
  const c = s.comparisons[0]!;
  expect(c.test_accuracy.p).toBeNull();
  expect(c.test_accuracy.diff).not.toBeNull();
  expect(c.verdict).toContain('add seeds');
  expect(JSON.stringify(s)).not.toMatch(/NaN/);
  expect(renderMarkdown(s)).toContain('n/a');
});

suite('verdicts worded from the statistics (issue 11)', () => {
  const withFinals = (finals: Record<string, number[]>): StudyInput => {
    const base = studyFixture();
    const runs = base.runs.map((r) => {
      const v = finals[r.variant]![r.seed - 1]!;
      return { ...r, epochs: r.epochs.map((e, i, all) => (i === all.length - 1 ? { ...e, test_accuracy: v } : e)) };
    });
    return { ...base, runs };
  };
  test('a -0.1 point, p = 0.78 difference is "no significant difference (p = 0.78)", not "never reaches" (the issue saw p = 0.65)', () => {
    // Welch: diff = -0.001, t = -0.307, p = 0.7766 (scipy.stats.ttest_ind(..., equal_var=False))
    const s = buildSummary(withFinals({ baseline: [0.80, 0.803, 0.806], batchnorm: [0.7975, 0.8015, 0.807] }), { now: NOW });
    const v = s.comparisons[0]!.verdict;
    expect(s.comparisons[0]!.test_accuracy.p).toBeGreaterThan(0.05);
    expect(v).toMatch(/^no significant difference between batchnorm and baseline: −0\.1 points of test accuracy \(95% CI −[\d.]+ to \+[\d.]+, p = 0\.78, Welch t-test, n = 3 vs 3\)\.$/);
    expect(v).not.toMatch(/reach|seeds/);
  });
  test('zero spread on both sides (both 100%) is a match, not "add seeds"', () => {
    const s = buildSummary(withFinals({ baseline: [1, 1, 1], batchnorm: [1, 1, 1] }), { now: NOW });
    expect(s.comparisons[0]!.verdict).toBe('batchnorm matches baseline: 100.0% test accuracy on every seed on both sides (n = 3 vs 3, no spread).');
    const d = buildSummary(withFinals({ baseline: [0.9, 0.9, 0.9], batchnorm: [1, 1, 1] }), { now: NOW });
    expect(d.comparisons[0]!.verdict).toMatch(/^batchnorm vs baseline: \+10\.0 points of test accuracy on every seed \(100\.0% vs 90\.0%, n = 3 vs 3, no spread on either side, so no t-test\)\.$/);
  });
});

test('matrix studies compare within each cell', () => {
  const base = studyFixture({ seeds: [1, 2] });
  const runs: RunRecord[] = [0.01, 0.1].flatMap((lr) =>
    base.runs.map((r) => ({ ...r, key: `${r.key}-${lr}`, matrix: { 'train.optimizer.lr': lr } })),
  );
  const s = buildSummary({ ...base, runs }, { now: NOW });
  expect(s.variants.map((v) => v.group)).toEqual([
    'baseline [train.optimizer.lr=0.01]',
    'batchnorm [train.optimizer.lr=0.01]',
    'baseline [train.optimizer.lr=0.1]',
    'batchnorm [train.optimizer.lr=0.1]',
  ]);
  expect(s.comparisons.map((c) => [c.group, c.reference_group])).toEqual([
    ['batchnorm [train.optimizer.lr=0.01]', 'baseline [train.optimizer.lr=0.01]'],
    ['batchnorm [train.optimizer.lr=0.1]', 'baseline [train.optimizer.lr=0.1]'],
  ]);
  expect(s.comparisons[0]!.verdict).toMatch(/^batchnorm at train\.optimizer\.lr=0\.01 beats baseline/);
  expect(s.variants.every((v) => v.final_test_accuracy.n === 2)).toBe(true);
});

test('verdict lines for the terminal', () => {
  const two = buildSummary(studyFixture(), { now: NOW });
  expect(verdictLines(two)).toEqual([two.comparisons[0]!.verdict]);
  const one = buildSummary(studyFixture({ variants: ['solo'] }), { now: NOW });
  expect(one.comparisons).toEqual([]);
  expect(verdictLines(one)).toEqual([expect.stringMatching(/^solo: test accuracy \d+\.\d% \(95% CI \d+\.\d% to \d+\.\d%\), n = 3$/)]);
  expect(renderMarkdown(one)).toContain('Only one variant: nothing to compare.');
});

suite('renderers', () => {
  const input = studyFixture({ variants: ['baseline', HOSTILE], withFailed: true });
  input.description = 'Hostile: </script><script>alert(2)</script>\nsecond line | pipe';
  input.runs.at(-1)!.reason = 'boom | <b>bad</b>';
  const s = buildSummary(input, { now: NOW });

  test('report.md: verdict, tables with intact columns, escaped user strings', () => {
    const md = renderMarkdown(s);
    expect(md).toContain('# Study report: bn-vs-baseline');
    expect(md).toContain(`- ${escapeMd(HOSTILE)} beats baseline by +`);
    const prose = md.replace(/`[^`]*`/g, ''); // code spans show their text literally
    expect(prose).not.toMatch(/(?<!\\)<img/);
    expect(prose).not.toMatch(/(?<!\\)<script>/);
    expect(md).toContain('\\<img src=x onerror=alert(1)\\> \\| \\*x\\*');
    expect(md).toContain('**Approximate split:**');
    // Every row of every table has as many cells as its header (no pipe leaked from a user string).
    const lines = md.split('\n');
    const cells = (l: string) => l.replace(/\\\|/g, '').split('|').length;
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i]!.startsWith('|---')) continue;
      const n = cells(lines[i - 1]!);
      for (let j = i + 1; j < lines.length && lines[j]!.startsWith('|'); j++) expect(cells(lines[j]!), lines[j]).toBe(n);
    }
    expect(md.split('## Variants')[1]!.split('\n## ')[0]!.split('\n').filter((l) => l.startsWith('| ')).length).toBe(3);
  });

  test('index.html: escaped text, inert JSON, compiled charts', () => {
    const html = renderHtml(s);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html.match(/<\/script>/g)!.length).toBe(html.match(/<script/g)!.length);
    expect(html).toContain('boom | &lt;b&gt;bad&lt;/b&gt;');
    const json = html.split('<script type="application/json" id="bnx-data">')[1]!.split('</script>')[0]!;
    const data = JSON.parse(json) as { charts: { id: string }[]; demo: null };
    expect(data.charts.map((c) => c.id)).toEqual(['chart-0', 'chart-1', 'chart-2', 'chart-3']);
    expect(data.demo).toBeNull();
    expect(CLIENT_JS).not.toMatch(/<\/script|<!--/i);
    expect(() => new Function(CLIENT_JS)).not.toThrow(); // the page script is at least valid JS
    expect(html).not.toContain('assets/ort/'); // no demo, no onnxruntime
  });

  test('jsonForScript round-trips hostile strings', () => {
    const v = { a: '</script><!-- \u2028 & <b>', b: [1, null] };
    const j = jsonForScript(v);
    expect(j).not.toMatch(/[<>&\u2028]/);
    expect(JSON.parse(j)).toEqual(v);
  });

  test('every chart spec compiles with Vega-Lite without warnings', () => {
    for (const c of buildCharts(s)) {
      const warnings: string[] = [];
      const logger = { level: () => logger, error: (...m: unknown[]) => warnings.push(m.join(' ')), warn: (...m: unknown[]) => warnings.push(m.join(' ')), info: () => logger, debug: () => logger };
      const out = compile(c.spec, { logger: logger as never });
      expect(out.spec.marks?.length, c.id).toBeGreaterThan(0);
      expect(warnings, c.id).toEqual([]);
    }
  });
});

suite('writeReport', () => {
  const input = studyFixture();
  const s = buildSummary(input, { now: NOW });
  const onnxPath = join(work, 'model.onnx');
  writeFileSync(onnxPath, buildTinyOnnx());
  const { images, labels } = syntheticImages(6);
  const demo = {
    models: [
      { variant: 'baseline', onnxPath },
      { variant: '../batch norm?', onnxPath },
    ],
    images,
    labels,
    classNames: FASHION_CLASSES,
    height: 28,
    width: 28,
  };

  test('writes summary.json, report.md, index.html, scripts, ONNX runtime and models', async () => {
    const out = await writeReport(s, { outDir: join(work, 'reports', 'study'), demo });
    expect(out.files).toEqual(
      expect.arrayContaining([
        'summary.json',
        'report.md',
        'index.html',
        'assets/vega.min.js',
        'assets/vega-lite.min.js',
        'assets/vega-embed.min.js',
        'assets/ort/ort.wasm.min.js',
        'assets/ort/ort-wasm-embedded.js',
        'models/baseline.onnx',
        'models/__batch_norm_.onnx',
      ]),
    );
    expect(JSON.parse(readFileSync(join(out.dir, 'summary.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(s)));
    expect(readFileSync(join(out.dir, 'models/baseline.onnx'))).toEqual(readFileSync(onnxPath));
    expect(readFileSync(join(out.dir, 'report.md'), 'utf8')).toContain('[index.html](index.html)');
    const html = readFileSync(join(out.dir, 'index.html'), 'utf8');
    expect(html).not.toMatch(/https?:\/\/(?!vega\.github\.io\/schema)/); // nothing from a CDN
    expect(html).toContain('<script src="assets/ort/ort.wasm.min.js"></script>');
    // The wasm runtime ships once (gzipped in the embedded script), so a report folder stays small.
    expect(out.files.filter((f) => f.startsWith('assets/ort/')).sort()).toEqual(['assets/ort/ort-wasm-embedded.js', 'assets/ort/ort.wasm.min.js']);
    const bytes = out.files.reduce((n, f) => n + statSync(join(out.dir, f)).size, 0);
    console.log(`report folder: ${(bytes / 1e6).toFixed(1)} MB`);
    expect(bytes).toBeLessThan(8e6);
  });

  test('replaces an old report as a whole and leaves no temp folders', async () => {
    const dir = join(work, 'reports', 'replace');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'stale.txt'), 'old');
    const out = await writeReport(s, { outDir: dir });
    expect(existsSync(join(dir, 'stale.txt'))).toBe(false);
    expect(out.files).not.toContain('assets/ort/ort.wasm.min.js');
    expect(readdirSync(join(work, 'reports')).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  test('a failure mid-write keeps the previous report intact', async () => {
    const dir = join(work, 'reports', 'crash');
    await writeReport(s, { outDir: dir });
    const before = readFileSync(join(dir, 'report.md'), 'utf8');
    const broken = join(work, 'broken.onnx');
    writeFileSync(broken, 'not an onnx model at all \u0000\u0001');
    await expect(writeReport(s, { outDir: dir, demo: { ...demo, models: [{ variant: 'x', onnxPath: broken }] } })).rejects.toThrow(
      /not a readable ONNX model|graph has no inputs/,
    );
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toBe(before);
    expect(existsSync(join(dir, 'models'))).toBe(false);
    expect(readdirSync(join(work, 'reports')).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  test('bad demo input is a UserError before anything is written', async () => {
    await expect(writeReport(s, { outDir: join(work, 'reports', 'bad'), demo: { ...demo, models: [{ variant: 'x', onnxPath: join(work, 'missing.onnx') }] } })).rejects.toThrow(UserError);
    await expect(writeReport(s, { outDir: join(work, 'reports', 'bad'), demo: { ...demo, labels: labels.subarray(1) } })).rejects.toThrow(/pixels for 5 labels/);
    expect(existsSync(join(work, 'reports', 'bad'))).toBe(false);
  });
});

suite('axis formats (issue 11: no repeated tick labels)', () => {
  test('gives enough digits for about five distinct ticks over the data span', () => {
    expect(axisFormat([0.735, 0.745], true)).toBe('.1%');
    expect(axisFormat([0.1, 0.9], true)).toBe('.0%');
    expect(axisFormat([0.7401, 0.7404], true)).toBe('.3%');
    expect(axisFormat([0.3, 2.3], false)).toBe('.1f');
  });
});
