/**
 * The report page in a real headless Chromium, opened from file:// (and once over http): charts
 * drawn, no console errors or failed requests, hostile names inert, and the demo's onnxruntime-web
 * logits equal to onnxruntime-node's for the same models and images.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ortNode from 'onnxruntime-node';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { buildSummary, writeReport } from './index.js';
import { preprocessPixels, readOnnxInfo } from './onnx-meta.js';
import { buildTinyOnnx, FASHION_CLASSES, studyFixture, syntheticImages } from './testing.js';

const CHROMIUM = '/usr/bin/chromium';
const HOSTILE = '<img src=x onerror=alert(1)>';
const N_IMAGES = 24;

let work: string;
let reportDir: string;
let browser: Browser;
let server: Server | undefined;
const models: { variant: string; path: string }[] = [];
let images: Uint8Array;

interface PageState {
  charts: string;
  demo: string;
  error: string | null;
  results: Record<string, { logits: number[][]; predictions: number[]; correct: number }>;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get update && apt-get install -y chromium`);
  work = mkdtempSync(join(tmpdir(), 'bnx-report-browser-'));
  const input = studyFixture({ variants: ['baseline', HOSTILE], withFailed: true });
  input.description = 'Hostile text: </script><script>alert(2)</script> & <b>bold</b>';
  // One flat MLP and one NCHW-input model, so both input layouts are exercised.
  models.push({ variant: 'baseline', path: join(work, 'baseline.onnx') }, { variant: HOSTILE, path: join(work, 'hostile.onnx') });
  writeFileSync(models[0]!.path, buildTinyOnnx({ seed: 11 }));
  writeFileSync(models[1]!.path, buildTinyOnnx({ seed: 12, layout: 'nchw', preprocessing: { scale: 255 } }));
  const data = syntheticImages(N_IMAGES);
  images = data.images;
  const out = await writeReport(buildSummary(input), {
    outDir: join(work, 'reports', input.experiment),
    demo: {
      models: models.map((m) => ({ variant: m.variant, onnxPath: m.path })),
      images: data.images,
      labels: data.labels,
      classNames: FASHION_CLASSES,
      height: 28,
      width: 28,
    },
  });
  reportDir = out.dir;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
});

afterAll(async () => {
  await browser?.close();
  server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Open a URL and collect everything that went wrong while the page ran. */
async function open(url: string): Promise<{ page: Page; state: PageState; problems: string[] }> {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(url);
  await page.waitForFunction(
    () => {
      const s = (window as unknown as { __bnx?: PageState }).__bnx;
      return s && s.charts !== 'pending' && s.demo !== 'pending';
    },
    null,
    { timeout: 60_000 },
  );
  const state = await page.evaluate(() => (window as unknown as { __bnx: PageState }).__bnx);
  return { page, state, problems };
}

/** What onnxruntime-node says for the same model and pixels. */
async function nodeLogits(path: string, k: number): Promise<number[]> {
  const bytes = readFileSync(path);
  const info = readOnnxInfo(bytes);
  const session = await ortNode.InferenceSession.create(bytes);
  const x = preprocessPixels(images.subarray(k * 784, (k + 1) * 784), info.preprocessing);
  const dims = info.layout === 'nchw' ? [1, 1, 28, 28] : [1, 784];
  const out = await session.run({ [info.inputName]: new ortNode.Tensor('float32', x, dims) });
  const logits = Array.from(out[info.outputName]!.data as Float32Array);
  await session.release();
  return logits;
}

test('index.html from file:// draws the charts and runs the ONNX demo, identical to onnxruntime-node', async () => {
  const { page, state, problems } = await open(pathToFileURL(join(reportDir, 'index.html')).href);
  expect(problems).toEqual([]);
  expect(state.error).toBeNull();
  expect(state.charts).toBe('done');
  expect(state.demo).toBe('done');

  // Charts: four Vega SVGs with marks: lines and CI bands for both variants, the final-accuracy ticks.
  const marks = await page.evaluate(() =>
    [0, 1, 2, 3].map((i) => {
      const root = document.querySelector(`#chart-${i} svg`);
      return {
        svg: !!root,
        lines: root?.querySelectorAll('.role-mark.mark-line path').length ?? 0,
        areas: root?.querySelectorAll('.role-mark.mark-area path').length ?? 0,
        ticks: root?.querySelectorAll('.role-mark.mark-rect path').length ?? 0,
        rules: root?.querySelectorAll('.role-mark.mark-rule line, .role-mark.mark-rule path').length ?? 0,
        points: root?.querySelectorAll('.role-mark.mark-symbol path').length ?? 0,
      };
    }),
  );
  for (const m of marks.slice(0, 3)) {
    expect(m.svg).toBe(true);
    expect(m.lines).toBe(2);
    expect(m.areas).toBe(2);
    expect(m.points).toBe(10); // 2 variants x 5 epochs
  }
  expect(marks[3]!.svg).toBe(true);
  expect(marks[3]!.ticks).toBe(2); // one mean per variant
  expect(marks[3]!.rules).toBe(2); // one CI per variant
  expect(marks[3]!.points).toBe(6); // 3 seeds x 2 variants (the failed run is not a result)

  // Hostile strings are text, not markup.
  expect(await page.locator('img').count()).toBe(0);
  expect(await page.locator('#verdict').innerText()).toContain(HOSTILE);
  expect(await page.locator('.desc').innerText()).toContain('</script><script>alert(2)</script>');
  expect(await page.locator('script').count()).toBe(7); // 3 vega + ort + data + client + the embedded wasm loader

  // Demo: pictures drawn, every image classified by both models, logits equal to onnxruntime-node's.
  expect(await page.locator('#demo-grid canvas').count()).toBe(N_IMAGES);
  const inked = await page.evaluate(() => {
    const c = document.querySelector('#demo-grid canvas') as HTMLCanvasElement;
    const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let dark = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i]! < 128) dark++;
    return dark;
  });
  expect(inked).toBeGreaterThan(10);
  expect(await page.locator('#demo-grid li').count()).toBe(N_IMAGES * 2);
  for (const m of models) {
    const r = state.results[m.variant]!;
    expect(r.logits).toHaveLength(N_IMAGES);
    for (const k of [0, 1, 7, N_IMAGES - 1]) {
      const expected = await nodeLogits(m.path, k);
      expect(r.logits[k]).toHaveLength(10);
      r.logits[k]!.forEach((v, j) => expect(Math.abs(v - expected[j]!)).toBeLessThan(1e-5));
      expect(r.predictions[k]).toBe(expected.indexOf(Math.max(...expected)));
    }
  }
  await page.close();
});

