import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { sequential, layers, type LayersModel } from '@tensorflow/tfjs-layers';
import { initBackend } from '../../train/index.js';
import { GroupNormalization, groupNorm } from './group-normalization.js';
import { RMSNormalization, rmsNorm } from './rms-normalization.js';
import { loadModelArtifacts, saveModelArtifacts } from '../../model/index.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

beforeAll(async () => {
  await initBackend('cpu');
});

/** A fixed pseudo-random tensor (no tf RNG, so values do not depend on backend or call order). */
function fixed(shape: number[], seed: number, scale = 1): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    v[i] = (s / 2147483648 - 0.5) * 2 * scale;
  }
  return tf.tensor(v, shape);
}

/**
 * Central finite differences of L = sum(f(inputs) * R) against tf's autodiff, for every input
 * element. float32 limits the accuracy, so h is large-ish and the tolerance relative.
 */
function gradCheck(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], h = 1e-2): number {
  const R = fixed(f(...inputs).shape, 99);
  const loss = (...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), R));
  const analytic = tf.grads(loss)(inputs).map((g) => g.dataSync());
  let worst = 0;
  inputs.forEach((x, k) => {
    const base = x.dataSync().slice();
    for (let i = 0; i < base.length; i++) {
      const at = (delta: number) => {
        const v = base.slice();
        v[i] = v[i]! + delta;
        const xs = inputs.map((t, j) => (j === k ? tf.tensor(v, x.shape) : t));
        return tf.tidy(() => loss(...xs).dataSync()[0]!);
      };
      const numeric = (at(h) - at(-h)) / (2 * h);
      const a = analytic[k]![i]!;
      const err = Math.abs(numeric - a) / (1e-2 + Math.abs(numeric) + Math.abs(a));
      worst = Math.max(worst, err);
    }
  });
  return worst;
}

describe('BnxGroupNormalization', () => {
  test('normalizes each group of each example to mean 0, variance 1 (MLP features and CNN channels)', () => {
    const x = fixed([3, 8], 1, 3);
    const y = tf.reshape(groupNorm(x, 2, 1e-5, null, null), [3, 2, 4]);
    const { mean, variance } = tf.moments(y, 2);
    expect(Math.max(...Array.from(tf.abs(mean).dataSync()))).toBeLessThan(1e-5);
    expect(Math.max(...Array.from(tf.abs(tf.sub(variance, 1)).dataSync()))).toBeLessThan(1e-3);
    // CNN: groups span spatial positions too
    const xc = fixed([2, 3, 3, 4], 2, 2);
    const yc = tf.reshape(tf.transpose(tf.reshape(groupNorm(xc, 2, 1e-5, null, null), [2, 9, 2, 2]), [0, 2, 1, 3]), [2, 2, 18]);
    const mc = tf.moments(yc, 2);
    expect(Math.max(...Array.from(tf.abs(mc.mean).dataSync()))).toBeLessThan(1e-5);
    expect(Math.max(...Array.from(tf.abs(tf.sub(mc.variance, 1)).dataSync()))).toBeLessThan(1e-3);
  });

  test('gradients match finite differences (x, gamma, beta; dense and conv inputs)', () => {
    const gamma = fixed([6], 3, 1);
    const beta = fixed([6], 4, 1);
    const dense = gradCheck((x, g, b) => groupNorm(x, 3, 1e-5, g, b), [fixed([4, 6], 5, 2), gamma, beta]);
    expect(dense).toBeLessThan(2e-2);
    const conv = gradCheck((x, g, b) => groupNorm(x, 2, 1e-5, g, b), [fixed([2, 2, 2, 6], 6, 2), gamma, beta]);
    expect(conv).toBeLessThan(2e-2);
    // instance norm: one group per channel
    const inst = gradCheck((x) => groupNorm(x, 6, 1e-5, null, null), [fixed([2, 3, 3, 6], 7, 2)]);
    expect(inst).toBeLessThan(2e-2);
  });

  test('the layer computes the same as the math, exposes gamma/beta, round-trips getConfig', () => {
    const layer = new GroupNormalization({ groups: 2, epsilon: 1e-4, name: 'gn' });
    const x = fixed([3, 4], 8, 2);
    const y = layer.apply(x) as tf.Tensor;
    expect(layer.getWeights().map((w) => w.shape)).toEqual([[4], [4]]);
    expect(layer.weights.map((w) => w.originalName)).toEqual(['gn/gamma', 'gn/beta']);
    expect(Array.from(y.dataSync())).toEqual(Array.from(groupNorm(x, 2, 1e-4, tf.ones([4]), tf.zeros([4])).dataSync()));
    const cfg = layer.getConfig();
    expect(cfg).toMatchObject({ groups: 2, epsilon: 1e-4, center: true, scale: true, name: 'gn' });
    const again = tf.serialization.SerializationMap.getMap().classNameMap['BnxGroupNormalization']!;
    const copy = (again[1] as unknown as (c: typeof GroupNormalization, cfg: tf.serialization.ConfigDict) => GroupNormalization)(GroupNormalization, cfg);
    expect(copy.getConfig()).toEqual(cfg);
  });

  test('rejects groups that do not divide the channels', () => {
    expect(() => new GroupNormalization({ groups: 3 }).apply(tf.zeros([2, 4]))).toThrow(/3 groups must divide the 4 channels/);
  });
});

