import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelConfig } from '../config/index.js';
import { buildModel } from '../model/index.js';
import { rngFor } from '../util/random.js';
import { initBackend } from './backend.js';
import { softmaxCrossEntropy, TrainGraph } from './engine.js';
import { conv2dFilterGradByConv, conv2dInputGrad } from '../layers/index.js';
import { conv2dBackpropFilter } from '../tfjs/index.js';

beforeAll(async () => {
  await initBackend('cpu');
});

const cfg = (over: Partial<ModelConfig>): ModelConfig =>
  ({
    type: 'mlp',
    hidden: [6, 5],
    activation: 'relu',
    norm: 'none',
    dropout: 0,
    init: 'pytorch',
    conv: { filters: [3, 4], kernel_size: 3, pool: 'max' },
    ...over,
  }) as ModelConfig;

function batch(shape: number[], n: number, classes: number, seed: number): { x: tf.Tensor; y: Uint8Array } {
  const rng = rngFor(seed, 'test-batch');
  const size = n * shape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(Float32Array.from({ length: size }, () => 2 * rng() - 0.5), [n, ...shape]);
  const y = Uint8Array.from({ length: n }, () => Math.floor(rng() * classes));
  return { x, y };
}

const maxAbs = (t: tf.Tensor): number => Array.from(t.dataSync()).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
const maxDiff = (a: tf.Tensor, b: tf.Tensor): number => {
  const x = Array.from(a.dataSync());
  const z = b.dataSync();
  return x.reduce((m, v, i) => Math.max(m, Math.abs(v - z[i]!)), 0);
};
/** Largest difference relative to the reference's scale. */
function relErr(a: tf.Tensor, b: tf.Tensor, scale = Math.max(1e-6, maxAbs(b))): number {
  expect(a.shape).toEqual(b.shape);
  return maxDiff(a, b) / scale;
}

// Every layer family's gradients against tf autodiff, on cpu and wasm: framework/layers/families.test.ts
// (generated from the registry). Here: what the generated tests cannot express.
describe('engine gradients', () => {
  test('MLP batch norm without affine = affine BN at gamma 1, beta 0 (tfjs-layers cannot train that layer itself)', () => {
    tf.tidy(() => {
      const grads = (affine: boolean) => {
        const m = buildModel(cfg({ norm: { type: 'batch', affine } }), [9], 4, 3);
        const g = new TrainGraph(m);
        const { x, y } = batch([9], 7, 4, 5);
        const r = g.gradients(x, y, { training: true, dropoutRng: rngFor(1, 'd') });
        return g.params.map((p, i) => [p.name.replace(/_\d+$/, ''), r.grads[i]!] as const).filter(([n]) => !/gamma|beta/.test(n));
      };
      const a = grads(false);
      const b = grads(true);
      expect(a.map(([n]) => n)).toEqual(b.map(([n]) => n));
      a.forEach(([, t], i) => expect(maxDiff(t, b[i]![1])).toBe(0));
    });
  });
});

describe('conv gradients without the Conv2DBackprop kernels (wasm path)', () => {
  test('on wasm, equal the cpu kernels for odd and even kernel sizes', async () => {
    const cases = [1, 2, 3, 4, 5].map((k) => {
      const rng = rngFor(k, 'conv');
      const rand = (n: number) => Float32Array.from({ length: n }, () => 2 * rng() - 1);
      return { k, x: rand(3 * 7 * 6 * 2), dy: rand(3 * 7 * 6 * 4), w: rand(k * k * 2 * 4) };
    });
    const shapeOf = (k: number): [number, number, number, number] => [k, k, 2, 4];
    const refs = cases.map(({ k, x, dy, w }) =>
      tf.tidy(() => {
        const dyT = tf.tensor4d(dy, [3, 7, 6, 4]);
        const dW = conv2dBackpropFilter(tf.tensor4d(x, [3, 7, 6, 2]), dyT, shapeOf(k));
        const dx = tf.conv2dTranspose(dyT, tf.tensor4d(w, shapeOf(k)), [3, 7, 6, 2], 1, 'same');
        return [dW.dataSync().slice(), dx.dataSync().slice()];
      }),
    );
    await initBackend('wasm');
    try {
      cases.forEach(({ k, x, dy, w }, i) => {
        tf.tidy(() => {
          const dW = conv2dFilterGradByConv(tf.tensor4d(x, [3, 7, 6, 2]), tf.tensor4d(dy, [3, 7, 6, 4]), shapeOf(k));
          const dx = conv2dInputGrad(tf.tensor4d(dy, [3, 7, 6, 4]), tf.tensor4d(w, shapeOf(k)));
          expect(relErr(dW, tf.tensor(refs[i]![0]!, dW.shape)), `dW k=${k}`).toBeLessThan(1e-5);
          expect(relErr(dx, tf.tensor(refs[i]![1]!, dx.shape)), `dx k=${k}`).toBeLessThan(1e-5);
        });
      });
    } finally {
      await initBackend('cpu');
    }
  });

  test('equals the kernel for odd and even kernel sizes', () => {
    for (const k of [1, 2, 3, 4, 5]) {
      tf.tidy(() => {
        const x = tf.randomUniform([3, 7, 6, 2], -1, 1, 'float32', k) as tf.Tensor4D;
        const dy = tf.randomUniform([3, 7, 6, 4], -1, 1, 'float32', k + 10) as tf.Tensor4D;
        const shape: [number, number, number, number] = [k, k, 2, 4];
        const kernel = conv2dBackpropFilter(x, dy, shape);
        expect(relErr(conv2dFilterGradByConv(x, dy, shape), kernel)).toBeLessThan(1e-5);
      });
    }
  });
});

