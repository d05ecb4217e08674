import * as tf from '@tensorflow/tfjs-core';
import { layers, initializers, type LayerVariable } from '@tensorflow/tfjs-layers';

/**
 * RMS Normalization (Zhang & Sennrich 2019), as PyTorch's nn.RMSNorm over the last axis:
 * y = x / sqrt(mean(x^2) + epsilon) * gamma. No centering, no bias. For a CNN the last axis is the
 * channels, so each pixel is normalized over its channels. Serializable as 'BnxRMSNormalization'.
 *
 * Weights: gamma [C] (if scale).
 */
export interface RMSNormalizationArgs {
  epsilon?: number;
  scale?: boolean;
  name?: string;
  inputShape?: number[];
  batchInputShape?: (number | null)[];
  trainable?: boolean;
}

export class RMSNormalization extends layers.Layer {
  static readonly className = 'BnxRMSNormalization';
  readonly epsilon: number;
  readonly scale: boolean;
  gamma: LayerVariable | null = null;

  constructor(args: RMSNormalizationArgs = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-5;
    this.scale = args.scale ?? true;
  }

  override build(inputShape: (number | null)[] | (number | null)[][]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
    const channels = shape[shape.length - 1];
    if (channels == null) throw new Error('BnxRMSNormalization: the last axis must have a known size');
    if (this.scale) this.gamma = this.addWeight('gamma', [channels], 'float32', initializers.ones());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      return rmsNorm(x, this.epsilon, this.gamma?.read() ?? null);
    });
  }

  override computeOutputShape(inputShape: (number | null)[] | (number | null)[][]): (number | null)[] | (number | null)[][] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon, scale: this.scale };
  }
}

/** The math, shared with the training engine. */
export function rmsNorm(x: tf.Tensor, epsilon: number, gamma: tf.Tensor | null): tf.Tensor {
  const ms = tf.mean(tf.square(x), -1, true);
  const y = tf.mul(x, tf.rsqrt(tf.add(ms, epsilon)));
  return gamma ? tf.mul(y, gamma) : y;
}

tf.serialization.registerClass(RMSNormalization);
