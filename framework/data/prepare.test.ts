import { describe, expect, it } from 'vitest';
import type { DatasetConfig } from '../config/index.js';
import { UserError } from '../util/errors.js';
import { pixelTable, prepareData } from './prepare.js';
import { rowFloats } from './rows.js';
import type { Dataset } from './types.js';

/** A 3x2 dataset whose image i is filled with the byte value i % 256, label i % 4. */
function toy(nTrain: number, nTest: number): Dataset {
  const split = (n: number, offset: number) => ({
    images: new Uint8Array(n * 6).map((_, k) => (Math.floor(k / 6) + offset) % 256),
    labels: new Uint8Array(n).map((_, i) => (i + offset) % 4),
    count: n,
  });
  return {
    name: 'toy',
    classNames: ['a', 'b', 'c', 'd'],
    height: 3,
    width: 2,
    channels: 1,
    train: split(nTrain, 0),
    test: split(nTest, 100),
    identity: { name: 'toy', source: 'path:/toy', digest: 'x', train_count: nTrain, test_count: nTest, approximate_split: false, location: '/toy' },
    loadedFrom: 'path',
  };
}

const cfg = (extra: Partial<DatasetConfig> = {}): DatasetConfig => ({ name: 'fashion-mnist', scale: 255, ...extra });
/** Image k of prepared X (all its pixels are equal), as the byte it came from. */
const sourceByte = (x: Float32Array, k: number, f = (v: number) => v * 255) => Math.round(f(x[k * 6]!));

