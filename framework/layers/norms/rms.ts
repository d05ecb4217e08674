/** RMSNorm: bnx's serializable BnxRMSNormalization layer (rms-normalization.ts), training node, ONNX decomposition. */
import * as tf from '@tensorflow/tfjs-core';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { Converter, LayerFamily, Node } from '../family.js';
import { configOf, nonNull, weightsOf } from '../node-util.js';
import { affine, config, weights } from '../onnx.js';
import { normExamples, type NormFamily } from './family.js';
import { NORM_OPTIONS } from './options.js';
import { RMSNormalization } from './rms-normalization.js';

/** RMSNorm over the last axis: y = x * r * gamma, r = rsqrt(mean(x^2) + eps); dx = r * (g - xr * mean(g * xr)). */
class RmsNormNode implements Node {
  readonly params: tf.Variable[];
  private cache: { xr: tf.Tensor; r: tf.Tensor } | null = null;
  constructor(
    readonly layer: Layer,
    private readonly gamma: tf.Variable | null,
    private readonly epsilon: number,
  ) {
    this.params = nonNull([gamma]);
  }
  forward(x: tf.Tensor): tf.Tensor {
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), this.epsilon));
    const xr = tf.mul(x, r);
    this.cache = { xr, r };
    return this.gamma ? tf.mul(xr, this.gamma) : xr;
  }
  backward(dy: tf.Tensor, needDx: boolean): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    const { xr, r } = this.cache!;
    const grads = this.gamma ? [tf.sum(tf.mul(dy, xr), dy.shape.slice(0, -1).map((_, i) => i))] : [];
    let dx: tf.Tensor | null = null;
    if (needDx) {
      const g = this.gamma ? tf.mul(dy, this.gamma) : dy;
      dx = tf.mul(tf.sub(g, tf.mul(xr, tf.mean(tf.mul(g, xr), -1, true))), r);
    }
    return { dx, grads };
  }
}

/** RMSNorm over the channel axis, decomposed: x / sqrt(mean(x^2) + eps) * gamma. */
const rmsNormOnnx: Converter = (layer, x, g) => {
  const c = config(layer);
  const axis = x.layout === 'first' && x.shape.length >= 2 ? 1 : -1;
  const sq = g.node('Pow', [x.name, g.scalar(2)], {}, `${layer.name}_sq`);
  const ms = g.node('ReduceMean', [sq], { axes: { ints: [axis] }, keepdims: { i: 1 } }, `${layer.name}_meansq`);
  const rms = g.node('Sqrt', [g.node('Add', [ms, g.scalar(Number(c.epsilon ?? 1e-5))], {}, `${layer.name}_eps`)], {}, `${layer.name}_rms`);
  const y = g.node('Div', [x.name, rms], {}, layer.name);
  return affine(g, layer, { ...x, name: y }, weights(layer));
};

export const rmsNormLayers: LayerFamily = {
  name: 'rms',
  classNames: [RMSNormalization.className],
  node(layer) {
    const [g] = weightsOf(layer, 'gamma');
    return new RmsNormNode(layer, g, configOf(layer).epsilon as number);
  },
  onnx: rmsNormOnnx,
  examples: [],
};

export const rms: NormFamily = {
  name: 'rms',
  options: NORM_OPTIONS.rms,
  build: (spec, site) => new RMSNormalization({ name: site.name, epsilon: spec.options.epsilon as number, scale: spec.options.affine as boolean }),
  layers: rmsNormLayers,
  examples: normExamples({ type: 'rms' }),
};
