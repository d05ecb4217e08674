/** Conv2D (stride 1, dilation 1, padding same, channels last): tfjs layer, training node, ONNX Conv. */
import * as tf from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { emitActivationOf } from '../activations/onnx-activations.js';
import type { Converter, LayerFamily } from '../family.js';
import { inputShapeOf } from '../fast-node.js';
import { configOf, KernelNode, weightsOf } from '../node-util.js';
import { channelsLastOnly, config, need, outShape, pads, pair, toFirst, weights } from '../onnx.js';
import { ConvFast, convFastFits } from './conv-fast.js';
import { conv2dFilterGrad, conv2dInputGrad } from './conv-grads.js';

/** A linear 'same' Conv2D with zero kernel (bnx initialises weights itself, model/initializers.ts). */
export function conv2dLayer(name: string, filters: number, kernelSize: number, inputShape?: number[]): Layer {
  return layers.conv2d({
    name,
    filters,
    kernelSize,
    padding: 'same',
    activation: 'linear',
    useBias: true,
    kernelInitializer: 'zeros',
    ...(inputShape ? { inputShape } : {}),
  });
}

export class Conv2DNode extends KernelNode {
  private x: tf.Tensor4D | null = null;
  forward(x: tf.Tensor): tf.Tensor {
    this.x = x as tf.Tensor4D;
    return tf.fused.conv2d({
      x: this.x,
      filter: this.kernel as tf.Tensor4D,
      strides: 1,
      pad: 'same',
      ...(this.bias ? { bias: this.bias } : {}),
      ...(this.fuseRelu ? { activation: 'relu' as const } : {}),
    });
  }
  backward(dy: tf.Tensor, needDx: boolean): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    const d = dy as tf.Tensor4D;
    const x = this.x!;
    const gW = conv2dFilterGrad(x, d, this.kernel.shape as [number, number, number, number]);
    const grads = this.bias ? [gW, tf.sum(d, [0, 1, 2])] : [gW];
    const dx = needDx ? conv2dInputGrad(d, this.kernel as tf.Tensor4D) : null;
    return { dx, grads };
  }
}

/** Any Conv2D tfjs can hold (strides, dilations, valid padding): the exporter handles more than bnx trains. */
const conv2dOnnx: Converter = (layer, x, g) => {
  channelsLastOnly(layer);
  if (x.shape.length !== 3) throw new Error(`ONNX export: Conv2D ${layer.name} needs an image input [H, W, C], got [${x.shape.join(', ')}]`);
  const c = config(layer);
  const ws = weights(layer);
  const k = need(ws, 'kernel', layer);
  const b = ws.get('bias');
  const [kh, kw, cin, cout] = k.shape as [number, number, number, number];
  // HWIO -> OIHW
  const w = new Float32Array(k.values.length);
  for (let h = 0; h < kh; h++)
    for (let v = 0; v < kw; v++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) w[((o * cin + i) * kh + h) * kw + v] = k.values[((h * kw + v) * cin + i) * cout + o]!;
  const strides = pair(c.strides ?? 1, 'strides', layer);
  const dilations = pair(c.dilationRate ?? 1, 'dilationRate', layer);
  x = toFirst(g, x);
  const inputs = [x.name, g.weight(`${layer.name}.weight`, [cout, cin, kh, kw], w)];
  if (b) inputs.push(g.weight(`${layer.name}.bias`, b.shape, b.values));
  const y = g.node(
    'Conv',
    inputs,
    {
      kernel_shape: { ints: [kh, kw] },
      strides: { ints: strides },
      dilations: { ints: dilations },
      pads: { ints: pads(layer, x, [kh, kw], strides, dilations) },
      group: { i: 1 },
    },
    layer.name,
  );
  return emitActivationOf(layer, g, { name: y, shape: outShape(layer), layout: 'first' });
};

const unit = (v: number[] | number) => (Array.isArray(v) ? v.every((s) => s === 1) : v === 1);

/** What bnx's engines train: linear, stride 1, dilation 1, 'same', channels last. */
function trainable(layer: Layer): boolean {
  const cfg = configOf(layer);
  return cfg.activation === 'linear' && cfg.padding === 'same' && unit(cfg.strides as number[]) && unit(cfg.dilationRate as number[] | number) && cfg.dataFormat === 'channelsLast';
}

export const conv2d: LayerFamily = {
  name: 'conv2d',
  classNames: ['Conv2D'],
  node(layer) {
    if (!trainable(layer)) throw new Error(`engine: Conv2D ${layer.name} must be linear, stride 1, dilation 1, padding same, channels last`);
    const [k, b] = weightsOf(layer, 'kernel', 'bias');
    return new Conv2DNode(layer, k!, b!);
  },
  fast(layer, b) {
    if (!trainable(layer)) return null;
    const [k, bias] = weightsOf(layer, 'kernel', 'bias');
    const [kh, kw, cin, cout] = k!.shape as [number, number, number, number];
    const [H, W] = inputShapeOf(layer) as [number, number];
    const g = { kh, kw, H, W, cin, cout };
    return convFastFits(g, b.input, b.needDx) ? new ConvFast(layer, k!, bias!, g, b) : null;
  },
  onnx: conv2dOnnx,
  examples: [
    { name: 'CNN even kernel (asymmetric same padding), gelu', model: { type: 'cnn', activation: 'gelu', hidden: [], conv: { filters: [3], kernel_size: 2, pool: 'avg' } }, inputShape: [6, 6, 2] },
    { name: 'CNN without pooling', model: { type: 'cnn', hidden: [3], conv: { filters: [2], kernel_size: 5, pool: 'none' } }, inputShape: [5, 5, 1] },
    // shapes the wasm fast path covers (filters a multiple of 8): conv, max pool and BatchNorm over channels on it
    { name: 'CNN fast path, 8 filters, max pool, BatchNorm', model: { type: 'cnn', hidden: [6], norm: 'batch', conv: { filters: [8, 8], kernel_size: 3, pool: 'max' } }, inputShape: [8, 8, 1] },
  ],
};
