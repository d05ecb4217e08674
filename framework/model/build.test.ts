import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ModelConfig, NORMS, INITIALIZERS, ACTIVATIONS } from '../config/index.js';
import { initBackend } from '../train/index.js';
import { buildModel } from './build.js';
import { loadModelArtifacts, saveModelArtifacts } from './io.js';
import { ACTIVATION_LAYERS, NORM_FAMILIES, resolveNorm } from '../layers/index.js';
import { INITIALIZER_FNS } from './initializers.js';

beforeAll(async () => {
  await initBackend('cpu');
});

const mlp = (over: Partial<ModelConfig> = {}): ModelConfig =>
  ({
    type: 'mlp',
    hidden: [64, 32],
    activation: 'relu',
    norm: 'none',
    dropout: 0,
    init: 'pytorch',
    conv: { filters: [4, 8], kernel_size: 3, pool: 'max' },
    ...over,
  }) as ModelConfig;

const classes = (m: { layers: { getClassName(): string; name: string }[] }) => m.layers.map((l) => `${l.getClassName()}:${l.name}`);

describe('registries', () => {
  test('every name in names.ts has an implementation', () => {
    expect(Object.keys(NORM_FAMILIES).sort()).toEqual([...NORMS].sort());
    expect(Object.keys(ACTIVATION_LAYERS).sort()).toEqual([...ACTIVATIONS].sort());
    expect(Object.keys(INITIALIZER_FNS).sort()).toEqual([...INITIALIZERS].sort());
  });

  test('norm options resolve to PyTorch defaults; BatchNorm gets keras momentum = 1 - pytorch momentum', () => {
    expect(resolveNorm('batch')).toEqual({ type: 'batch', position: 'pre', options: { epsilon: 1e-5, momentum: 0.1, affine: true } });
    const bn = NORM_FAMILIES.batch.build(resolveNorm({ type: 'batch', momentum: 0.2 }), { channels: 8, kind: 'dense', name: 'n' })!;
    expect(bn.getConfig()).toMatchObject({ momentum: 0.8, epsilon: 1e-5, axis: -1 });
    // No groups given: the schema's documented default (8), the same number config validation checks.
    const gn = NORM_FAMILIES.group.build(resolveNorm('group'), { channels: 64, kind: 'dense', name: 'g' })!;
    expect(gn.getConfig()).toMatchObject({ groups: 8 });
  });
});

describe('buildModel layer order (the contract with export and the engine)', () => {
  test('seed MLP: Dense -> Activation per hidden width, logits Dense, no softmax', () => {
    const m = buildModel(mlp(), [784], 10, 1);
    expect(classes(m)).toEqual(['Dense:fc1', 'Activation:fc1_act', 'Dense:fc2', 'Activation:fc2_act', 'Dense:logits']);
    expect(m.layers.map((l) => (l.getConfig() as { activation?: string }).activation)).toEqual(['linear', 'relu', 'linear', 'relu', 'linear']);
    expect(m.outputs[0]!.shape).toEqual([null, 10]);
  });

  test('BN before the activation (pre), dropout last in the block, flatten for image input', () => {
    const m = buildModel(mlp({ norm: 'batch', dropout: 0.2, hidden: [16] }), [28, 28, 1], 10, 1);
    expect(classes(m)).toEqual(['Flatten:flatten', 'Dense:fc1', 'BatchNormalization:fc1_norm', 'Activation:fc1_act', 'Dropout:fc1_drop', 'Dense:logits']);
  });

  test('norm after the activation (post); leaky_relu is a LeakyReLU layer with PyTorch slope', () => {
    const m = buildModel(mlp({ norm: { type: 'layer', position: 'post' }, activation: 'leaky_relu', hidden: [8] }), [20], 3, 1);
    expect(classes(m)).toEqual(['Dense:fc1', 'LeakyReLU:fc1_act', 'LayerNormalization:fc1_norm', 'Dense:logits']);
    expect(m.layers[1]!.getConfig()).toMatchObject({ alpha: 0.01 });
  });

  test('CNN: Conv2D -> norm -> activation -> pool per block, then flatten and the dense head', () => {
    const m = buildModel(mlp({ type: 'cnn', hidden: [16], norm: 'instance' }), [28, 28, 1], 10, 1);
    expect(classes(m)).toEqual([
      'Conv2D:conv1',
      'BnxGroupNormalization:conv1_norm',
      'Activation:conv1_act',
      'MaxPooling2D:conv1_pool',
      'Conv2D:conv2',
      'BnxGroupNormalization:conv2_norm',
      'Activation:conv2_act',
      'MaxPooling2D:conv2_pool',
      'Flatten:flatten',
      'Dense:fc1', // instance norm has no meaning for a vector: the dense head is not normalized
      'Activation:fc1_act',
      'Dense:logits',
    ]);
    expect(m.layers[1]!.getConfig()).toMatchObject({ groups: 4 });
    expect(m.layers[0]!.getConfig()).toMatchObject({ padding: 'same', kernelSize: [3, 3], activation: 'linear' });
    expect(m.outputs[0]!.shape).toEqual([null, 10]);
    const avg = buildModel(mlp({ type: 'cnn', conv: { filters: [4], kernel_size: 5, pool: 'avg' }, hidden: [] }), [28, 28, 1], 10, 1);
    expect(classes(avg)).toEqual(['Conv2D:conv1', 'Activation:conv1_act', 'AveragePooling2D:conv1_pool', 'Flatten:flatten', 'Dense:logits']);
  });

  test('bad combinations fail with a clear message', () => {
    expect(() => buildModel(mlp({ norm: 'instance' }), [784], 10, 1)).toThrow(/instance normalization .* only for type: cnn/);
    expect(() => buildModel(mlp({ norm: { type: 'group', groups: 5 } }), [784], 10, 1)).toThrow(/5 groups do not divide the 64 features of layer fc1_norm/);
    expect(() => buildModel(mlp({ type: 'cnn' }), [784], 10, 1)).toThrow(/cnn needs image input/);
  });
});

