/**
 * Activations by name (names.ts ACTIVATIONS), as tfjs-layers built-in layers so saved models and the
 * ONNX exporter see standard classes. Layers that can appear:
 *   'Activation' with config.activation in relu | gelu (exact, erf) | elu (alpha 1) | selu | tanh |
 *   sigmoid | swish (x * sigmoid(x)) | linear;  'LeakyReLU' with config.alpha = 0.01 (PyTorch's default).
 */
import { layers } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { ActivationName } from '../config/names.js';

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
