import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../util/errors.js';
import { encodeIdx, IdxError, parseIdx, readIdxFile } from './idx.js';
import { checkSet, makeSet, setDigest } from './idx-set.js';
import { loadDataset } from './load.js';
import { loadIdxFolder } from './path-source.js';
import { dataShape } from './shape.js';

const tmp = mkdtempSync(join(tmpdir(), 'bnx-idx-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** n images of h x w whose pixel p of image i is (i * 7 + p) mod 256, labels i mod classes. */
function synthetic(n: number, h: number, w: number, classes = 3) {
  const images = new Uint8Array(n * h * w).map((_, k) => (Math.floor(k / (h * w)) * 7 + (k % (h * w))) % 256);
  const labels = new Uint8Array(n).map((_, i) => i % classes);
  return { images, labels };
}

describe('IDX bytes', () => {
  it('writes the documented header: magic, big-endian dims, then the values', () => {
    const bytes = encodeIdx(new Uint8Array([1, 2, 3, 4, 5, 6]), [1, 2, 3]);
    expect([...bytes.subarray(0, 16)]).toEqual([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3]);
    expect([...bytes.subarray(16)]).toEqual([1, 2, 3, 4, 5, 6]);
    const labels = encodeIdx(new Uint8Array([9, 0, 300 % 256]), [3]);
    expect([...labels.subarray(0, 8)]).toEqual([0, 0, 8, 1, 0, 0, 0, 3]);
  });

  it('round-trips images and labels, plain and gzipped, with dims above 255', () => {
    const { images, labels } = synthetic(300, 5, 4);
    for (const wrap of [(b: Uint8Array) => b, (b: Uint8Array) => gzipSync(b)]) {
      const img = parseIdx(wrap(encodeIdx(images, [300, 5, 4])));
      expect(img.kind).toBe('images');
      expect(img.dims).toEqual([300, 5, 4]);
      expect(Buffer.from(img.data).equals(Buffer.from(images))).toBe(true);
      const lab = parseIdx(wrap(encodeIdx(labels, [300])));
      expect(lab.kind).toBe('labels');
      expect(lab.dims).toEqual([300]);
      expect([...lab.data.subarray(0, 5)]).toEqual([0, 1, 2, 0, 1]);
    }
  });

  it('rejects a bad magic number with the expected values in the message', () => {
    const bytes = encodeIdx(new Uint8Array(4), [4]);
    bytes[2] = 0x0d; // float data
    expect(() => parseIdx(bytes, 'x.idx')).toThrow(/x\.idx: bad magic number 0x00000d01 \(IDX values are not unsigned bytes\); expected 0x00000801/);
    expect(() => parseIdx(new TextEncoder().encode('<html>not found</html>'), 'page')).toThrow(/page: bad magic number 0x3c68746d \(not an IDX file\)/);
    expect(() => parseIdx(new Uint8Array([0, 0, 8]), 'tiny')).toThrow(/tiny: 3 bytes, too short/);
  });

  it('rejects truncated and over-long bodies, plain and gzipped', () => {
    const full = encodeIdx(synthetic(10, 3, 3).images, [10, 3, 3]);
    expect(() => parseIdx(full.subarray(0, full.length - 5), 'cut')).toThrow(
      /cut: truncated: the header promises 10 x 3 x 3 = 90 bytes of values but the file holds 85/,
    );
    expect(() => parseIdx(full.subarray(0, 10), 'hdr')).toThrow(/hdr: truncated inside the header/);
    expect(() => parseIdx(Buffer.concat([full, Buffer.from([1, 2])]), 'long')).toThrow(/long: 2 unexpected bytes after/);
    expect(() => parseIdx(gzipSync(full.subarray(0, 50)), 'gz-of-cut')).toThrow(/truncated/);
    const gz = gzipSync(full);
    expect(() => parseIdx(gz.subarray(0, gz.length - 8), 'cut.gz')).toThrow(IdxError);
    expect(() => parseIdx(gz.subarray(0, gz.length - 8), 'cut.gz')).toThrow(/cut\.gz: not a valid gzip stream/);
  });

  it('reads files from disk, naming the file in errors', () => {
    const file = join(tmp, 'labels-idx1-ubyte.gz');
    writeFileSync(file, gzipSync(encodeIdx(new Uint8Array([3, 1, 4]), [3])));
    expect([...readIdxFile(file).data]).toEqual([3, 1, 4]);
    writeFileSync(file, 'junk');
    expect(() => readIdxFile(file)).toThrow(file);
  });
});

describe('a folder of IDX files (dataset: { path })', () => {
  const train = synthetic(40, 6, 5);
  const test = synthetic(12, 6, 5);
  const set = makeSet(6, 5, train, test);

  function writeFolder(name: string, style: (f: string) => { file: string; gz: boolean }): string {
    const dir = join(tmp, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const files: [string, Uint8Array][] = [
      ['train-images-idx3-ubyte', set.trainImages.raw],
      ['train-labels-idx1-ubyte', set.trainLabels.raw],
      ['t10k-images-idx3-ubyte', set.testImages.raw],
      ['t10k-labels-idx1-ubyte', set.testLabels.raw],
    ];
    for (const [f, raw] of files) {
      const { file, gz } = style(f);
      writeFileSync(join(dir, file), gz ? gzipSync(raw) : raw);
    }
    return dir;
  }

  it('loads plain, gzipped and dotted names, all with the same digest', async () => {
    const dirs = [
      writeFolder('plain', (f) => ({ file: f, gz: false })),
      writeFolder('gz', (f) => ({ file: `${f}.gz`, gz: true })),
      writeFolder('dotted', (f) => ({ file: `${f.replace('-idx', '.idx')}.gz`, gz: true })),
    ];
    const digests = new Set<string>();
    for (const dir of dirs) {
      const ds = await loadDataset({ path: dir });
      expect(ds.loadedFrom).toBe('path');
      expect([ds.height, ds.width, ds.channels]).toEqual([6, 5, 1]);
      expect(ds.train.count).toBe(40);
      expect(ds.test.count).toBe(12);
      expect(ds.classNames).toEqual(['0', '1', '2']);
      expect(Buffer.from(ds.train.images).equals(Buffer.from(train.images))).toBe(true);
      expect(Buffer.from(ds.test.labels).equals(Buffer.from(test.labels))).toBe(true);
      expect(ds.identity).toMatchObject({ source: `path:${dir}`, location: dir, approximate_split: false, train_count: 40, test_count: 12 });
      digests.add(ds.identity.digest);
    }
    expect([...digests]).toEqual([setDigest(set)]);
  });

  it('says which file is missing and what the folder holds', () => {
    const dir = writeFolder('partial', (f) => ({ file: f, gz: false }));
    rmSync(join(dir, 't10k-labels-idx1-ubyte'));
    try {
      loadIdxFolder(dir);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).message).toBe(`dataset path ${dir} lacks t10k-labels-idx1-ubyte[.gz]`);
      expect((err as UserError).details[0]).toContain('train-images-idx3-ubyte');
    }
    expect(() => loadIdxFolder(join(tmp, 'nope'))).toThrow(/is not a folder/);
  });

  it('rejects files that disagree: counts, image sizes, kinds', () => {
    const dir = writeFolder('mismatch', (f) => ({ file: f, gz: false }));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), encodeIdx(new Uint8Array(39), [39]));
    expect(() => loadIdxFolder(dir)).toThrow(/40 train images but 39 train labels/);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), set.trainLabels.raw);
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), encodeIdx(new Uint8Array(12 * 30), [12, 5, 6]));
    expect(() => loadIdxFolder(dir)).toThrow(/train images are 6x5 but test images are 5x6/);
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), set.testLabels.raw);
    expect(() => loadIdxFolder(dir)).toThrow(/t10k-images-idx3-ubyte: holds labels/);
  });

  it('refuses a label outside the classes, naming the file and index', () => {
    const dir = writeFolder('stray-label', (f) => ({ file: f, gz: false }));
    const labels = new Uint8Array(set.trainLabels.data);
    labels[17] = 255;
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), encodeIdx(labels, [labels.length]));
    expect(() => loadIdxFolder(dir)).toThrow(
      `${dir}/train-labels-idx1-ubyte: training label 255 at index 17 is out of range: the training labels cover classes 0-2 and class 3 has no training examples`,
    );
    // A test label no training example has is refused too.
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), set.trainLabels.raw);
    const test = new Uint8Array(set.testLabels.data);
    test[4] = 7;
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx(test, [test.length]));
    expect(() => loadIdxFolder(dir)).toThrow(/t10k-labels-idx1-ubyte: test label 7 at index 4 is out of range/);
  });

  it('dataShape reads sizes from the headers (plain and gzipped) and says when the folder is not usable', () => {
    for (const [name, gz] of [['shape-plain', false], ['shape-gz', true]] as const) {
      const dir = writeFolder(name, (f) => ({ file: gz ? `${f}.gz` : f, gz }));
      expect(dataShape({ path: dir })).toEqual({ height: 6, width: 5, channels: 1, train: 40, test: 12 });
    }
    expect(dataShape({ path: join(tmp, 'nope') })).toBe(`dataset.path ${join(tmp, 'nope')} does not exist; give a folder of IDX files (relative to the study file)`);
    const partial = writeFolder('shape-partial', (f) => ({ file: f, gz: false }));
    rmSync(join(partial, 't10k-images-idx3-ubyte'));
    expect(dataShape({ path: partial })).toBe(`dataset.path ${partial} lacks t10k-images-idx3-ubyte[.gz]`);
    expect(dataShape({ name: 'fashion-mnist' })).toEqual({ height: 28, width: 28, channels: 1, train: 60000, test: 10000 });
  });

  it('checkSet reports the shape and class count', () => {
    expect(checkSet(set, 'mem')).toEqual({ train: 40, test: 12, channels: 1, height: 6, width: 5, numClasses: 3 });
  });
});
