import { runConfig, type RunConfig } from '../config/index.js';
import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { FloatRows, rowFloats } from '../data/index.js';
import { initBackend, type BackendInfo } from './backend.js';
import { divergenceHint, trainModel, type EpochMetrics, type TrainData } from './loop.js';
import { fashionSlice } from './testing.js';

let backend: BackendInfo;
let data: TrainData;

beforeAll(async () => {
  backend = await initBackend('wasm');
  // 2,000 real FashionMNIST training images (200 per class) and 500 test images
  data = await fashionSlice({ trainPerClass: 200, testPerClass: 50 });
});

function run(over: { model?: object; train?: object; seed?: number } = {}): RunConfig {
  return runConfig(
    {
      model: { conv: { filters: [4, 8], kernel_size: 3, pool: 'max' }, ...over.model },
      train: { epochs: 3, optimizer: { type: 'sgd', lr: 0.1 }, backend: 'wasm', ...over.train },
    },
    over.seed ?? 1,
  );
}

const withoutTime = (ms: EpochMetrics[]) => ms.map(({ seconds: _s, ...m }) => m);

describe('trainModel on real FashionMNIST (wasm)', () => {
  test('a short training clearly beats chance and reports every metric per epoch', async () => {
    const seen: EpochMetrics[] = [];
    const out = await trainModel(run(), data, { backend, onEpoch: (m) => seen.push(m) });
    expect(out.status).toBe('FINISHED');
    expect(out.backend.name).toBe('wasm');
    expect(out.epochs).toHaveLength(3);
    expect(seen).toEqual(out.epochs);
    const last = out.epochs[2]!;
    expect(last.test_accuracy).toBeGreaterThan(0.6); // chance is 0.1
    expect(last.train_loss).toBeLessThan(out.epochs[0]!.train_loss);
    for (const m of out.epochs) {
      expect(m).toMatchObject({ lr: 0.1 });
      for (const k of ['train_loss', 'train_accuracy', 'test_loss', 'test_accuracy', 'seconds'] as const) expect(Number.isFinite(m[k])).toBe(true);
    }
    // the returned model is the trained one: its predictions reproduce the reported test accuracy
    const logits = out.model.predict(tf.tensor(rowFloats(data.test), [data.test.n, 784])) as tf.Tensor;
    const pred = Array.from(tf.argMax(logits, 1).dataSync());
    const acc = pred.reduce((a, p, i) => a + (p === data.test.labels[i] ? 1 : 0), 0) / data.test.n;
    expect(acc).toBeCloseTo(last.test_accuracy, 10);
    out.model.dispose();
  });

  test('same config and seed give bit-identical metrics (BN + dropout + momentum + schedule); another seed differs', async () => {
    const cfg = run({
      model: { norm: 'batch', dropout: 0.2 },
      train: { epochs: 2, optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 }, schedule: { type: 'cosine' } },
    });
    const a = await trainModel(cfg, data, { backend });
    const b = await trainModel(cfg, data, { backend });
    const c = await trainModel({ ...cfg, seed: 2 }, data, { backend });
    expect(a.status).toBe('FINISHED');
    expect(withoutTime(a.epochs)).toEqual(withoutTime(b.epochs));
    expect(withoutTime(c.epochs)[0]!.train_loss).not.toBe(withoutTime(a.epochs)[0]!.train_loss);
    expect(a.model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(b.model.getWeights().map((w) => Array.from(w.dataSync())));
    [a, b, c].forEach((o) => o.model.dispose());
  });

  test('no tensor leaks: numTensors is flat across epochs and back to the start after dispose', async () => {
    const start = tf.memory().numTensors;
    const counts: number[] = [];
    const out = await trainModel(run({ model: { norm: 'batch' }, train: { epochs: 3, optimizer: { type: 'adam', lr: 0.001 } } }), data, {
      backend,
      onEpoch: () => counts.push(tf.memory().numTensors),
    });
    expect(out.status).toBe('FINISHED');
    expect(new Set(counts).size).toBe(1);
    out.model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  test('a diverging run ends FAILED with the reason, without throwing', async () => {
    const out = await trainModel(run({ train: { optimizer: { ...run().train.optimizer, lr: 1e6 } } }), data, { backend });
    expect(out.status).toBe('FAILED');
    expect(out.reason).toMatch(/training loss became (NaN|Infinity) at epoch 1, step \d+/);
    expect(out.reason).toMatch(/try a lower learning rate or a normalization layer \(model\.norm\)$/);
    out.model.dispose();
  });

  test('the divergence hint suggests a normalization layer only to a model without one', () => {
    expect(divergenceHint(runConfig({ model: { norm: 'none' } }))).toBe('try a lower learning rate or a normalization layer (model.norm)');
    expect(divergenceHint(runConfig({ model: { norm: 'batch' } }))).toBe('try a lower learning rate');
    expect(divergenceHint(runConfig({ model: { norm: { type: 'group', groups: 4 } } }))).toBe('try a lower learning rate');
  });

  test('an abort signal ends the run KILLED (before the start and mid-epoch)', async () => {
    const pre = new AbortController();
    pre.abort(new Error('user pressed ctrl-c'));
    const a = await trainModel(run(), data, { backend, signal: pre.signal });
    expect(a).toMatchObject({ status: 'KILLED', reason: 'aborted: user pressed ctrl-c', epochs: [] });
    a.model.dispose();
    const mid = new AbortController();
    const timer = setTimeout(() => mid.abort('timeout'), 30);
    const b = await trainModel(run({ train: { epochs: 50 } }), data, { backend, signal: mid.signal });
    clearTimeout(timer);
    expect(b.status).toBe('KILLED');
    expect(b.epochs.length).toBeLessThan(50);
    b.model.dispose();
  });

  test('validation split metrics are reported when the data carries one', async () => {
    const withVal: TrainData = { ...data, val: new FloatRows(rowFloats(data.test, 0, 100), data.test.labels.subarray(0, 100), 784) };
    const out = await trainModel(run({ train: { epochs: 1 } }), withVal, { backend });
    expect(out.epochs[0]!.val_accuracy).toBeGreaterThan(0.3);
    expect(Number.isFinite(out.epochs[0]!.val_loss)).toBe(true);
    out.model.dispose();
  });

  test('a small CNN with GroupNorm trains on wasm (conv filter gradient without the kernel)', async () => {
    const images: TrainData = { ...data, inputShape: [28, 28, 1] };
    const out = await trainModel(
      run({
        model: { type: 'cnn', hidden: [16], norm: { type: 'group', groups: 2 }, conv: { filters: [4, 8], kernel_size: 3, pool: 'max' } },
        train: { epochs: 1, optimizer: { type: 'adam', lr: 0.01 } },
      }),
      images,
      { backend },
    );
    expect(out.status).toBe('FINISHED');
    expect(out.epochs[0]!.test_accuracy).toBeGreaterThan(0.4);
    out.model.dispose();
  });
});
