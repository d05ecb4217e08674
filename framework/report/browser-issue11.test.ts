/**
 * The report page in headless Chromium for the studies that broke it: one seed (no CI: Vega warned
 * "Infinite extent"), and a matrix study with long cell labels and seeds far apart (CI bands past
 * 0-100%, cut legend labels, repeated y labels, clipped end points, a demo that did not say which
 * run it showed). Charts use the SVG renderer, so labels and marks are read from the DOM.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildSummary, groupLabel, writeReport, type StudyInput } from './index.js';
import { buildTinyOnnx, FASHION_CLASSES, studyFixture, syntheticImages } from './testing.js';

const CHROMIUM = '/usr/bin/chromium';
const LONG = 'model.norm={type:group,groups:4,epsilon:0.00001,position:pre}';
let work: string;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get update && apt-get install -y chromium`);
  work = mkdtempSync(join(tmpdir(), 'bnx-report-i11-'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
});
afterAll(async () => {
  await browser?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function open(file: string): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(pathToFileURL(file).href);
  await page.waitForFunction(() => {
    const s = (window as unknown as { __bnx?: { charts: string; demo: string } }).__bnx;
    return s && s.charts !== 'pending' && s.demo !== 'pending';
  }, null, { timeout: 60_000 });
  return { page, problems };
}

/** A matrix study: two variants x two cells (one with a long label), two seeds far apart near 100%. */
function matrixStudy(): StudyInput {
  const base = studyFixture({ seeds: [1, 2], epochs: 4 });
  const runs = base.runs.flatMap((r) =>
    [{ 'model.norm': 'batch' }, { 'model.norm': { type: 'group', groups: 4, epsilon: 0.00001, position: 'pre' } }].map((matrix, c) => ({
      ...r,
      key: `${r.key}-c${c}`,
      matrix,
      // Seeds at 0.93 and 0.999: the t interval with n = 2 runs far past 100%.
      epochs: r.epochs.map((e) => ({ ...e, test_accuracy: r.seed === 1 ? 0.93 + 0.001 * e.epoch : 0.999 })),
    })),
  );
  return { ...base, runs };
}

test('one seed: charts without CI bands and no "Infinite extent" warning; tables say "n too small"', async () => {
  const input = studyFixture({ seeds: [1] });
  const out = await writeReport(buildSummary(input), { outDir: join(work, 'reports', 'one-seed') });
  const { page, problems } = await open(join(out.dir, 'index.html'));
  expect(problems).toEqual([]);
  const areas = await page.evaluate(() => document.querySelectorAll('#chart-0 .role-mark.mark-area path').length);
  expect(areas).toBe(0);
  expect(await page.evaluate(() => document.body.textContent)).toContain('n too small (1 seed)');
  await page.close();
});

test('a matrix study: bands within 0-100%, whole legend labels, distinct y labels, end points inside, a demo that names and picks its run', async () => {
  const input = matrixStudy();
  const summary = buildSummary(input);
  // The summary's CIs respect [0, 1] and say when they were cut.
  for (const v of summary.variants) {
    expect(v.final_test_accuracy.ci95!.high).toBeLessThanOrEqual(1);
    expect(v.final_test_accuracy.ci95_clamped).toBe(true);
  }
  const data = syntheticImages(8);
  const demoModels = summary.variants.map((v, i) => {
    const path = join(work, `m${i}.onnx`);
    writeFileSync(path, buildTinyOnnx({ seed: 20 + i }));
    return { variant: v.variant, onnxPath: path, run: `${groupLabel(v.variant, v.matrix)} seed 1 (run k${i})` };
  });
  const out = await writeReport(summary, {
    outDir: join(work, 'reports', 'matrix'),
    demo: { models: demoModels, images: data.images, labels: data.labels, classNames: FASHION_CLASSES, height: 28, width: 28 },
  });
  const { page, problems } = await open(join(out.dir, 'index.html'));
  expect(problems).toEqual([]);

  const seen = await page.evaluate(() => {
    const root = document.querySelector('#chart-0 svg')!;
    const texts = (sel: string) => Array.from(root.querySelectorAll(sel)).map((t) => t.textContent ?? '');
    const box = (e: Element) => e.getBoundingClientRect();
    const frame = box(root.querySelector('.mark-group.role-frame > g > path.background, .mark-group.role-frame path.background')!);
    const points = Array.from(root.querySelectorAll('.role-mark.mark-symbol path')).map(box);
    return {
      axisLabels: texts('.role-axis-label text'),
      legend: texts('.role-legend-label text'),
      frame: { left: frame.left, right: frame.right, top: frame.top, bottom: frame.bottom },
      points: points.map((p) => ({ left: p.left, right: p.right, top: p.top, bottom: p.bottom })),
    };
  });
  const yLabels = seen.axisLabels.filter((t) => t.endsWith('%'));
  expect(yLabels.length).toBeGreaterThan(2);
  expect(new Set(yLabels).size).toBe(yLabels.length);
  for (const t of yLabels) {
    expect(parseFloat(t)).toBeGreaterThanOrEqual(0);
    expect(parseFloat(t)).toBeLessThanOrEqual(100);
  }
  expect(seen.legend).toEqual(summary.variants.map((v) => v.group));
  expect(seen.legend.some((l) => l.includes(LONG))).toBe(true);
  expect(seen.points.length).toBe(summary.variants.length * 4);
  for (const p of seen.points) {
    expect(p.left).toBeGreaterThanOrEqual(seen.frame.left - 0.5);
    expect(p.right).toBeLessThanOrEqual(seen.frame.right + 0.5);
  }

  // The demo says which run each variant's predictions come from, and lets the reader pick another.
  const shown = await page.evaluate(() => document.getElementById('demo-shown')!.textContent);
  expect(shown).toContain(`${summary.variants[0]!.group} seed 1 (run k0)`);
  const selects = await page.$$('#demo-pick select');
  expect(selects).toHaveLength(2); // one per variant, each with its two cells
  const variant = summary.variants[0]!.variant;
  const [first, second] = demoModels.filter((m) => m.variant === variant).map((m) => m.run);
  await page.selectOption(`#demo-pick select[data-variant="${variant}"]`, '1');
  await page.waitForFunction(([v, run]) => {
    const s = (window as unknown as { __bnx: { demo: string; results: Record<string, { run: string }> } }).__bnx;
    return s.demo === 'done' && s.results[v!]!.run === run;
  }, [variant, second], { timeout: 60_000 });
  const after = await page.evaluate(() => ({
    shown: document.getElementById('demo-shown')!.textContent,
    totals: Array.from(document.querySelectorAll('#demo-totals li')).map((li) => li.textContent),
  }));
  expect(after.shown).toContain(second);
  expect(after.shown).not.toContain(first);
  expect(after.totals.filter((t) => t!.startsWith(`${variant} `))).toHaveLength(1);
  expect(problems).toEqual([]);
  await page.close();
});