describe('softmax cross-entropy head', () => {
  test('loss, accuracy and gradient against hand values', () => {
    const logits = Float32Array.from([2, 0, 0, 0, 0, 3]);
    const dz = new Float32Array(6);
    const r = softmaxCrossEntropy(logits, [0, 1], 2, 3, dz, 0.5);
    const l0 = Math.log(Math.exp(2) + 2) - 2;
    const l1 = Math.log(2 + Math.exp(3)) - 0;
    expect(r.loss).toBeCloseTo((l0 + l1) / 2, 6);
    expect(r.correct).toBe(1);
    expect(dz[0]).toBeCloseTo(((Math.exp(2) / (Math.exp(2) + 2) - 1) * 0.5) / 2, 6);
    expect(dz[4]).toBeCloseTo(((1 / (2 + Math.exp(3)) - 1) * 0.5) / 2, 6);
  });
  test('a NaN or infinite logit gives a NaN loss', () => {
    expect(softmaxCrossEntropy(Float32Array.from([NaN, 0]), [1], 1, 2, null, 1).loss).toBeNaN();
    expect(softmaxCrossEntropy(Float32Array.from([Infinity, 0]), [1], 1, 2, null, 1).loss).toBeNaN();
  });
});

describe('BatchNorm train vs eval, PyTorch momentum convention', () => {
  test('training normalizes with batch stats; running stats move by 0.1 with the unbiased variance; eval uses them', () => {
    const m = buildModel(cfg({ norm: { type: 'batch', momentum: 0.1 }, hidden: [4] }), [3], 2, 1);
    const g = new TrainGraph(m);
    const x = tf.tensor2d([
      [1, 2, 3],
      [0, -1, 2],
      [3, 1, 0],
      [2, 2, 2],
      [-1, 0, 1],
    ]);
    const z = m.getLayer('fc1').apply(x) as tf.Tensor; // pre-norm activations
    const zv = z.arraySync() as number[][];
    const ctx = { training: true, dropoutRng: rngFor(1, 'd') };
    // forward through fc1 + BN node only
    const bnOut = g.nodes[1]!.forward(g.nodes[0]!.forward(x, ctx), ctx);
    const { mean, variance } = tf.moments(bnOut, 0);
    expect(Math.max(...Array.from(tf.abs(mean).dataSync()))).toBeLessThan(1e-5);
    expect(Math.max(...Array.from(tf.abs(tf.sub(variance, 1)).dataSync()))).toBeLessThan(1e-3);
    g.syncState();
    const [, , mm, mv] = m.getLayer('fc1_norm').getWeights();
    for (let c = 0; c < 4; c++) {
      const col = zv.map((r) => r[c]!);
      const mu = col.reduce((a, b) => a + b, 0) / 5;
      const unbiased = col.reduce((a, b) => a + (b - mu) ** 2, 0) / 4;
      expect(mm!.dataSync()[c]).toBeCloseTo(0.1 * mu, 5);
      expect(mv!.dataSync()[c]).toBeCloseTo(0.9 * 1 + 0.1 * unbiased, 5);
    }
    // eval mode: (z - running_mean) / sqrt(running_var + eps), in the engine and in model.predict
    const evalCtx = { training: false, dropoutRng: rngFor(1, 'd') };
    const engineEval = g.nodes[1]!.forward(g.nodes[0]!.forward(x, evalCtx), evalCtx);
    const expected = tf.div(tf.sub(z, mm!), tf.sqrt(tf.add(mv!, 1e-5)));
    expect(relErr(engineEval, expected)).toBeLessThan(1e-5);
    const fromLayers = m.getLayer('fc1_norm').apply(z, { training: false }) as tf.Tensor;
    expect(relErr(fromLayers, expected)).toBeLessThan(1e-5);
  });
});

describe('dropout', () => {
  test('seeded, a new mask every step, PyTorch scaling, identity in eval, backward uses the mask', () => {
    const m = buildModel(cfg({ dropout: 0.25, hidden: [400] }), [5], 2, 1);
    const g = new TrainGraph(m);
    const drop = g.nodes.find((n) => n.layer.getClassName() === 'Dropout')!;
    const x = tf.ones([8, 400]);
    const ctx = { training: true, dropoutRng: rngFor(9, 'dropout') };
    const a = drop.forward(x, ctx).dataSync().slice();
    const da = drop.backward(tf.ones([8, 400]), true).dx!.dataSync();
    expect(Array.from(da)).toEqual(Array.from(a));
    const b = drop.forward(x, ctx).dataSync().slice();
    expect(Array.from(a)).not.toEqual(Array.from(b));
    expect(new Set(a)).toEqual(new Set([0, 1 / 0.75].map((v) => Math.fround(v))));
    const kept = a.filter((v) => v > 0).length / a.length;
    expect(kept).toBeGreaterThan(0.72);
    expect(kept).toBeLessThan(0.78);
    const again = drop.forward(x, { training: true, dropoutRng: rngFor(9, 'dropout') }).dataSync();
    expect(Array.from(again)).toEqual(Array.from(a));
    expect(Array.from(drop.forward(x, { training: false, dropoutRng: rngFor(9, 'dropout') }).dataSync())).toEqual(Array.from(x.dataSync()));
  });
});