test('real bnx exports (BatchNorm MLP, CNN with NCHW input) give the same logits in the page as in onnxruntime-node', async () => {
  // Untrained but real: the model and export helpers' own code, so the ops they emit are the ones exercised.
  const { initBackend } = await import('../train/index.js');
  const { buildModel } = await import('../model/index.js');
  const { exportOnnx } = await import('../export/index.js');
  await initBackend('cpu');
  const base = { hidden: [32, 16], conv: { filters: [4, 8], kernel_size: 3, pool: 'max' as const }, activation: 'relu' as const, dropout: 0, init: 'pytorch' as const };
  const specs = [
    { variant: 'mlp-batchnorm', cfg: { ...base, type: 'mlp' as const, norm: 'batch' as const }, shape: [784], layout: 'flat' as const },
    { variant: 'cnn-layernorm', cfg: { ...base, type: 'cnn' as const, norm: 'layer' as const }, shape: [28, 28, 1], layout: 'nhwc' as const },
  ];
  const real: { variant: string; path: string }[] = [];
  for (const sp of specs) {
    const model = buildModel(sp.cfg, sp.shape, 10, 5);
    const bytes = exportOnnx(model, {
      bnxVersion: '0.0.0-test',
      runKey: sp.variant,
      classNames: FASHION_CLASSES,
      preprocessing: { scale: 255, mean: [0.286], std: [0.353] },
      inputLayout: sp.layout,
    });
    model.dispose();
    const path = join(work, `${sp.variant}.onnx`);
    writeFileSync(path, bytes);
    real.push({ variant: sp.variant, path });
  }
  const data = syntheticImages(N_IMAGES);
  const input = studyFixture({ variants: real.map((r) => r.variant) });
  const out = await writeReport(buildSummary(input), {
    outDir: join(work, 'reports', 'real-exports'),
    demo: { models: real.map((m) => ({ variant: m.variant, onnxPath: m.path })), images: data.images, labels: data.labels, classNames: FASHION_CLASSES, height: 28, width: 28 },
  });
  const { page, state, problems } = await open(pathToFileURL(join(out.dir, 'index.html')).href);
  expect(problems).toEqual([]);
  expect(state.demo).toBe('done');
  for (const m of real) {
    expect(readOnnxInfo(readFileSync(m.path)).layout).toBe(m.variant.startsWith('cnn') ? 'nchw' : 'flat');
    const r = state.results[m.variant]!;
    for (const k of [0, 5, N_IMAGES - 1]) {
      const expected = await nodeLogits(m.path, k);
      r.logits[k]!.forEach((v, j) => expect(Math.abs(v - expected[j]!)).toBeLessThan(1e-5));
    }
  }
  await page.close();
});

test('served over http, the page works from the same single copy of the runtime', async () => {
  server = createServer((req, res) => {
    const rel = normalize(decodeURIComponent(new URL(req.url!, 'http://x').pathname)).replace(/^[/\\]+/, '');
    const file = join(reportDir, rel || 'index.html');
    if (!file.startsWith(reportDir) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise<void>((ok) => server!.listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;
  const { page, state, problems } = await open(`http://127.0.0.1:${port}/index.html`);
  expect(problems).toEqual([]);
  expect(state.demo).toBe('done');
  expect(state.results.baseline!.logits).toHaveLength(N_IMAGES);
  const loaded = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname));
  expect(loaded).toContain('/assets/ort/ort-wasm-embedded.js');
  expect(loaded.filter((p) => p.endsWith('.wasm') || p.endsWith('.mjs'))).toEqual([]);
  await page.close();
});
