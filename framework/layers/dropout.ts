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
import { drawMask, DropoutFast } from './dropout-fast.js';

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
    drawMask(this.buf, this.rate, ctx.dropoutRng);
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
  fast: (layer, b) => new DropoutFast(layer, configOf(layer).rate as number, b),
  onnx: identity,
  stochastic: true,
  examples: [{ name: 'MLP with dropout', model: { dropout: 0.25 }, inputShape: [9] }],
};
