/**
 * The claims table and the matrix heatmap in a real headless Chromium, opened from file://: drawn,
 * no console errors, diverged cells marked, hostile claim text inert.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildSummary, writeReport, type RunRecord } from './index.js';
import { studyFixture } from './testing.js';

const CHROMIUM = '/usr/bin/chromium';
const HOSTILE = '<img src=x onerror=alert(1)>';
let work: string;
let browser: Browser;
let page: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get update && apt-get install -y chromium`);
  work = mkdtempSync(join(tmpdir(), 'bnx-claims-page-'));
  const base = studyFixture({ seeds: [1, 2, 3] });
  // baseline diverges at lr 1 on every seed; batchnorm trains there.
  const runs: RunRecord[] = [0.01, 0.1, 1].flatMap((lr) =>
    base.runs.map((r) =>
      lr === 1 && r.variant === 'baseline'
        ? { ...r, key: `${r.key}-${lr}`, matrix: { 'train.optimizer.lr': lr }, status: 'FAILED' as const, reason: 'training loss became NaN at epoch 1, step 7 (lr 1)', epochs: [] }
        : { ...r, key: `${r.key}-${lr}`, matrix: { 'train.optimizer.lr': lr } },
    ),
  );
  const summary = buildSummary({
    ...base,
    runs,
    hypotheses: {
      'bn-higher': { claim: `BatchNorm helps ${HOSTILE}`, compare: 'batchnorm', against: 'baseline', metric: 'test_accuracy', direction: 'higher' },
      'baseline-diverges': {
        compare: { variant: 'baseline', matrix: { 'train.optimizer.lr': 1 } },
        against: { variant: 'batchnorm', matrix: { 'train.optimizer.lr': 1 } },
        metric: 'divergence_rate',
        direction: 'higher',
      },
    },
  });
  const out = await writeReport(summary, { outDir: join(work, 'reports', 'matrix') });
  page = join(out.dir, 'index.html');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('index.html shows the claims first and a heatmap with the diverged cells marked', async () => {
  const p = await browser.newPage();
  const problems: string[] = [];
  p.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  p.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  await p.goto(pathToFileURL(page).href);
  await p.waitForFunction(() => (window as unknown as { __bnx?: { charts: string } }).__bnx?.charts !== 'pending', null, { timeout: 60_000 });
  expect(await p.evaluate(() => (window as unknown as { __bnx: { charts: string } }).__bnx.charts)).toBe('done');

  const sections = await p.evaluate(() => Array.from(document.querySelectorAll('section'), (s) => s.id));
  expect(sections.indexOf('claims')).toBeLessThan(sections.indexOf('verdict'));
  const rows = await p.locator('#claims tbody tr').allInnerTexts();
  expect(rows).toHaveLength(2);
  expect(rows[0]).toContain(`bn-higher: BatchNorm helps ${HOSTILE}`); // shown as text, not markup
  expect(rows[0]).toMatch(/supported/);
  // 3 of 3 diverged vs 0 of 3: Fisher p = 0.1, so inconclusive with 3 seeds a side
  expect(rows[1]).toMatch(/baseline-diverges: .*inconclusive.*\+100\.0 points.*0\.10.*Fisher exact.*3 vs 3/s);

  // The heatmap: 6 cells (2 variants x 3 learning rates), the dead cell labelled.
  const texts = await p.locator('#heatmap-0 svg text').allTextContents();
  expect(texts).toContain('✕ diverged 3/3');
  expect(texts.filter((t) => /^\d+\.\d%$/.test(t))).toHaveLength(5);
  expect(texts).toEqual(expect.arrayContaining(['0.01', '0.1', '1', 'train.optimizer.lr']));
  const cells = await p.locator('#heatmap-0 svg path[aria-roledescription="rect"], #heatmap-0 svg g.mark-rect path').count();
  expect(cells).toBeGreaterThanOrEqual(11); // grey backgrounds (6) + coloured cells (5)
  expect(problems).toEqual([]);
  await p.close();
}, 120_000);
