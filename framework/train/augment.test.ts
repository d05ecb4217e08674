/**
 * train.augment: the crop/flip against an independent pad-crop-flip reference, the same augmented
 * batches for the same seed (whole batches as the tf engine augments them, or row by row as the
 * wasm fast path does), determinism of real training with augmentation (same seed: bit-identical
 * epochs; other seed or no augmentation: different), the fast path and the tf engine training
 * bit-identically with it, and augmentation in the run's normalised config (params and key).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, normalizeConfig, parseStudy, runConfig } from '../config/index.js';
import type { Prepared } from '../data/index.js';
import { runKey } from '../plan/index.js';
import { buildModel } from '../model/index.js';
import { rngFor } from '../util/random.js';
import { makeAugmenter } from './augment.js';
import { FastGraph } from './fast-graph.js';
import { initBackend } from './backend.js';
import { trainModel, type EpochMetrics } from './loop.js';
import { fashionSlice } from './testing.js';

/** torchvision's way, written out: pad with black, crop at (oy, ox), then mirror. */
function reference(img: Float32Array, h: number, w: number, c: number, pad: number, oy: number, ox: number, mirror: boolean, black: number[]): Float32Array {
  const [H, W] = [h + 2 * pad, w + 2 * pad];
  const padded = new Float32Array(H * W * c);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let k = 0; k < c; k++) padded[(y * W + x) * c + k] = black[k]!;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) padded[((y + pad) * W + x + pad) * c + k] = img[(y * w + x) * c + k]!;
  const crop = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) crop[(y * w + x) * c + k] = padded[((y + oy) * W + x + ox) * c + k]!;
  if (!mirror) return crop;
  const out = new Float32Array(h * w * c);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = crop[(y * w + (w - 1 - x)) * c + k]!;
  return out;
}

describe('makeAugmenter', () => {
  const [h, w, c, pad] = [5, 6, 3, 2];
  const black = [-1, -2, -3];
  const images = (n: number) => Float32Array.from({ length: n * h * w * c }, (_, i) => i + 0.5);

  it('is off without a config (no draws)', () => {
    let draws = 0;
    expect(makeAugmenter(undefined, [h, w, c], black, () => (draws++, 0))).toBeUndefined();
    expect(draws).toBe(0);
  });

  it('equals pad -> random crop -> horizontal flip for every offset and flip', () => {
    for (let oy = 0; oy <= 2 * pad; oy++) {
      for (let ox = 0; ox <= 2 * pad; ox++) {
        for (const mirror of [false, true]) {
          // The draws that select (oy, ox, mirror): floor(u * (2 pad + 1)) = offset, u < 0.5 = mirror.
          const draws = [(oy + 0.5) / (2 * pad + 1), (ox + 0.5) / (2 * pad + 1), mirror ? 0.25 : 0.75];
          const aug = makeAugmenter({ crop: { padding: pad }, flip: 'horizontal' }, [h, w, c], black, () => draws.shift()!)!;
          const x = images(1);
          const want = reference(x, h, w, c, pad, oy, ox, mirror, black);
          aug(x, 1);
          expect(draws).toEqual([]);
          expect([...x]).toEqual([...want]);
        }
      }
    }
  });

  it('draws anew for every row and only what is configured', () => {
    const x = images(3);
    const before = x.slice();
    let draws = 0;
    makeAugmenter({ flip: 'horizontal' }, [h, w, c], black, () => (draws++, 0.1))!(x, 3);
    expect(draws).toBe(3);
    const row = h * w * c;
    expect([...x.subarray(row, 2 * row)]).toEqual([...reference(before.subarray(row, 2 * row), h, w, c, 0, 0, 0, true, black)]);
  });

  it('gives the same augmented batches for the same seed, whole batches or row by row; new ones each epoch and for another seed', () => {
    const cfg = { crop: { padding: pad }, flip: 'horizontal' } as const;
    const row = h * w * c;
    const [batches, rows] = [4, 7];
    /** Two epochs of batches as training draws them: one stream per run, consumed in batch order. */
    const epochs = (seed: number, perRow: boolean): Float32Array[][] => {
      const aug = makeAugmenter(cfg, [h, w, c], black, rngFor(seed, 'augment'))!;
      return [0, 1].map(() =>
        Array.from({ length: batches }, (_, k) => {
          const x = images(rows).map((v) => v + k);
          if (!perRow) aug(x, rows);
          else for (let r = 0; r < rows; r++) aug(x.subarray(r * row, (r + 1) * row), 1);
          return x;
        }),
      );
    };
    const a = epochs(1, false);
    expect(epochs(1, false)).toEqual(a);
    // The wasm fast path copies and augments one row at a time: the same draws, the same pixels.
    expect(epochs(1, true)).toEqual(a);
    const differs = (p: Float32Array[], q: Float32Array[]) => p.some((x, k) => x.some((v, i) => v !== q[k]![i]));
    expect(differs(a[1]!, a[0]!)).toBe(true);
    expect(differs(epochs(2, false)[0]!, a[0]!)).toBe(true);
    // Every batch holds augmented rows (some shifted or mirrored away from the input).
    a[0]!.forEach((x, k) => expect(differs([x], [images(rows).map((v) => v + k)])).toBe(true));
  });
});