describe('initialization', () => {
  test('pytorch: kernel and bias uniform in +-1/sqrt(fan_in), filling the range (Dense and Conv2D)', () => {
    const m = buildModel(mlp({ type: 'cnn', hidden: [32] }), [28, 28, 1], 10, 7);
    const fanIns: Record<string, number> = { conv1: 9 * 1, conv2: 9 * 4, fc1: 7 * 7 * 8, logits: 32 };
    for (const [name, fanIn] of Object.entries(fanIns)) {
      const bound = 1 / Math.sqrt(fanIn);
      for (const w of m.getLayer(name).getWeights()) {
        const v = w.dataSync();
        const max = Array.from(v).reduce((a, b) => Math.max(a, Math.abs(b)), 0);
        expect(max, `${name} ${w.shape}`).toBeLessThanOrEqual(bound);
        if (v.length >= 50) expect(max, `${name} fills its range`).toBeGreaterThan(0.9 * bound);
      }
    }
  });

  test('other presets have the right scale and zero bias', () => {
    const std = (name: (typeof INITIALIZERS)[number]) => {
      const w = buildModel(mlp({ init: name, hidden: [200] }), [400], 10, 3).getLayer('fc1').getWeights();
      const v = Array.from(w[0]!.dataSync());
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      expect(Math.max(...Array.from(w[1]!.dataSync()).map(Math.abs))).toBe(0);
      return Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    };
    expect(std('he_normal')).toBeCloseTo(Math.sqrt(2 / 400), 3);
    expect(std('lecun_normal')).toBeCloseTo(Math.sqrt(1 / 400), 3);
    expect(std('glorot_normal')).toBeCloseTo(Math.sqrt(2 / 600), 3);
    expect(std('he_uniform')).toBeCloseTo(Math.sqrt(6 / 400) / Math.sqrt(3), 3);
    expect(std('glorot_uniform')).toBeCloseTo(Math.sqrt(6 / 600) / Math.sqrt(3), 3);
  });

  test('init_gain scales every kernel exactly (biases as drawn); gain 1 is the plain draw', () => {
    const plain = buildModel(mlp({ hidden: [16] }), [20], 10, 5);
    const one = buildModel(mlp({ hidden: [16], init_gain: 1 }), [20], 10, 5);
    const scaled = buildModel(mlp({ hidden: [16], init_gain: 0.25 }), [20], 10, 5);
    for (const name of ['fc1', 'logits']) {
      const [k, b] = plain.getLayer(name).getWeights().map((w) => Array.from(w.dataSync()));
      const [k1, b1] = one.getLayer(name).getWeights().map((w) => Array.from(w.dataSync()));
      const [ks, bs] = scaled.getLayer(name).getWeights().map((w) => Array.from(w.dataSync()));
      expect(k1).toEqual(k);
      expect(b1).toEqual(b);
      expect(ks).toEqual(k!.map((v) => Math.fround(v * 0.25)));
      expect(bs).toEqual(b);
    }
  });

  test('the same seed gives the same weights, another seed other weights, and layers differ', () => {
    const a = buildModel(mlp(), [784], 10, 1).getWeights().map((w) => Array.from(w.dataSync()));
    const b = buildModel(mlp(), [784], 10, 1).getWeights().map((w) => Array.from(w.dataSync()));
    const c = buildModel(mlp(), [784], 10, 2).getWeights().map((w) => Array.from(w.dataSync()));
    expect(a).toEqual(b);
    expect(a[0]).not.toEqual(c[0]);
    expect(a[2]!.slice(0, 10)).not.toEqual(a[0]!.slice(0, 10));
  });
});

describe('save and load', () => {
  test('model.json + weights.bin round trip gives identical predictions (BN with running stats)', async () => {
    const m = buildModel(mlp({ norm: 'batch', dropout: 0.5, hidden: [12, 6] }), [28, 28, 1], 4, 5);
    const bn = m.getLayer('fc1_norm');
    const [g, b, mm, mv] = bn.getWeights();
    bn.setWeights([tf.add(g!, 0.5), tf.add(b!, 0.1), tf.add(mm!, 0.2), tf.add(mv!, 1.5)]);
    const dir = mkdtempSync(join(tmpdir(), 'bnx-io-'));
    try {
      const paths = await saveModelArtifacts(m, dir);
      const json = JSON.parse(readFileSync(paths.modelJson, 'utf8')) as { format: string; weightsManifest: { paths: string[] }[] };
      expect(json.format).toBe('layers-model');
      expect(json.weightsManifest[0]!.paths).toEqual(['weights.bin']);
      const loaded = await loadModelArtifacts(dir);
      expect(loaded.layers.map((l) => l.name)).toEqual(m.layers.map((l) => l.name));
      const x = tf.randomUniform([5, 28, 28, 1], 0, 1, 'float32', 3);
      expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(Array.from((m.predict(x) as tf.Tensor).dataSync()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
