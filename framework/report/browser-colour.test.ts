/**
 * Colour images end to end: a folder of CIFAR-10 batches (made here in the official format) ->
 * prepareData with per-channel mean/std -> a CNN trained on [32, 32, 3] -> ONNX -> parity with
 * onnxruntime -> `bnx eval` on the same folder -> the report's demo in headless Chromium, whose
 * colour thumbnails show the true RGB pixels and whose logits equal onnxruntime-node's.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { cifarFiles, CLASS_NAMES, writeCifarFolder } from '../../test-support/cifar-archive.js';
import { runConfig } from '../config/index.js';
import { loadDataset, prepareData, rowFloats, type Dataset, type Prepared } from '../data/index.js';
import { evalCommand } from '../cli/eval-command.js';
import { createSession, exportAndVerify, onnxLogits, onnxModelInfo } from '../export/index.js';
import { initBackend, trainModel } from '../train/index.js';
import { buildSummary, writeReport } from './index.js';
import { studyFixture } from './testing.js';

const CHROMIUM = '/usr/bin/chromium';
const N_DEMO = 6;
const NORMALIZE = { mean: [0.5, 0.45, 0.4], std: [0.25, 0.2, 0.3] };

let work: string;
let folder: string;
let ds: Dataset;
let data: Prepared;
let onnxPath: string;
let figures: Awaited<ReturnType<typeof exportAndVerify>>;
let browser: Browser;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'bnx-colour-'));
  folder = join(work, 'cifar-batches');
  writeCifarFolder(folder, cifarFiles({ perBatch: 40, test: 60, seed: 3 }));
  ds = await loadDataset({ path: folder });
  data = prepareData(ds, { scale: 255, normalize: NORMALIZE }, 'image');
  await initBackend('wasm');
  const cfg = runConfig(
    {
      dataset: { path: folder, scale: 255, normalize: NORMALIZE },
      model: { type: 'cnn', hidden: [16], conv: { filters: [4, 8], kernel_size: 3, pool: 'max' }, norm: 'batch' },
      train: { epochs: 2, batch_size: 25, optimizer: { type: 'adam', lr: 0.003 }, backend: 'wasm' },
    },
    1,
  );
  const outcome = await trainModel(cfg, data);
  expect(outcome.status).toBe('FINISHED');
  onnxPath = join(work, 'colour.onnx');
  figures = await exportAndVerify(outcome.model, data, { runKey: 'colour', classNames: ds.classNames, dataset: cfg.dataset, layout: 'nhwc', outPath: onnxPath });
  outcome.model.dispose();
});

afterAll(async () => {
  await browser?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('a CNN trains on 32x32x3 images and exports an NCHW [N, 3, 32, 32] model with per-channel preprocessing, at parity', () => {
  expect([ds.height, ds.width, ds.channels]).toEqual([32, 32, 3]);
  expect(data.inputShape).toEqual([32, 32, 3]);
  expect(figures.error).toBeUndefined();
  expect(figures.figures.n).toBe(60);
  expect(figures.figures.max_abs_diff).toBeLessThan(1e-4);
  const info = onnxModelInfo(readFileSync(onnxPath));
  expect(info.layout).toBe('nchw');
  expect(info.inputDims).toEqual([3, 32, 32]);
  expect(info.preprocessing).toEqual({ scale: 255, ...NORMALIZE });
  expect(info.classNames).toEqual(CLASS_NAMES);
});

test('bnx eval scores the colour model on the batch folder as the export step did', async () => {
  let stdout = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
  try {
    expect(await evalCommand(onnxPath, { dataset: folder, json: true })).toBe(0);
  } finally {
    spy.mockRestore();
  }
  const r = JSON.parse(stdout) as { accuracy: number; n: number; preprocessing: unknown };
  expect(r.n).toBe(60);
  expect(r.accuracy).toBe(figures.figures.test_accuracy);
  expect(r.preprocessing).toEqual({ scale: 255, ...NORMALIZE });
});

test('the report demo draws colour thumbnails and classifies them as onnxruntime-node does', async () => {
  const images = ds.test.images.slice(0, N_DEMO * 3072);
  const labels = ds.test.labels.slice(0, N_DEMO);
  const out = await writeReport(buildSummary(studyFixture({ variants: ['colour'] })), {
    outDir: join(work, 'reports', 'colour'),
    demo: { models: [{ variant: 'colour', onnxPath }], images, labels, classNames: ds.classNames, height: 32, width: 32, channels: 3 },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  await page.goto(pathToFileURL(join(out.dir, 'index.html')).href);
  await page.waitForFunction(() => {
    const s = (window as unknown as { __bnx?: { demo: string } }).__bnx;
    return s && s.demo !== 'pending';
  }, null, { timeout: 90_000 });
  const state = await page.evaluate(() => (window as unknown as { __bnx: { demo: string; error: string | null; results: Record<string, { logits: number[][] }> } }).__bnx);
  expect(problems).toEqual([]);
  expect(state.error).toBeNull();
  expect(state.demo).toBe('done');

  // Thumbnails: the canvas holds the image's own RGB values (not a grey, not inverted).
  const drawn = await page.evaluate(() =>
    Array.from(document.querySelectorAll('#demo-grid canvas')).map((c) => Array.from((c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 32, 32).data)),
  );
  expect(drawn).toHaveLength(N_DEMO);
  for (const k of [0, N_DEMO - 1]) {
    for (const p of [0, 517, 1023]) {
      const want = [...images.subarray((k * 1024 + p) * 3, (k * 1024 + p) * 3 + 3)];
      expect(drawn[k]!.slice(p * 4, p * 4 + 3)).toEqual(want);
    }
  }
  const grey = drawn[0]!.every((_, i) => i % 4 !== 0 || (drawn[0]![i] === drawn[0]![i + 1] && drawn[0]![i] === drawn[0]![i + 2]));
  expect(grey).toBe(false);

  // Logits: the page's onnxruntime-web against onnxruntime-node on the same pixels.
  const session = await createSession(readFileSync(onnxPath), 'node');
  const node = await onnxLogits(session, onnxModelInfo(readFileSync(onnxPath)), rowFloats(data.test, 0, N_DEMO));
  await session.session.release();
  const page_ = state.results.colour!.logits;
  expect(page_).toHaveLength(N_DEMO);
  for (let k = 0; k < N_DEMO; k++) for (let j = 0; j < 10; j++) expect(Math.abs(page_[k]![j]! - node.logits[k * 10 + j]!)).toBeLessThan(1e-4);
  await page.close();
});
