/**
 * CIFAR-10 end to end on archives this test writes in the official format: `bnx data import` into
 * the cache, `bnx data info`, loads (planes -> NHWC), the offline message, the download from a real
 * local HTTP server (published MD5, stall timeout), and corrupt or short archives.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { outputCapture } from '../../test-support/capture-output.js';
import { cifarFiles, cifarRecord, CLASS_NAMES, writeCifarArchive, writeCifarFolder } from '../../test-support/cifar-archive.js';
import { UserError } from '../util/errors.js';
import { BUILTIN } from './catalog.js';
import { dataImport, dataInfo } from '../cli/data-command.js';
import { loadBuiltin, loadDataset } from './load.js';

const tmp = mkdtempSync(join(tmpdir(), 'bnx-cifar-'));
const saved = { dir: process.env.BNX_DATA_DIR, offline: process.env.BNX_OFFLINE };
const archive = join(tmp, 'cifar-10-binary.tar.gz');
const SPEC = { perBatch: 12, test: 20 };
const cap = outputCapture();
const run = cap.run;

const md5 = (file: string) => createHash('md5').update(readFileSync(file)).digest('hex');
let n = 0;
const fresh = () => join(tmp, `cache${n++}`);

beforeAll(async () => {
  process.env.BNX_OFFLINE = '1';
  await writeCifarArchive(archive, cifarFiles(SPEC));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  for (const [k, v] of [['BNX_DATA_DIR', saved.dir], ['BNX_OFFLINE', saved.offline]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});
afterEach(() => vi.restoreAllMocks());

describe('cifar-10: import, info, load', () => {
  it('offline with an empty cache, says what to download and how to import it', async () => {
    process.env.BNX_DATA_DIR = fresh();
    const err = (await loadDataset({ name: 'cifar-10' }).catch((e: unknown) => e)) as UserError;
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe('cannot get dataset cifar-10: no source is available');
    expect(err.details).toEqual([
      'network skipped: BNX_OFFLINE is set',
      'no npm package ships the cifar-10 images; download https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz (cifar-10-binary.tar.gz, about 170 MB, MD5 c32a1d4ab5d03f1284b67883e8d87530) on any machine, then run: bnx data import cifar-10 ./cifar-10-binary.tar.gz',
      `the import fills the cache at ${join(process.env.BNX_DATA_DIR, 'cifar-10')} (set BNX_DATA_DIR to put it elsewhere)`,
    ]);
    expect(await run(() => dataInfo('cifar-10', {}))).toBe(1);
    expect(cap.stderr).toMatch(/^cifar-10: not cached \(would be at .*\); run: bnx data fetch cifar-10 \(online\), or download https:.*bnx data import cifar-10 \.\/cifar-10-binary\.tar\.gz\n$/);
  });

  it('bnx data import fills the cache from a test-made archive; bnx data info shows it', async () => {
    const root = fresh();
    process.env.BNX_DATA_DIR = root;
    expect(await run(() => dataImport('cifar-10', archive, {}))).toBe(0);
    const sum = md5(archive);
    expect(cap.stderr).toContain(`has MD5 ${sum}, not the published c32a1d4ab5d03f1284b67883e8d87530; importing it as source archive:${sum}`);
    expect(cap.stdout).toMatch(new RegExp(`^cifar-10\\n {2}source {4}archive:${sum}\\n {2}location  ${join(root, 'cifar-10')}\\n {2}train {5}60\\n {2}test {6}20\\n`));
    expect(readdirSync(root)).toEqual(['cifar-10']);
    expect(await run(() => dataInfo('cifar-10', {}))).toBe(0);
    expect(cap.stdout).toContain('  images    32x32x3, classes: airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck\n');
    expect(cap.stdout).toContain(`  origin    ${archive}\n`);
    expect(await run(() => dataInfo('cifar-10', { json: true }))).toBe(0);
    expect(JSON.parse(cap.stdout)).toMatchObject({ name: 'cifar-10', status: 'valid', train_count: 60, test_count: 20, shape: { height: 32, width: 32, channels: 3 } });
  });

  it('loads colour images channels-last from the cache, train batches 1..5 in order', async () => {
    const root = fresh();
    process.env.BNX_DATA_DIR = root;
    // Known pixels: image k of batch b has R = k, G = 100 + b, B = pixel index % 256.
    const batch = (b: number, count: number, label0: number) =>
      Buffer.concat(Array.from({ length: count }, (_, k) => cifarRecord((label0 + k) % 3, (i, c) => (c === 0 ? k : c === 1 ? 100 + b : i % 256))));
    const files: Record<string, Uint8Array> = { 'batches.meta.txt': Buffer.from('a\nb\nc\n'), 'test_batch.bin': batch(9, 3, 0) };
    for (let b = 1; b <= 5; b++) files[`data_batch_${b}.bin`] = batch(b, 2, b);
    const file = join(tmp, 'known.tar.gz');
    await writeCifarArchive(file, files);
    await run(() => dataImport('cifar-10', file, {}));
    const ds = await loadDataset({ name: 'cifar-10' });
    expect(ds.loadedFrom).toBe('cache');
    expect([ds.height, ds.width, ds.channels, ds.train.count, ds.test.count]).toEqual([32, 32, 3, 10, 3]);
    expect(ds.classNames).toEqual(['a', 'b', 'c']);
    expect([...ds.train.labels]).toEqual([1, 2, 2, 0, 0, 1, 1, 2, 2, 0]);
    const px = (split: typeof ds.train, img: number, i: number) => [...split.images.subarray((img * 1024 + i) * 3, (img * 1024 + i) * 3 + 3)];
    expect(px(ds.train, 0, 0)).toEqual([0, 101, 0]);
    expect(px(ds.train, 3, 300)).toEqual([1, 102, 300 % 256]); // image 1 of batch 2
    expect(px(ds.train, 9, 1023)).toEqual([1, 105, 1023 % 256]);
    expect(px(ds.test, 2, 5)).toEqual([2, 109, 5]);
  });

  it('refuses corrupt or short archives with the reason, leaving the cache untouched', async () => {
    const root = fresh();
    process.env.BNX_DATA_DIR = root;
    const good = readFileSync(archive);
    const cases: [string, Uint8Array, RegExp][] = [
      ['truncated.tar.gz', good.subarray(0, Math.floor(good.length / 2)), /not a valid gzip stream \(unexpected end of file\); the download is probably truncated or corrupt/],
      ['garbage.tar.gz', Buffer.from('<html>404</html>'), /garbage\.tar\.gz: not a valid tar archive \(TAR_BAD_ARCHIVE: Unrecognized archive format\); the file is truncated or corrupt/],
    ];
    const files = cifarFiles(SPEC);
    const short = join(tmp, 'short.tar.gz');
    await writeCifarArchive(short, { ...files, 'data_batch_3.bin': files['data_batch_3.bin']!.subarray(0, 3073 * 2 + 100) });
    cases.push(['short.tar.gz', readFileSync(short), /data_batch_3\.bin: 6246 bytes is not a whole number of 3073-byte records/]);
    const missing = join(tmp, 'missing.tar.gz');
    await writeCifarArchive(missing, { ...files, 'test_batch.bin': undefined });
    cases.push(['missing.tar.gz', readFileSync(missing), /lacks test_batch\.bin/]);
    const python = join(tmp, 'python.tar.gz');
    await writeCifarArchive(python, { data_batch_1: files['data_batch_1.bin'], 'batches.meta': Buffer.from('x') });
    cases.push(['python.tar.gz', readFileSync(python), /the archive holds none of data_batch_1\.bin, .*; is it cifar-10-binary\.tar\.gz \(not the python or matlab version\)\?/]);
    const badLabel = join(tmp, 'label.tar.gz');
    await writeCifarArchive(badLabel, { ...files, 'test_batch.bin': cifarRecord(10, () => 0) });
    cases.push(['label.tar.gz', readFileSync(badLabel), /a label is 10 but batches\.meta\.txt names 10 classes/]);
    for (const [name, bytes, why] of cases) {
      const f = join(tmp, name);
      writeFileSync(f, bytes);
      const err = (await dataImport('cifar-10', f, {}).catch((e: unknown) => e)) as UserError;
      expect(err, name).toBeInstanceOf(UserError);
      expect(err.message, name).toMatch(/^cannot import cifar-10: /);
      expect(err.message, name).toMatch(why);
      expect(existsSync(join(root, 'cifar-10')), name).toBe(false);
    }
    const absent = (await dataImport('cifar-10', join(tmp, 'nope.tar.gz'), {}).catch((e: unknown) => e)) as UserError;
    expect(absent.message).toBe(`cannot read ${join(tmp, 'nope.tar.gz')}: no such file`);
    await expect(dataImport('mnist', archive, {})).rejects.toThrow(/bnx data import fills the cache of an archive dataset \(cifar-10\); mnist is not one/);
  });

  it('a corrupted cache is reported with how to refill it', async () => {
    const root = fresh();
    process.env.BNX_DATA_DIR = root;
    await run(() => dataImport('cifar-10', archive, {}));
    const f = join(root, 'cifar-10', 'train-images-idx3-ubyte');
    const bytes = readFileSync(f);
    bytes[5000] ^= 1;
    writeFileSync(f, bytes);
    expect(await run(() => dataInfo('cifar-10', {}))).toBe(1);
    expect(cap.stderr).toMatch(/digest mismatch: train-images-idx3-ubyte changed/);
    expect(cap.stderr).toContain('to rebuild it: bnx data fetch cifar-10 --force (online), or bnx data import cifar-10 FILE');
    const err = (await loadDataset({ name: 'cifar-10' }).catch((e: unknown) => e)) as UserError;
    expect(err.message).toMatch(/^the cached cifar-10 at .* is corrupt \(digest mismatch/);
    // Re-importing repairs it.
    expect(await run(() => dataImport('cifar-10', archive, {}))).toBe(0);
    expect((await loadDataset({ name: 'cifar-10' })).loadedFrom).toBe('cache');
  });

  it('dataset: { path } reads a folder of CIFAR-10 batches', async () => {
    const dir = join(tmp, 'batches');
    writeCifarFolder(dir, cifarFiles(SPEC));
    const ds = await loadDataset({ path: dir });
    expect([ds.channels, ds.train.count, ds.test.count, ds.loadedFrom]).toEqual([3, 60, 20, 'path']);
    expect(ds.classNames).toEqual(CLASS_NAMES);
    expect(ds.identity.source).toBe(`path:${dir}`);
  });
});

describe('cifar-10: download', () => {
  let server: Server;
  let base = '';
  /** The download's no-data timeout (download.ts): a stalled URL is left after it. */
  const STALL_MS = 15_000;
  beforeAll(async () => {
    delete process.env.BNX_OFFLINE;
    const body = readFileSync(archive);
    server = createServer((req, res) => {
      if (req.url === '/stall') return void res.writeHead(200, { 'content-length': String(body.length) }).write(body.subarray(0, 10));
      if (req.url === '/good') return void res.writeHead(200, { 'content-length': String(body.length) }).end(body);
      res.writeHead(404, 'Not Found').end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    process.env.BNX_OFFLINE = '1';
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('downloads the archive with the published MD5 (skipping a 404 and a stall) into the cache as official', async () => {
    const ds = { ...BUILTIN['cifar-10'], official: { train: 60, test: 20 }, archive: { ...BUILTIN['cifar-10'].archive, urls: [`${base}/missing`, `${base}/stall`, `${base}/good`], md5: md5(archive) } };
    const logs: string[] = [];
    const dataDir = fresh();
    const got = await loadBuiltin(ds, { dataDir, log: (m) => logs.push(m), progress: false });
    expect(got.loadedFrom).toBe('official');
    expect(got.identity).toMatchObject({ name: 'cifar-10', source: 'official', train_count: 60, test_count: 20 });
    expect(logs).toContain(`${base}/missing failed: HTTP 404 Not Found`);
    expect(logs).toContain(`${base}/stall failed: no data for ${STALL_MS / 1000} s`);
    expect(logs).toContain(`cifar-10: downloaded ${base}/good (MD5 verified); converting it`);
    expect((await loadBuiltin(ds, { dataDir })).loadedFrom).toBe('cache');
  }, STALL_MS * 4);

  it('refuses bytes whose MD5 is not the published one, and official archives with other counts', async () => {
    const wrong = { ...BUILTIN['cifar-10'], archive: { ...BUILTIN['cifar-10'].archive, urls: [`${base}/good`] } };
    const err = (await loadBuiltin(wrong, { dataDir: fresh(), progress: false }).catch((e: unknown) => e)) as UserError;
    expect(err.details[0]).toBe(`could not download cifar-10-binary.tar.gz (offline?):\n  ${base}/good: cifar-10-binary.tar.gz has MD5 ${md5(archive)}, the published sum is c32a1d4ab5d03f1284b67883e8d87530`);
    const counts = { ...wrong, archive: { ...wrong.archive, md5: md5(archive) } };
    const err2 = (await loadBuiltin(counts, { dataDir: fresh(), progress: false }).catch((e: unknown) => e)) as UserError;
    expect(err2.details[0]).toBe(`${base}/good: 60/20 examples, expected 50000/10000`);
  }, STALL_MS * 4);
});
