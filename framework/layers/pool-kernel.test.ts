import { describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { layers } from '@tensorflow/tfjs-layers';
import { initBackend } from '../train/index.js';
import { rngFor } from '../util/random.js';
import { pooling, PoolNode } from './pooling.js';

const ctx = { training: true, dropoutRng: rngFor(1, 'd') };
const bits = (t: tf.Tensor): number[] => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));

/** ReLU-like values on a coarse grid: many zero windows and ties between equal positive values. */
function input(shape: number[], seed: number): tf.Tensor {
  const rng = rngFor(seed, 'pool-kernel-test');
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(Float32Array.from({ length: n }, () => Math.max(0, Math.round(8 * rng() - 3) / 4)), shape);
}
function dyOf(shape: number[], seed: number): tf.Tensor {
  const rng = rngFor(seed, 'pool-kernel-dy');
  return tf.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 2 * rng() - 1), shape);
}

const CASES: { kind: 'max' | 'avg'; p: number; shape: [number, number, number, number] }[] = [
  { kind: 'max', p: 2, shape: [4, 28, 28, 8] },
  { kind: 'max', p: 2, shape: [3, 7, 7, 16] }, // odd: the last row and column are in no window
  { kind: 'max', p: 3, shape: [2, 9, 8, 3] },
  { kind: 'avg', p: 2, shape: [4, 14, 14, 8] },
  { kind: 'avg', p: 2, shape: [2, 7, 5, 3] },
  { kind: 'avg', p: 3, shape: [2, 6, 9, 2] },
];

function poolLayer(kind: 'max' | 'avg', p: number): Layer {
  const args = { name: `${kind}_pool`, poolSize: p, strides: p, padding: 'valid' as const };
  return (kind === 'max' ? layers.maxPooling2d(args) : layers.averagePooling2d(args)) as unknown as Layer;
}

/**
 * Max-pooling's reference gradient is tfjs-cpu's autodiff on both backends (tfjs-wasm's MaxPoolGrad
 * misplaces the gradient of windows whose maximum is <= 0, and of ties; see pool-kernel.ts); average
 * pooling's is each backend's own autodiff (the backends round 1 / p^2 differently).
 */
const cpuMaxGrad = new Map<number, number[]>();

// cpu first: it records max-pooling's reference gradients for the wasm pass
for (const backend of ['cpu', 'wasm'] as const) {
  describe(`pooling kernels on ${backend}: bit-identical to tf's pooling and to autodiff's gradient`, () => {
    CASES.forEach(({ kind, p, shape }, i) => {
      test(`${kind} ${p}x${p} stride ${p} over [${shape.join(', ')}]`, async () => {
        await initBackend(backend);
        const layer = poolLayer(kind, p);
        const node = pooling.node(layer);
        expect(node).toBeInstanceOf(PoolNode);
        tf.tidy(() => {
          const x = input(shape, p + shape[1]!);
          const refY = layer.call(x, {}) as tf.Tensor;
          const y = node.forward(x, ctx);
          expect(y.shape).toEqual(refY.shape);
          expect(bits(y)).toEqual(bits(refY));
          const dy = dyOf(y.shape, 3);
          const dx = node.backward(dy, true).dx!;
          expect(dx.shape).toEqual(shape);
          if (kind === 'max' && backend === 'wasm') {
            expect(bits(dx)).toEqual(cpuMaxGrad.get(i));
          } else {
            const refDx = bits(tf.grads((a: tf.Tensor) => layer.call(a, {}) as tf.Tensor)([x], dy)[0]!);
            expect(bits(dx)).toEqual(refDx);
            if (kind === 'max') cpuMaxGrad.set(i, refDx);
          }
        });
      });
    });
  });
}

test('max-pooling on wasm sends each window\'s gradient to its maximum, also when the maximum is <= 0 (tfjs-wasm: to the first position)', async () => {
  await initBackend('wasm');
  const node = pooling.node(poolLayer('max', 2));
  tf.tidy(() => {
    // windows: [-2, -1, -1, -3] (max -1 at 1), [-0.5, 0, 0, 0] (max 0 first at 1), [3, 1, 3, 1] (first 3 at 0)
    const windows = [
      [-2, -1, -1, -3],
      [-0.5, 0, 0, 0],
      [3, 1, 3, 1],
    ];
    const x = tf.tensor4d(windows.flat(), [3, 2, 2, 1]);
    node.forward(x, ctx);
    const dx = node.backward(tf.tensor4d([1, 2, 3], [3, 1, 1, 1]), true).dx!;
    expect(Array.from(dx.dataSync())).toEqual([0, 1, 0, 0, 0, 2, 0, 0, 3, 0, 0, 0]);
  });
});

test('windows other than p x p with stride p keep the tf path (VJP through the layer)', () => {
  const layer = layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }) as unknown as Layer;
  expect(pooling.node(layer)).not.toBeInstanceOf(PoolNode);
});
