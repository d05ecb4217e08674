import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../train/index.js';
import { rngFor } from '../../util/random.js';
import { conv2dFilterGradByConv } from './conv-grads.js';
import { conv2dFilterGradGemm, convKernelFits } from './conv-kernel.js';

beforeAll(async () => {
  await initBackend('wasm');
});

function rand(shape: number[], seed: number): tf.Tensor {
  const rng = rngFor(seed, 'conv-kernel-test');
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * rng() - 1), shape);
}
const bits = (t: tf.Tensor): number[] => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));

describe('conv2d filter gradient as im2col + the dense GEMM (wasm): bit-identical to the conv of transposes', () => {
  for (const [x, k, cout] of [
    [[64, 28, 28, 1], 3, 8], // the bench CNN's convolutions
    [[64, 14, 14, 8], 3, 16],
    [[3, 5, 6, 2], 2, 3], // even kernel (asymmetric 'same' padding), cout and K padded
    [[2, 7, 7, 3], 5, 9],
    [[1, 4, 4, 1], 1, 1],
  ] as const) {
    test(`x [${x.join(', ')}], ${k}x${k} kernel, ${cout} filters`, () => {
      tf.tidy(() => {
        const xt = rand([...x], 1) as tf.Tensor4D;
        const dy = rand([x[0], x[1], x[2], cout], 2) as tf.Tensor4D;
        const shape: [number, number, number, number] = [k, k, x[3], cout];
        expect(convKernelFits(xt)).toBe(true);
        const own = conv2dFilterGradGemm(xt, dy, shape);
        expect(own.shape).toEqual(shape);
        expect(bits(own)).toEqual(bits(conv2dFilterGradByConv(xt, dy, shape)));
      });
    });
  }
});
