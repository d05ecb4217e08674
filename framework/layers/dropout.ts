/**
 * Dropout: tfjs layer, training node (inverted dropout as PyTorch: keep with probability 1 - rate,
 * scale kept units by 1 / (1 - rate), masks from the run's seeded stream), ONNX: nothing (the
 * identity at inference).
 */
import * as tf from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { Converter, LayerFamily, Node, StepContext } from './family.js';
import { configOf } from './node-util.js';
import { outShape } from './onnx.js';

export function dropoutLayer(name: string, rate: number): Layer {
  return layers.dropout({ name, rate });
}

class DropoutNode implements Node {
  readonly params: tf.Variable[] = [];
  private mask: tf.Tensor | null = null;
  private buf = new Float32Array(0);
  constructor(
    readonly layer: Layer,
    private readonly rate: number,
  ) {}
  forward(x: tf.Tensor, ctx: StepContext): tf.Tensor {
    if (!ctx.training || this.rate === 0) {
      this.mask = null;
      return x;
    }
    if (this.buf.length !== x.size) this.buf = new Float32Array(x.size);
    const keep = 1 / (1 - this.rate);
    // One draw from the seeded stream per mask seeds a mulberry32 generator for the mask itself:
    // deterministic, a new mask every step, and ~10x cheaper than a seedrandom call per unit.
    let state = Math.floor(ctx.dropoutRng() * 4294967296) >>> 0;
    const threshold = this.rate * 4294967296;
    for (let i = 0; i < this.buf.length; i++) {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      this.buf[i] = ((t ^ (t >>> 14)) >>> 0) >= threshold ? keep : 0;
    }
    this.mask = tf.tensor(this.buf, x.shape);
    return tf.mul(x, this.mask);
  }
  backward(dy: tf.Tensor): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    return { dx: this.mask ? tf.mul(dy, this.mask) : dy, grads: [] };
  }
}

const identity: Converter = (layer, x) => ({ ...x, shape: outShape(layer) });

export const dropout: LayerFamily = {
  name: 'dropout',
  classNames: ['Dropout'],
  node: (layer) => new DropoutNode(layer, configOf(layer).rate as number),
  onnx: identity,
  stochastic: true,
  examples: [{ name: 'MLP with dropout', model: { dropout: 0.25 }, inputShape: [9] }],
};
