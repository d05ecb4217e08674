/**
 * The private tfjs-core entry points bnx uses, on every backend: kernels called by name through
 * tf.engine().runKernel, skipping the public ops' autodiff wrappers. Kept here, one place to check
 * when tfjs is upgraded (written against tfjs-core 4.22).
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * x @ w + bias (ReLU fused when asked), x [m, k], w [k, n]: the _FusedMatMul kernel called directly.
 * tf.fused.matMul wraps it in customGrad for autodiff, which costs ~10 us per call and is not needed.
 */
export function fusedMatMul(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor | null, relu: boolean): tf.Tensor2D {
  const [m, k] = x.shape as [number, number];
  const n = w.shape[1]!;
  const out = tf.engine().runKernel(
    '_FusedMatMul',
    { a: tf.reshape(x, [1, m, k]), b: tf.reshape(w, [1, k, n]), ...(bias ? { bias } : {}) },
    { transposeA: false, transposeB: false, activation: relu ? 'relu' : 'linear', leakyreluAlpha: 0 } as unknown as tf.NamedAttrMap,
  ) as tf.Tensor;
  return tf.reshape(out, [m, n]);
}

/** The Conv2DBackpropFilter kernel (stride 1, same padding, NHWC): dL/dW of a conv from x and dy. */
export function conv2dBackpropFilter(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number]): tf.Tensor4D {
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
    strides: [1, 1],
    pad: 'same',
    dataFormat: 'NHWC',
    dimRoundingMode: undefined,
    filterShape,
  } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}
