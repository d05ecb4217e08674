/**
 * Gradients of a stride-1 'same' Conv2D without tf's backprop kernels: the wasm backend has no
 * Conv2DBackpropFilter and a slow Conv2DBackpropInput, and the cpu backend's filter kernel is ~30x
 * slower than a conv. Both are written as plain convolutions (XNNPACK-backed on wasm).
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2dBackpropFilter } from '../../tfjs/index.js';
import { conv2dFilterGradGemm, convKernelFits } from './conv-kernel.js';

/**
 * dL/dx of a stride-1 'same' conv: a correlation of dy with the spatially flipped filter (in and out
 * channels swapped). Same result as tf.conv2dTranspose, ~10x faster on wasm, whose transposed conv
 * does not use XNNPACK. 'same' pads floor((k-1)/2) before and the rest after; the flipped filter
 * needs the mirror image of that, which for odd k is again 'same'.
 */
export function conv2dInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw] = filter.shape;
  const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
  if (kh % 2 === 1 && kw % 2 === 1) return tf.conv2d(dy, flipped, 1, 'same');
  const top = Math.floor((kh - 1) / 2);
  const left = Math.floor((kw - 1) / 2);
  const padded = tf.pad(dy, [
    [0, 0],
    [kh - 1 - top, top],
    [kw - 1 - left, left],
    [0, 0],
  ]);
  return tf.conv2d(padded, flipped, 1, 'valid');
}

/**
 * dL/dfilter of a stride-1 'same' conv. The wasm backend has no Conv2DBackpropFilter kernel (and the
 * cpu backend's is very slow), so it is computed as a conv: pad x as 'same' would, then correlate x (batch and channels
 * swapped) with dy (as a filter): out[ci, i, j, co] = sum_{b,h,w} xpad[b, h+i, w+j, ci] dy[b, h, w, co].
 */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number]): tf.Tensor4D {
  // Native TensorFlow (tfjs-node) has a fast kernel; wasm has none and the cpu backend's is ~30x
  // slower than the conv below.
  if (tf.getBackend() === 'tensorflow' && tf.getKernel('Conv2DBackpropFilter', 'tensorflow') != null) return conv2dBackpropFilter(x, dy, filterShape);
  // wasm: im2col + the dense family's GEMM, bit-identical to the conv below and ~3x faster
  if (convKernelFits(x)) return conv2dFilterGradGemm(x, dy, filterShape);
  return conv2dFilterGradByConv(x, dy, filterShape);
}

/** The kernel-free path of conv2dFilterGrad (exported to test it against the kernel). */
export function conv2dFilterGradByConv(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number]): tf.Tensor4D {
  const [kh, kw] = filterShape;
  const top = Math.floor((kh - 1) / 2);
  const left = Math.floor((kw - 1) / 2);
  // explicit padding inside the conv: no padded copy of x
  const pad: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [top, kh - 1 - top],
    [left, kw - 1 - left],
    [0, 0],
  ];
  const out = tf.conv2d(tf.transpose(x, [3, 1, 2, 0]) as tf.Tensor4D, tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D, 1, pad);
  return tf.transpose(out, [1, 2, 0, 3]);
}
