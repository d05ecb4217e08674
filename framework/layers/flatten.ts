/** Flatten: tfjs layer, training node (a reshape both ways), ONNX Flatten (in tfjs' NHWC order). */
import * as tf from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { Converter, LayerFamily, Node } from './family.js';
import { IdentityFast } from './activations/activations-fast.js';
import { outShape, toLast } from './onnx.js';

export function flattenLayer(inputShape?: number[]): Layer {
  return layers.flatten({ name: 'flatten', ...(inputShape ? { inputShape } : {}) });
}

class FlattenNode implements Node {
  readonly params: tf.Variable[] = [];
  private shape: number[] = [];
  constructor(readonly layer: Layer) {}
  forward(x: tf.Tensor): tf.Tensor {
    this.shape = x.shape;
    return tf.reshape(x, [x.shape[0]!, -1]);
  }
  backward(dy: tf.Tensor): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    return { dx: tf.reshape(dy, this.shape), grads: [] };
  }
}

const flattenOnnx: Converter = (layer, x, g) => {
  if (x.shape.length === 1) return x;
  // tfjs flattens in NHWC order, so the following Dense kernel rows are in that order.
  x = toLast(g, x);
  return { name: g.node('Flatten', [x.name], { axis: { i: 1 } }, layer.name), shape: outShape(layer), layout: 'last' };
};

export const flatten: LayerFamily = {
  name: 'flatten',
  classNames: ['Flatten'],
  node: (layer) => new FlattenNode(layer),
  // the fast path keeps rows contiguous (NHWC order, as tfjs flattens): nothing to do
  fast: (layer, b) => new IdentityFast(layer, b),
  onnx: flattenOnnx,
  examples: [{ name: 'MLP on image input', model: {}, inputShape: [3, 3, 1] }],
};