describe('BnxRMSNormalization', () => {
  test('y = x / rms(x) * gamma over the last axis', () => {
    const x = tf.tensor2d([[3, 4]]);
    const y = rmsNorm(x, 0, tf.tensor1d([1, 2]));
    const rms = Math.sqrt((9 + 16) / 2);
    const v = y.dataSync();
    expect(v[0]).toBeCloseTo(3 / rms, 6);
    expect(v[1]).toBeCloseTo((2 * 4) / rms, 6);
  });

  test('gradients match finite differences (x, gamma; dense and conv inputs)', () => {
    expect(gradCheck((x, g) => rmsNorm(x, 1e-5, g), [fixed([4, 5], 9, 2), fixed([5], 10, 1)])).toBeLessThan(2e-2);
    expect(gradCheck((x, g) => rmsNorm(x, 1e-5, g), [fixed([2, 2, 2, 3], 11, 2), fixed([3], 12, 1)])).toBeLessThan(2e-2);
  });

  test('layer weights and getConfig round-trip', () => {
    const layer = new RMSNormalization({ epsilon: 1e-6, name: 'rms' });
    layer.apply(tf.zeros([2, 3]));
    expect(layer.weights.map((w) => [w.originalName, w.shape])).toEqual([['rms/gamma', [3]]]);
    expect(layer.getConfig()).toMatchObject({ epsilon: 1e-6, scale: true, name: 'rms' });
    const copy = new RMSNormalization(layer.getConfig() as { epsilon: number });
    expect(copy.getConfig()).toEqual(layer.getConfig());
  });
});

describe('custom layers in saved models', () => {
  test('a model with both custom layers saves and loads with identical predictions', async () => {
    const m: LayersModel = sequential({
      layers: [
        layers.dense({ units: 6, inputShape: [5], name: 'd1' }),
        new GroupNormalization({ groups: 3, name: 'gn' }),
        new RMSNormalization({ name: 'rms' }),
        layers.dense({ units: 2, name: 'out' }),
      ],
    });
    // non-trivial norm weights so a load that ignored them would differ
    m.getLayer('gn').setWeights([fixed([6], 20, 1), fixed([6], 21, 1)]);
    m.getLayer('rms').setWeights([fixed([6], 22, 1)]);
    const dir = mkdtempSync(join(tmpdir(), 'bnx-custom-'));
    try {
      await saveModelArtifacts(m, dir);
      const loaded = await loadModelArtifacts(dir);
      expect(loaded.layers.map((l) => l.getClassName())).toEqual(['Dense', 'BnxGroupNormalization', 'BnxRMSNormalization', 'Dense']);
      const x = fixed([4, 5], 23, 1);
      expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((m.predict(x) as tf.Tensor).dataSync()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
