import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { runConfig } from '../../config/index.js';
import { buildModel } from '../../model/index.js';
import { initBackend, TrainGraph } from '../../train/index.js';
import { rngFor } from '../../util/random.js';
import { denseForward, denseKernelFits, denseWeightGrad } from './dense-kernel.js';
import { DenseNode } from './dense.js';

beforeAll(async () => {
  await initBackend('wasm');
});

function rand(shape: number[], seed: number, nonNeg = false): tf.Tensor {
  const rng = rngFor(seed, 'dense-kernel-test');
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => (nonNeg ? rng() : 2 * rng() - 1)), shape);
}

const bits = (t: tf.Tensor): number[] => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));

describe('dense-kernel (wasm): bit-identical to the tfjs-wasm (XNNPACK) products', () => {
  for (const [m, k, n] of [
    [64, 784, 64],
    [32, 784, 64],
    [8, 12, 16],
  ] as const) {
    test(`x[${m},${k}] @ w[${k},${n}] + b with and without ReLU, and x^T @ dy`, () => {
      tf.tidy(() => {
        const x = rand([m, k], 1, true);
        const w = rand([k, n], 2);
        const b = rand([n], 3);
        const dy = rand([m, n], 4);
        expect(denseKernelFits(x, w)).toBe(true);
        for (const relu of [true, false]) {
          const ref = tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b, activation: relu ? 'relu' : 'linear' });
          expect(bits(denseForward(x, w, b, relu))).toEqual(bits(ref));
        }
        expect(bits(denseForward(x, w, null, false))).toEqual(bits(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D)));
        expect(bits(denseWeightGrad(x, dy))).toEqual(bits(tf.matMul(tf.transpose(x), dy)));
      });
    });
  }

  test('shapes it does not handle are left to tf', () => {
    tf.tidy(() => {
      expect(denseKernelFits(rand([6, 8], 1), rand([8, 8], 2))).toBe(false); // 6 rows: not a multiple of 4
      expect(denseKernelFits(rand([8, 8], 1), rand([8, 10], 2))).toBe(false); // 10 units: not a multiple of 8
      expect(denseKernelFits(rand([8, 2, 4], 1), rand([8, 8], 2))).toBe(false);
    });
  });

  test('TrainGraph gradients match the tf path bit for bit', () => {
    const cfg = runConfig().model; // the seed MLP 784-64-32-10
    const grads = (own: boolean): number[][] =>
      tf.tidy(() => {
        const model = buildModel(cfg, [784], 10, 7);
        const g = new TrainGraph(model);
        const first = g.nodes[0];
        expect(first).toBeInstanceOf(DenseNode);
        expect((first as DenseNode).ownKernel).toBe(true);
        (first as DenseNode).ownKernel = own;
        const x = rand([64, 784], 5, true);
        const y = Uint8Array.from({ length: 64 }, (_, i) => (i * 7) % 10);
        const out = g.step(x, y, { training: true, dropoutRng: rngFor(1, 'd') }).backprop(0.1).map(bits);
        model.dispose();
        return out;
      });
    const own = grads(true);
    const ref = grads(false);
    expect(own.length).toBe(6);
    own.forEach((g, i) => expect(g).toEqual(ref[i]));
  });
});