describe('training with augmentation', () => {
  // flat rows of 28x28x1 images (Prepared carries imageShape and black, which augmentation needs)
  let data: Prepared;
  const cfg = (seed: number, augment?: object) =>
    runConfig(
      {
        dataset: { scale: 255 },
        model: { type: 'mlp', hidden: [32] },
        train: { epochs: 3, batch_size: 32, optimizer: { type: 'sgd', lr: 0.1 }, backend: 'wasm', ...(augment ? { augment } : {}) },
      },
      seed,
    );
  const strip = (e: EpochMetrics[]) => e.map(({ seconds: _s, ...m }) => m);
  beforeAll(async () => {
    await initBackend('wasm');
    data = await fashionSlice({ trainPerClass: 30, testPerClass: 10 });
  });

  it('is bit-identical for the same seed, and differs with another seed or without it', async () => {
    const augment = { crop: { padding: 4 }, flip: 'horizontal' };
    const run = async (seed: number, a?: object) => {
      const o = await trainModel(cfg(seed, a), data);
      o.model.dispose();
      expect(o.status).toBe('FINISHED');
      return strip(o.epochs);
    };
    const a = await run(1, augment);
    const b = await run(1, augment);
    expect(b).toEqual(a);
    const plain = await run(1);
    expect(plain[0]!.train_loss).not.toBe(a[0]!.train_loss);
    const other = await run(2, augment);
    expect(other[0]!.train_loss).not.toBe(a[0]!.train_loss);
    // Off means off: the plain run is the one without any augment key, bit for bit.
    expect(await run(1)).toEqual(plain);
  });

  it('trains bit-identically on the wasm fast path and the tf engine (the same augmented batches)', async () => {
    const c = cfg(3, { crop: { padding: 4 }, flip: 'horizontal' });
    // The MLP runs on the fast path: this compares the two ways batches are augmented, not one with itself.
    const m = buildModel(c.model, [784], 10, 3);
    expect(FastGraph.compile(m, { rows: 1000, optimizer: c.train.optimizer })).not.toBeNull();
    m.dispose();
    const fast = await trainModel(c, data, { fastPath: true });
    const tfEngine = await trainModel(c, data, { fastPath: false });
    const train = (o: typeof fast) => o.epochs.map((e) => [e.train_loss, e.train_accuracy]);
    expect(train(fast)).toEqual(train(tfEngine));
    const bits = (o: typeof fast) => o.model.getWeights().map((t) => [...new Uint32Array(t.dataSync().slice().buffer)]);
    expect(bits(fast)).toEqual(bits(tfEngine));
    expect(train(fast)).not.toEqual(train(await trainModel(cfg(3), data, { fastPath: true })));
    fast.model.dispose();
    tfEngine.model.dispose();
  });

  it('is part of the normalised config (params) and of the run key', () => {
    const on = cfg(1, { crop: { padding: 4 } });
    expect(normalizeConfig(on).train.augment).toEqual({ crop: { padding: 4 } });
    expect('augment' in normalizeConfig(cfg(1)).train).toBe(false);
    const keys = new Set([runKey(cfg(1), 'd'), runKey(on, 'd'), runKey(cfg(1, { crop: { padding: 4 }, flip: 'horizontal' }), 'd'), runKey(cfg(1, { flip: 'horizontal' }), 'd')]);
    expect(keys.size).toBe(4);
    expect(runKey(cfg(1, { flip: 'horizontal', crop: { padding: 4 } }), 'd')).toBe(runKey(cfg(1, { crop: { padding: 4 }, flip: 'horizontal' }), 'd'));
  });

});

describe('train.augment in a study file', () => {
  const problems = (body: string): string[] => {
    try {
      parseStudy(`name: s\ndataset: { name: cifar-10 }\n${body}\n`, 'study.yaml', {});
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).message.split('\n');
    }
    return [];
  };

  it('takes crop and flip, and refuses an empty or unknown augmentation with its place', () => {
    expect(problems('train: { augment: { crop: { padding: 4 }, flip: horizontal } }')).toEqual([]);
    expect(problems('train: { augment: {} }')).toEqual(['study.yaml:3:19: train.augment must have at least 1 entry']);
    expect(problems('train: { augment: { flip: vertical } }')).toEqual(['study.yaml:3:27: train.augment.flip must be one of: horizontal (got "vertical")']);
    expect(problems('train: { augment: { crop: { padding: 0 } } }')).toEqual(['study.yaml:3:38: train.augment.crop.padding must be >= 1 (got 0)']);
  });
});
