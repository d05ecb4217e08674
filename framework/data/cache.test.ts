import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dataRoot, META_FILE, readCache, readMetaCheap, writeCache, type MetaInput } from './cache.js';
import { makeSet, setDigest, type IdxSet } from './idx-set.js';

const tmp = mkdtempSync(join(tmpdir(), 'bnx-cache-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function set(seed: number): IdxSet {
  const img = (n: number) => new Uint8Array(n * 16).map((_, k) => (k * 31 + seed) % 256);
  const lab = (n: number) => new Uint8Array(n).map((_, i) => (i + seed) % 4);
  return makeSet(4, 4, { images: img(50), labels: lab(50) }, { images: img(10), labels: lab(10) });
}
const meta = (source = 'path:/somewhere'): MetaInput => ({ name: 'toy', source, approximate_split: false, class_names: ['a', 'b', 'c', 'd'] });

let n = 0;
const freshRoot = () => join(tmp, `root${n++}`);

describe('dataset cache', () => {
  it('resolves its root: explicit, then BNX_DATA_DIR, then ~/.cache/bnx/datasets', () => {
    const saved = process.env.BNX_DATA_DIR;
    try {
      process.env.BNX_DATA_DIR = '/x/y';
      expect(dataRoot('/explicit')).toBe('/explicit');
      expect(dataRoot()).toBe('/x/y');
      delete process.env.BNX_DATA_DIR;
      expect(dataRoot()).toBe(join(homedir(), '.cache', 'bnx', 'datasets'));
    } finally {
      if (saved === undefined) delete process.env.BNX_DATA_DIR;
      else process.env.BNX_DATA_DIR = saved;
    }
  });

  it('writes four IDX files and meta.json, and reads them back validated', () => {
    const root = freshRoot();
    const s = set(1);
    const w = writeCache(root, 'toy', s, meta());
    expect(w.ours).toBe(true);
    expect(readdirSync(w.dir).sort()).toEqual(['meta.json', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte', 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte']);
    expect(readdirSync(root)).toEqual(['toy']); // no temp folder left behind
    const m = JSON.parse(readFileSync(join(w.dir, META_FILE), 'utf8'));
    expect(m).toMatchObject({ format: 1, name: 'toy', counts: { train: 50, test: 10 }, shape: { height: 4, width: 4, channels: 1 }, digest: setDigest(s) });
    expect(m.files['train-images-idx3-ubyte'].bytes).toBe(16 + 50 * 16);
    const r = readCache(w.dir);
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(Buffer.from(r.set.trainImages.data).equals(Buffer.from(s.trainImages.data))).toBe(true);
    expect(readMetaCheap(w.dir)?.digest).toBe(setDigest(s));
  });

  it('reports a missing cache as missing, not corrupt', () => {
    expect(readCache(join(tmp, 'absent'))).toEqual({ status: 'missing' });
  });

  it('detects a truncated file by size and names it', () => {
    const w = writeCache(freshRoot(), 'toy', set(2), meta());
    truncateSync(join(w.dir, 'train-images-idx3-ubyte'), 500);
    expect(readCache(w.dir)).toEqual({ status: 'corrupt', problem: 'train-images-idx3-ubyte is truncated: 500 bytes, meta.json records 816' });
    expect(readMetaCheap(w.dir)).toBeUndefined();
  });

  it('detects a flipped byte through the digest and names the changed file', () => {
    const w = writeCache(freshRoot(), 'toy', set(3), meta());
    const f = join(w.dir, 't10k-labels-idx1-ubyte');
    const bytes = readFileSync(f);
    bytes[bytes.length - 1] ^= 0x01;
    writeFileSync(f, bytes);
    const r = readCache(w.dir);
    expect(r.status).toBe('corrupt');
    expect(r.status === 'corrupt' && r.problem).toMatch(/^digest mismatch: t10k-labels-idx1-ubyte changed \(sha256 over the files is [0-9a-f]{16}\.\.\., meta\.json records/);
    // The cheap identity check only looks at sizes: it cannot see a flipped byte, which is why loads hash.
    expect(readMetaCheap(w.dir)).toBeDefined();
  });

  it('detects a broken magic number, a missing file, a missing or garbled meta.json', () => {
    const w = writeCache(freshRoot(), 'toy', set(4), meta());
    const f = join(w.dir, 'train-labels-idx1-ubyte');
    const good = readFileSync(f);
    const bad = Buffer.from(good);
    bad[3] = 0x03;
    writeFileSync(f, bad);
    expect(readCache(w.dir)).toMatchObject({ status: 'corrupt', problem: expect.stringMatching(/^train-labels-idx1-ubyte: truncated: the header promises/) });
    bad[3] = 0x01;
    bad[0] = 0x42;
    writeFileSync(f, bad);
    expect(readCache(w.dir)).toMatchObject({ status: 'corrupt', problem: expect.stringMatching(/bad magic number 0x42000801/) });
    rmSync(f);
    expect(readCache(w.dir)).toEqual({ status: 'corrupt', problem: 'train-labels-idx1-ubyte is missing' });
    writeFileSync(f, good);
    expect(readCache(w.dir).status).toBe('ok');
    writeFileSync(join(w.dir, META_FILE), '{"format": 1, "name"');
    expect(readCache(w.dir)).toMatchObject({ status: 'corrupt', problem: expect.stringMatching(/^meta\.json is not valid JSON/) });
    rmSync(join(w.dir, META_FILE));
    expect(readCache(w.dir)).toEqual({ status: 'corrupt', problem: 'meta.json is missing' });
  });

  it('adopts a valid folder another process renamed into place first; replaces it when asked', () => {
    const root = freshRoot();
    const first = writeCache(root, 'toy', set(5), meta('first'));
    const second = writeCache(root, 'toy', set(6), meta('second'));
    expect(second.ours).toBe(false);
    expect(second.meta.source).toBe('first');
    expect(setDigest(second.set)).toBe(first.meta.digest);
    const forced = writeCache(root, 'toy', set(6), meta('second'), { replace: true });
    expect(forced.ours).toBe(true);
    const r = readCache(forced.dir);
    expect(r.status === 'ok' && r.meta.source).toBe('second');
    expect(readdirSync(root)).toEqual(['toy']);
  });

  it('replaces a corrupt folder instead of adopting it', () => {
    const root = freshRoot();
    const w = writeCache(root, 'toy', set(7), meta('old'));
    truncateSync(join(w.dir, 'train-images-idx3-ubyte'), 10);
    const again = writeCache(root, 'toy', set(7), meta('new'));
    expect(again.ours).toBe(true);
    expect(readCache(w.dir).status).toBe('ok');
  });

  it('sweeps temp folders left by a killed fill once they are an hour old, not younger ones', () => {
    const root = freshRoot();
    mkdirSync(join(root, '.toy.tmp-old'), { recursive: true });
    mkdirSync(join(root, '.toy.tmp-young'), { recursive: true });
    const past = new Date(Date.now() - 2 * 3600_000);
    utimesSync(join(root, '.toy.tmp-old'), past, past);
    writeCache(root, 'toy', set(8), meta());
    expect(existsSync(join(root, '.toy.tmp-old'))).toBe(false);
    expect(existsSync(join(root, '.toy.tmp-young'))).toBe(true);
  });
});
