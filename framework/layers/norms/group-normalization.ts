import * as tf from '@tensorflow/tfjs-core';
import { layers, initializers, type LayerVariable } from '@tensorflow/tfjs-layers';

/**
 * Group Normalization (Wu & He 2018), channels-last: the last axis (C features or channels) is split
 * into `groups` groups and each example is normalized per group over that group's channels and all
 * spatial positions, with the biased variance and epsilon inside the square root (as PyTorch's
 * nn.GroupNorm). groups = C is Instance Normalization. tfjs-layers has no such layer; this one is
 * serializable (className 'BnxGroupNormalization') so saved models and the ONNX exporter see it.
 *
 * Weights, in order: gamma [C] (if scale), beta [C] (if center).
 */
export interface GroupNormalizationArgs {
  groups: number;
  epsilon?: number;
  center?: boolean;
  scale?: boolean;
  name?: string;
  inputShape?: number[];
  batchInputShape?: (number | null)[];
  trainable?: boolean;
}

export class GroupNormalization extends layers.Layer {
  static readonly className = 'BnxGroupNormalization';
  readonly groups: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  gamma: LayerVariable | null = null;
  beta: LayerVariable | null = null;

  constructor(args: GroupNormalizationArgs) {
    super(args);
    if (!Number.isInteger(args.groups) || args.groups < 1) {
      throw new Error(`BnxGroupNormalization: groups must be a positive integer, got ${String(args.groups)}`);
    }
    this.groups = args.groups;
    this.epsilon = args.epsilon ?? 1e-5;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
  }

  override build(inputShape: (number | null)[] | (number | null)[][]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
    const channels = shape[shape.length - 1];
    if (channels == null || channels % this.groups !== 0) {
      throw new Error(`BnxGroupNormalization: ${this.groups} groups must divide the ${String(channels)} channels`);
    }
    if (this.scale) this.gamma = this.addWeight('gamma', [channels], 'float32', initializers.ones());
    if (this.center) this.beta = this.addWeight('beta', [channels], 'float32', initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return groupNorm(x, this.groups, this.epsilon, this.gamma?.read() ?? null, this.beta?.read() ?? null);
    });
  }

  override computeOutputShape(inputShape: (number | null)[] | (number | null)[][]): (number | null)[] | (number | null)[][] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groups: this.groups, epsilon: this.epsilon, center: this.center, scale: this.scale };
  }
}

/** The math, shared with the training engine: x [B, ...spatial, C] -> same shape. */
export function groupNorm(x: tf.Tensor, groups: number, epsilon: number, gamma: tf.Tensor | null, beta: tf.Tensor | null): tf.Tensor {
  const shape = x.shape;
  const b = shape[0]!;
  const c = shape[shape.length - 1]!;
  const s = shape.slice(1, -1).reduce((p, q) => p * q, 1);
  const g = tf.reshape(x, [b, s, groups, c / groups]);
  const { mean, variance } = tf.moments(g, [1, 3], true);
  let y = tf.reshape(tf.mul(tf.sub(g, mean), tf.rsqrt(tf.add(variance, epsilon))), shape);
  if (gamma) y = tf.mul(y, gamma);
  if (beta) y = tf.add(y, beta);
  return y;
}

tf.serialization.registerClass(GroupNormalization);
