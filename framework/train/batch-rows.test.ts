/** The fast path's batch copy (batch-rows.wat) writes exactly the floats of ByteRows.copyRow. */
import { describe, expect, test } from 'vitest';
import { ByteRows, FloatRows, type Rows } from '../data/index.js';
import { KernelMemory } from '../layers/index.js';
import { rngFor } from '../util/random.js';
import { BatchRows } from './batch-rows.js';

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(Float32Array.from(a).buffer));

/** n random examples of `features` bytes with a table of distinct, awkward floats per channel. */
function byteRows(n: number, features: number, channels: number, seed: number): ByteRows {
  const rng = rngFor(seed, 'batch-rows');
  const images = Uint8Array.from({ length: n * features }, () => Math.floor(rng() * 256));
  const table = Float32Array.from({ length: 256 * channels }, (_, k) => (k % 256) / 255 - 0.3 * Math.floor(k / 256) + 1e-7 * k);
  // a shuffled index, as prepareData builds for a subset or a validation split
  const index = Uint32Array.from({ length: n }, (_, i) => (i * 7 + 3) % n);
  return new ByteRows(images, new Uint8Array(n), features, table, channels, index);
}

/** Rows written by a BatchRows at `at` floats into a fresh memory, then read back with their neighbours. */
function written(rows: Rows, features: number, at: number): { got: Float32Array; want: Float32Array } {
  const mem = new KernelMemory();
  const out = mem.buffer(at + rows.n * features + 8);
  const batch = new BatchRows(mem, features);
  mem.commit(0);
  mem.f32.fill(-7, out.off, out.off + out.len);
  for (let i = 0; i < rows.n; i++) batch.write(rows, i, out.off + at + i * features);
  const want = new Float32Array(out.len).fill(-7);
  for (let i = 0; i < rows.n; i++) rows.copyRow(i, want, at + i * features);
  return { got: mem.view(out).slice(), want };
}

describe('BatchRows', () => {
  for (const [features, channels] of [[784, 1], [13, 1], [2, 1], [12, 3], [3 * 5, 3], [8, 4]] as const) {
    test(`${features} bytes of ${channels} channel(s): bit for bit ByteRows.copyRow, nothing outside the row`, () => {
      const rows = byteRows(9, features, channels, features);
      const { got, want } = written(rows, features, 5);
      expect(bits(got)).toEqual(bits(want));
    });
  }

  test('a second set of rows with its own table (train, then test) and float rows', () => {
    const a = byteRows(4, 20, 1, 1);
    const b = byteRows(4, 20, 1, 2);
    const mem = new KernelMemory();
    const out = mem.buffer(3 * 4 * 20);
    const batch = new BatchRows(mem, 20);
    mem.commit(0);
    const x = Float32Array.from({ length: 80 }, (_, k) => k / 3);
    const f = new FloatRows(x, new Uint8Array(4), 20);
    const want = new Float32Array(out.len);
    [a, b, f].forEach((rows, s) => {
      for (let i = 0; i < 4; i++) {
        batch.write(rows, i, out.off + (s * 4 + i) * 20);
        rows.copyRow(i, want, (s * 4 + i) * 20);
      }
    });
    expect(bits(mem.view(out))).toEqual(bits(want));
  });
});
