/**
 * Dense (fully connected): tfjs layer, training node (with the first layer's own wasm SIMD kernel,
 * dense-kernel.ts), ONNX converter (Gemm, or MatMul + Add on a higher-rank input).
 */
import * as tf from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { fusedMatMul } from '../../tfjs/index.js';
import { emitActivationOf } from '../activations/onnx-activations.js';
import type { Converter, LayerFamily } from '../family.js';
import { configOf, KernelNode, weightsOf } from '../node-util.js';
import { need, toLast, weights } from '../onnx.js';
import { denseForward, denseKernelFits, denseWeightGrad } from './dense-kernel.js';
import { DenseFast } from './dense-fast.js';

/** A linear Dense layer with zero kernel (bnx initialises weights itself, model/initializers.ts). */
export function denseLayer(name: string, units: number, inputShape?: number[]): Layer {
  return layers.dense({ name, units, activation: 'linear', useBias: true, kernelInitializer: 'zeros', ...(inputShape ? { inputShape } : {}) });
}

export class DenseNode extends KernelNode {
  /**
   * Set by the engine on the first weighted layer (no dx needed): on the wasm backend its products run
   * in dense-kernel.ts (no per-step repacking of the changing weights, no transpose of x).
   */
  ownKernel = false;
  private x: tf.Tensor2D | null = null;
  /** Whether the last forward ran in dense-kernel.ts (then so does the weight gradient). */
  private own = false;
  forward(x: tf.Tensor): tf.Tensor {
    this.x = x as tf.Tensor2D;
    this.own = this.ownKernel && denseKernelFits(x, this.kernel);
    if (this.own) return denseForward(x, this.kernel, this.bias, this.fuseRelu);
    return fusedMatMul(x, this.kernel, this.bias, this.fuseRelu);
  }
  backward(dy: tf.Tensor, needDx: boolean): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    const d = dy as tf.Tensor2D;
    const gW = this.own ? denseWeightGrad(this.x!, d) : tf.matMul(tf.transpose(this.x!), d);
    const grads = this.bias ? [gW, tf.sum(d, 0)] : [gW];
    const dx = needDx ? tf.matMul(d, tf.transpose(this.kernel as tf.Tensor2D)) : null;
    return { dx, grads };
  }
}

const denseOnnx: Converter = (layer, x, g) => {
  const ws = weights(layer);
  const k = need(ws, 'kernel', layer);
  const b = ws.get('bias');
  const units = k.shape[1]!;
  let y: string;
  if (x.shape.length === 1) {
    const inputs = [x.name, g.weight(`${layer.name}.weight`, k.shape, k.values)];
    if (b) inputs.push(g.weight(`${layer.name}.bias`, b.shape, b.values));
    y = g.node('Gemm', inputs, {}, layer.name);
  } else {
    // tfjs applies Dense to the last axis of a higher-rank input.
    x = toLast(g, x);
    y = g.node('MatMul', [x.name, g.weight(`${layer.name}.weight`, k.shape, k.values)], {}, `${layer.name}_matmul`);
    if (b) y = g.node('Add', [y, g.weight(`${layer.name}.bias`, b.shape, b.values)], {}, layer.name);
  }
  return emitActivationOf(layer, g, { name: y, shape: [...x.shape.slice(0, -1), units], layout: x.layout });
};

export const dense: LayerFamily = {
  name: 'dense',
  classNames: ['Dense'],
  node(layer) {
    const cfg = configOf(layer);
    if (cfg.activation !== 'linear') throw new Error(`engine: Dense ${layer.name} must have a linear activation (got ${String(cfg.activation)})`);
    const [k, b] = weightsOf(layer, 'kernel', 'bias');
    return new DenseNode(layer, k!, b!);
  },
  fast(layer, b) {
    if (configOf(layer).activation !== 'linear' || b.input.width !== weightsOf(layer, 'kernel')[0]!.shape[0]) return null;
    const [k, bias] = weightsOf(layer, 'kernel', 'bias');
    return new DenseFast(layer, k!, bias!, b);
  },
  onnx: denseOnnx,
  examples: [
    { name: 'MLP', model: { hidden: [6, 5] }, inputShape: [9] },
    { name: 'MLP without hidden layers', model: { hidden: [] }, inputShape: [9] },
  ],
};
