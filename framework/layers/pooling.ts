/**
 * 2D max and average pooling: tfjs layers, training node (own kernels for p x p / stride p valid
 * windows, pool-kernel.ts; else a VJP through the layer's call), ONNX MaxPool/AveragePool.
 */
import * as tf from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { CallNode } from './activations/activations.js';
import type { Converter, LayerFamily, Node } from './family.js';
import { configOf, tensorData } from './node-util.js';
import { channelsLastOnly, config, outShape, pads, pair, toFirst } from './onnx.js';
import { inputShapeOf } from './fast-node.js';
import { MaxPoolFast } from './pool-fast.js';
import { avgPoolBackward, MaxPool, pooledShape, type Shape4 } from './pool-kernel.js';

/** 2x2 pooling with stride 2 (valid padding), as bnx's conv blocks use it. */
export function poolLayer(name: string, kind: 'max' | 'avg'): Layer {
  const args = { name, poolSize: 2, strides: 2, padding: 'valid' as const };
  return kind === 'max' ? layers.maxPooling2d(args) : layers.averagePooling2d(args);
}

const OP: Record<string, 'MaxPool' | 'AveragePool'> = { MaxPooling2D: 'MaxPool', AveragePooling2D: 'AveragePool' };

const poolOnnx: Converter = (layer, x, g) => {
  channelsLastOnly(layer);
  if (x.shape.length !== 3) throw new Error(`ONNX export: ${layer.getClassName()} ${layer.name} needs an image input [H, W, C]`);
  const c = config(layer);
  const size = pair(c.poolSize, 'poolSize', layer);
  const strides = pair(c.strides ?? c.poolSize, 'strides', layer);
  x = toFirst(g, x);
  // AveragePool's count_include_pad defaults to 0: padded cells are not counted, as in tfjs.
  const y = g.node(OP[layer.getClassName()]!, [x.name], { kernel_shape: { ints: size }, strides: { ints: strides }, pads: { ints: pads(layer, x, size, strides, [1, 1]) } }, layer.name);
  return { name: y, shape: outShape(layer), layout: 'first' };
};

/**
 * Pooling with window p = stride p, valid padding, channels last: forward and backward in
 * pool-kernel.ts (max keeps its argmax; no tape, no MaxPoolGrad), on wasm and cpu. On native
 * TensorFlow (tfjs-node), whose kernels are fast and correct, the forward is the layer's call and the
 * backward tf's gradient.
 */
export class PoolNode implements Node {
  readonly params: tf.Variable[] = [];
  private shape: Shape4 | null = null;
  private readonly max: MaxPool;
  private readonly fallback: CallNode;
  constructor(
    readonly layer: Layer,
    private readonly kind: 'max' | 'avg',
    private readonly p: number,
  ) {
    this.fallback = new CallNode(layer);
    this.max = new MaxPool(p);
  }
  forward(x: tf.Tensor): tf.Tensor {
    this.shape = null;
    if (x.rank !== 4 || x.dtype !== 'float32' || tf.getBackend() === 'tensorflow') return this.fallback.forward(x);
    const shape = x.shape as unknown as Shape4;
    this.shape = shape;
    if (this.kind === 'avg') return this.layer.call(x, {}) as tf.Tensor;
    return tf.tensor4d(own(this.max.forward(tensorData(x), shape)), pooledShape(shape, this.p));
  }
  backward(dy: tf.Tensor, needDx: boolean): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    const shape = this.shape;
    if (!shape) return this.fallback.backward(dy);
    if (!needDx) return { dx: null, grads: [] };
    if (this.kind === 'max') return { dx: tf.tensor4d(own(this.max.backward(tensorData(dy), shape)), [...shape]), grads: [] };
    const dx = new Float32Array(shape[0] * shape[1] * shape[2] * shape[3]);
    avgPoolBackward(tensorData(dy), shape, this.p, dx, tf.getBackend() === 'wasm');
    return { dx: tf.tensor4d(dx, [...shape]), grads: [] };
  }
}

/**
 * Values for a new tensor: tfjs-wasm copies them onto its heap at once; the cpu backend keeps the
 * array itself, so a view of a kernel's memory is copied first.
 */
const own = (v: Float32Array): Float32Array => (tf.getBackend() === 'wasm' ? v : v.slice());

/** p when the layer pools p x p windows with stride p, valid padding, channels last; else null. */
function ownKernelWindow(layer: Layer): number | null {
  const c = configOf(layer);
  const size = [c.poolSize].flat() as number[];
  const strides = [c.strides ?? c.poolSize].flat() as number[];
  const p = size[0]!;
  const square = size.every((s) => s === p) && strides.every((s) => s === p);
  return square && c.padding === 'valid' && (c.dataFormat ?? 'channelsLast') === 'channelsLast' ? p : null;
}

export const pooling: LayerFamily = {
  name: 'pooling',
  classNames: Object.keys(OP),
  node(layer) {
    const p = ownKernelWindow(layer);
    return p === null ? new CallNode(layer) : new PoolNode(layer, layer.getClassName() === 'MaxPooling2D' ? 'max' : 'avg', p);
  },
  // max-pooling only: average pooling's forward would have to repeat XNNPACK's order of sums
  fast(layer, b) {
    const p = ownKernelWindow(layer);
    return p === null || layer.getClassName() !== 'MaxPooling2D' ? null : MaxPoolFast.of(layer, inputShapeOf(layer), p, b);
  },
  onnx: poolOnnx,
  examples: [
    { name: 'CNN max pool', model: { type: 'cnn', hidden: [6], conv: { filters: [2, 4], kernel_size: 3, pool: 'max' } }, inputShape: [8, 8, 2] },
    { name: 'CNN avg pool', model: { type: 'cnn', hidden: [6], conv: { filters: [2], kernel_size: 3, pool: 'avg' } }, inputShape: [8, 8, 1] },
  ],
};