describe('prepareData', () => {
  it('scales bytes and lays out flat or NHWC', () => {
    const ds = toy(10, 4);
    const flat = prepareData(ds, cfg(), 'flat');
    expect(flat.inputShape).toEqual([6]);
    expect(flat.featureSize).toBe(6);
    expect([flat.train.n, flat.test.n]).toEqual([10, 4]);
    expect(flat.val).toBeUndefined();
    expect(rowFloats(flat.train)[6 * 7 + 3]).toBeCloseTo(7 / 255, 7);
    expect(rowFloats(flat.test)[0]).toBeCloseTo(100 / 255, 7);
    expect([...flat.train.labels]).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1]);
    expect(flat.numClasses).toBe(4);
    expect(flat.classNames).toEqual(['a', 'b', 'c', 'd']);
    const image = prepareData(ds, cfg({ scale: 1 }), 'image');
    expect(image.inputShape).toEqual([3, 2, 1]);
    expect(rowFloats(image.train)[6 * 9]).toBe(9);
  });

  it('normalizes (pixel / scale - mean) / std', () => {
    const p = prepareData(toy(4, 2), cfg({ normalize: { mean: [0.2860], std: [0.3530] } }), 'flat');
    expect(rowFloats(p.train)[6 * 3]).toBeCloseTo((3 / 255 - 0.286) / 0.353, 6);
    expect(rowFloats(p.test)[6]).toBeCloseTo((101 / 255 - 0.286) / 0.353, 6);
    const t = pixelTable(2, 3, { mean: [0, 1, 2], std: [1, 2, 4] });
    expect([t[10], t[256 + 10], t[512 + 10]]).toEqual([5, 2, 0.75]);
    expect(() => pixelTable(255, 1, { mean: [0.1, 0.2], std: [1] })).toThrow(UserError);
    expect(() => pixelTable(255, 1, { mean: [0.1, 0.2], std: [1] })).toThrow(/normalize\.mean has 2 values; the data has 1 channel/);
  });

  it('carves a validation split: disjoint, complete, in order, fixed by its own seed', () => {
    const ds = toy(200, 10);
    const a = prepareData(ds, cfg({ validation: { fraction: 0.25, seed: 3 } }), 'flat');
    expect([a.train.n, a.val!.n]).toEqual([150, 50]);
    expect(rowFloats(a.val!).length).toBe(50 * 6);
    const train = Array.from({ length: a.train.n }, (_, k) => sourceByte(rowFloats(a.train), k));
    const val = Array.from({ length: a.val!.n }, (_, k) => sourceByte(rowFloats(a.val!), k));
    expect([...train, ...val].sort((x, y) => x - y)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(train).toEqual([...train].sort((x, y) => x - y));
    expect([...a.val!.labels]).toEqual(val.map((v) => v % 4)); // labels travel with their images
    const again = prepareData(ds, cfg({ validation: { fraction: 0.25, seed: 3 } }), 'flat');
    expect(Buffer.from(rowFloats(again.val!).buffer).equals(Buffer.from(rowFloats(a.val!).buffer))).toBe(true);
    const other = prepareData(ds, cfg({ validation: { fraction: 0.25, seed: 4 } }), 'flat');
    expect(Buffer.from(rowFloats(other.val!).buffer).equals(Buffer.from(rowFloats(a.val!).buffer))).toBe(false);
    expect(() => prepareData(toy(3, 1), cfg({ validation: { fraction: 0.1, seed: 0 } }), 'flat')).toThrow(/leaves 0 for validation and 3 for training/);
  });

  it('subsets the first N of a fixed permutation, kept in order, the same every time', () => {
    const ds = toy(250, 50); // under 256 images: each byte value names one image
    const a = prepareData(ds, cfg({ subset: { train: 40, test: 7 } }), 'flat');
    expect([a.train.n, a.test.n]).toEqual([40, 7]);
    const picked = Array.from({ length: 40 }, (_, k) => sourceByte(rowFloats(a.train), k));
    expect(new Set(picked).size).toBe(40);
    expect(picked).toEqual([...picked].sort((x, y) => x - y));
    expect(picked).not.toEqual(Array.from({ length: 40 }, (_, i) => i)); // a draw, not a prefix
    const b = prepareData(ds, cfg({ subset: { train: 40, test: 7 } }), 'flat');
    expect(Buffer.from(rowFloats(b.train).buffer).equals(Buffer.from(rowFloats(a.train).buffer))).toBe(true);
    // A larger subset extends a smaller one (first N of the same permutation).
    const big = prepareData(ds, cfg({ subset: { train: 80 } }), 'flat');
    const bigSet = new Set(Array.from({ length: 80 }, (_, k) => sourceByte(rowFloats(big.train), k)));
    expect(picked.every((v) => bigSet.has(v))).toBe(true);
    expect(big.test.n).toBe(50);
    // More than there is: everything.
    expect(prepareData(ds, cfg({ subset: { train: 10_000 } }), 'flat').train.n).toBe(250);
  });

  it('keeps bytes, not floats: every row is the pixel table entry of its byte, through any index', () => {
    const ds = toy(250, 10); // under 256 images: each byte value names one image
    const c = cfg({ normalize: { mean: [0.2860], std: [0.3530] }, subset: { train: 120 }, validation: { fraction: 0.25, seed: 1 } });
    const table = pixelTable(255, 1, c.normalize);
    const p = prepareData(ds, c, 'flat');
    const seen = new Set<number>();
    for (const rows of [p.train, p.val!, p.test]) {
      const x = rowFloats(rows);
      for (let k = 0; k < rows.n; k++) {
        const row = Array.from(x.subarray(k * 6, k * 6 + 6));
        const byte = table.indexOf(row[0]!);
        expect(row).toEqual(new Array(6).fill(table[byte]));
        // the label is the one of the image this row came from (toy: image i holds byte i % 256, label i % 4)
        if (rows !== p.test) {
          expect(rows.labels[k]).toBe(byte % 4);
          seen.add(byte);
        }
      }
    }
    expect(seen.size).toBe(120);
    // A row written anywhere (a batch slot at an offset) is the same floats.
    const dst = new Float32Array(20).fill(-1);
    p.train.copyRow(3, dst, 7);
    expect(Array.from(dst.subarray(7, 13))).toEqual(Array.from(rowFloats(p.train, 3, 4)));
    expect([dst[6], dst[13]]).toEqual([-1, -1]);
  });

  it('carves validation out of the subset', () => {
    const p = prepareData(toy(300, 10), cfg({ subset: { train: 100 }, validation: { fraction: 0.2, seed: 0 } }), 'flat');
    expect([p.train.n, p.val!.n]).toEqual([80, 20]);
  });
});
