/**
 * Activations by name (config/names.ts ACTIVATIONS), as tfjs-layers built-in layers so saved models and
 * the ONNX exporter see standard classes:
 *   'Activation' with config.activation in relu | gelu (exact, erf) | elu (alpha 1) | selu | tanh |
 *   sigmoid | swish (x * sigmoid(x)) | linear;  'LeakyReLU' with config.alpha = 0.01 (PyTorch's default).
 * Training: relu, tanh and sigmoid have their derivative written from the output; the others (gelu,
 * elu, selu, swish, leaky relu) use a vector-Jacobian product through the layer's own call().
 */
import * as tf from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { ACTIVATIONS, type ActivationName } from '../../config/index.js';
import type { Converter, LayerFamily, Node } from '../family.js';
import { configOf, vjp } from '../node-util.js';
import { config } from '../onnx.js';
import { emitActivation } from './onnx-activations.js';
import { IdentityFast, ReluFast } from './activations-fast.js';

export type ActivationFactory = (name: string) => Layer;

const builtin =
  (activation: 'relu' | 'gelu' | 'elu' | 'selu' | 'tanh' | 'sigmoid' | 'swish' | 'linear'): ActivationFactory =>
    (name) =>
      layers.activation({ name, activation });

export const LEAKY_RELU_SLOPE = 0.01;

export const ACTIVATION_LAYERS: Record<ActivationName, ActivationFactory> = {
  relu: builtin('relu'),
  leaky_relu: (name) => layers.leakyReLU({ name, alpha: LEAKY_RELU_SLOPE }),
  gelu: builtin('gelu'),
  elu: builtin('elu'),
  selu: builtin('selu'),
  tanh: builtin('tanh'),
  sigmoid: builtin('sigmoid'),
  swish: builtin('swish'),
  linear: builtin('linear'),
};

/** A parameterless layer (activation, pooling): forward is layer.call, backward its VJP. */
export class CallNode implements Node {
  readonly params: tf.Variable[] = [];
  private x: tf.Tensor | null = null;
  constructor(readonly layer: Layer) {}
  forward(x: tf.Tensor): tf.Tensor {
    this.x = x;
    return this.layer.call(x, {}) as tf.Tensor;
  }
  backward(dy: tf.Tensor): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    return { dx: vjp((x) => this.layer.call(x, {}) as tf.Tensor, [this.x!], dy)[0]!, grads: [] };
  }
}

/** Elementwise activation with the derivative written from the output y. */
export class ActivationNode implements Node {
  readonly params: tf.Variable[] = [];
  /** Set when the preceding Dense/Conv2D already applied this activation (fused kernel). */
  applied = false;
  private y: tf.Tensor | null = null;
  constructor(
    readonly layer: Layer,
    private readonly f: (x: tf.Tensor) => tf.Tensor,
    private readonly dfFromY: (y: tf.Tensor, dy: tf.Tensor) => tf.Tensor,
    readonly kind: string,
  ) {}
  forward(x: tf.Tensor): tf.Tensor {
    this.y = this.applied ? x : this.f(x);
    return this.y;
  }
  backward(dy: tf.Tensor): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    return { dx: this.dfFromY(this.y!, dy), grads: [] };
  }
}

export class IdentityNode implements Node {
  readonly params: tf.Variable[] = [];
  constructor(readonly layer: Layer) {}
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }
  backward(dy: tf.Tensor): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    return { dx: dy, grads: [] };
  }
}

const step = (y: tf.Tensor, dy: tf.Tensor): tf.Tensor => tf.mul(dy, tf.step(y));

function activationNode(layer: Layer, name: string): Node {
  switch (name) {
    case 'linear':
      return new IdentityNode(layer);
    case 'relu':
      return new ActivationNode(layer, tf.relu, step, 'relu');
    case 'tanh':
      return new ActivationNode(layer, tf.tanh, (y, dy) => tf.mul(dy, tf.sub(1, tf.square(y))), 'tanh');
    case 'sigmoid':
      return new ActivationNode(layer, tf.sigmoid, (y, dy) => tf.mul(dy, tf.mul(y, tf.sub(1, y))), 'sigmoid');
    default:
      return new CallNode(layer);
  }
}

const activationOnnx: Converter = (layer, x, g) => {
  switch (layer.getClassName()) {
    case 'LeakyReLU':
      return { ...x, name: g.node('LeakyRelu', [x.name], { alpha: { f: Number(config(layer).alpha ?? 0.3) } }, layer.name) };
    case 'ELU':
      return { ...x, name: g.node('Elu', [x.name], { alpha: { f: Number(config(layer).alpha ?? 1) } }, layer.name) };
    case 'ReLU': {
      const max = config(layer).maxValue;
      const name = max == null ? g.node('Relu', [x.name], {}, layer.name) : g.node('Clip', [x.name, g.scalar(0), g.scalar(Number(max))], {}, layer.name);
      return { ...x, name };
    }
    default:
      return { ...x, name: emitActivation(g, String(config(layer).activation), x.name, layer.name, layer.name) };
  }
};

export const activations: LayerFamily = {
  name: 'activations',
  classNames: ['Activation', 'ReLU', 'LeakyReLU', 'ELU'],
  node(layer) {
    switch (layer.getClassName()) {
      case 'Activation':
        return activationNode(layer, configOf(layer).activation as string);
      case 'ReLU':
        return new ActivationNode(layer, tf.relu, step, 'relu');
      default:
        return new CallNode(layer);
    }
  },
  fast(layer, b) {
    const cls = layer.getClassName();
    const name = cls === 'ReLU' ? 'relu' : cls === 'Activation' ? (configOf(layer).activation as string) : null;
    if (name === 'relu') return new ReluFast(layer, b);
    if (name === 'linear') return new IdentityFast(layer, b);
    return null;
  },
  onnx: activationOnnx,
  examples: ACTIVATIONS.map((activation) => ({ name: `MLP ${activation} + batch norm`, model: { activation, norm: 'batch' as const }, inputShape: [9] })),
};
