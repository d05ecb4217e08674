/**
 * Writes reports/<name>/: summary.json, report.md, index.html and what the page needs beside it
 * (Vega scripts, onnxruntime-web, the demo's models). Everything is written into a temporary
 * sibling folder first and swapped in with renames, so a crash leaves either the old report or the
 * new one, never a half-written mix.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { UserError } from '../util/errors.js';
import { packageDir } from '../util/paths.js';
import { fileSafe } from './escape.js';
import { PAGE_SCRIPTS, renderHtml, type DemoPage } from './html.js';
import { renderMarkdown } from './markdown.js';
import { readOnnxInfo } from './onnx-meta.js';
import type { Summary } from './summary.js';

export interface DemoInput {
  /**
   * The runs the demo can show: at least one per variant (the first is shown first). `run` says which
   * run a model is (variant, matrix cell, seed, key); with several per variant the page lets the reader pick.
   */
  models: { variant: string; onnxPath: string; run?: string }[];
  /** n * height * width * channels uint8 pixels, channels last (NHWC). */
  images: Uint8Array;
  labels: Uint8Array;
  classNames: string[];
  height: number;
  width: number;
  /** 1 (grey, the default) or 3 (RGB). */
  channels?: number;
}

export interface WriteReportOptions {
  /** The report folder, e.g. reports/<study name>. Replaced as a whole. */
  outDir: string;
  demo?: DemoInput;
}

const ORT_FILES = ['ort.wasm.min.js'];

let embeddedOrt: string | undefined;

/**
 * onnxruntime-web's wasm (gzipped, base64) and its Emscripten glue as one classic script, the only
 * copy of the runtime in a report: a file:// page can load nothing else, and the gzip (11 MB -> 3 MB)
 * is undone in the browser by DecompressionStream. Built once per process (gzip takes seconds).
 */
function embeddedOrtScript(ortSrc: string): string {
  if (embeddedOrt === undefined) {
    const wasm = gzipSync(readFileSync(join(ortSrc, 'ort-wasm-simd-threaded.wasm'))).toString('base64');
    const glue = readFileSync(join(ortSrc, 'ort-wasm-simd-threaded.mjs'), 'utf8');
    embeddedOrt =
      `// onnxruntime-web's wasm binary (gzip, base64) and Emscripten glue, loaded by the page (see framework/report/client.ts).\n` +
      `window.__bnxOrtWasmGz=${JSON.stringify(wasm)};\nwindow.__bnxOrtGlue=${JSON.stringify(glue)};\n`;
  }
  return embeddedOrt;
}

function checkDemo(d: DemoInput): void {
  const channels = d.channels ?? 1;
  const size = d.height * d.width * channels;
  if (!(size > 0) || (channels !== 1 && channels !== 3)) throw new UserError(`report demo: bad image size ${d.height}x${d.width}x${channels} (grey or RGB images only)`);
  if (d.images.length !== d.labels.length * size)
    throw new UserError(`report demo: ${d.images.length} pixels for ${d.labels.length} labels of ${d.height}x${d.width}x${channels}`);
  for (const l of d.labels)
    if (l >= d.classNames.length) throw new UserError(`report demo: label ${l} has no class name (${d.classNames.length} classes)`);
  for (const m of d.models)
    if (!existsSync(m.onnxPath))
      throw new UserError(`report demo: the ONNX model of variant "${m.variant}" is missing: ${m.onnxPath}`, [
        // Its run recorded an export (or it would not be in the demo): the file went away since.
        'the run recorded an ONNX export but the file is gone (deleted, or the store was moved without its artifacts); re-export it with bnx export RUN_KEY, or train it again with bnx run --force',
      ]);
}

function listFiles(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? listFiles(root, p) : [relative(root, p)];
  });
}

function writeInto(dir: string, summary: Summary, demo: DemoInput | undefined): void {
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(join(dir, 'report.md'), renderMarkdown(summary, { htmlFile: 'index.html' }));
  const sources = {
    [PAGE_SCRIPTS.vega]: join(packageDir('vega'), 'build/vega.min.js'),
    [PAGE_SCRIPTS.vegaLite]: join(packageDir('vega-lite'), 'build/vega-lite.min.js'),
    [PAGE_SCRIPTS.vegaEmbed]: join(packageDir('vega-embed'), 'build/vega-embed.min.js'),
  };
  for (const [to, from] of Object.entries(sources)) copyFileSync(from, join(dir, to));

  let page: DemoPage | undefined;
  if (demo) {
    const ortSrc = join(packageDir('onnxruntime-web'), 'dist');
    const ortDir = dirname(PAGE_SCRIPTS.ort);
    mkdirSync(join(dir, ortDir), { recursive: true });
    for (const f of ORT_FILES) copyFileSync(join(ortSrc, f), join(dir, ortDir, f));
    writeFileSync(join(dir, ortDir, 'ort-wasm-embedded.js'), embeddedOrtScript(ortSrc));
    mkdirSync(join(dir, 'models'), { recursive: true });
    const used = new Set<string>();
    const models = demo.models.map((m, i) => {
      let name = fileSafe(m.variant);
      if (used.has(name)) name = `${name}-${i + 1}`;
      while (used.has(name)) name += '_';
      used.add(name);
      const bytes = readFileSync(m.onnxPath);
      const info = readOnnxInfo(bytes, m.onnxPath);
      const file = `models/${name}.onnx`;
      writeFileSync(join(dir, file), bytes);
      return {
        variant: m.variant,
        run: m.run ?? m.variant,
        file,
        model: bytes.toString('base64'),
        input_name: info.inputName,
        output_name: info.outputName,
        layout: info.layout,
        preprocessing: info.preprocessing,
      };
    });
    page = {
      ort_dir: `${ortDir}/`,
      images: Buffer.from(demo.images.buffer, demo.images.byteOffset, demo.images.byteLength).toString('base64'),
      labels: [...demo.labels],
      class_names: demo.classNames,
      height: demo.height,
      width: demo.width,
      channels: demo.channels ?? 1,
      models,
    };
  }
  writeFileSync(join(dir, 'index.html'), renderHtml(summary, page));
}

/**
 * Write the report of a study into `o.outDir` (replacing what was there). Returns the folder and
 * the files written, relative to it.
 */
export async function writeReport(summary: Summary, o: WriteReportOptions): Promise<{ dir: string; files: string[] }> {
  if (o.demo) checkDemo(o.demo);
  const dir = resolve(o.outDir);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmp = join(dirname(dir), `.${basename(dir)}.tmp-${tag}`);
  const old = join(dirname(dir), `.${basename(dir)}.old-${tag}`);
  mkdirSync(dirname(dir), { recursive: true });
  try {
    writeInto(tmp, summary, o.demo);
    const files = listFiles(tmp).sort();
    if (existsSync(dir)) renameSync(dir, old);
    try {
      renameSync(tmp, dir);
    } catch (err) {
      if (existsSync(old)) renameSync(old, dir);
      throw err;
    }
    rmSync(old, { recursive: true, force: true });
    return { dir, files };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
