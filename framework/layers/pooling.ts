/** 2D max and average pooling: tfjs layers, training node (VJP through the layer's call), ONNX MaxPool/AveragePool. */
import { layers } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { CallNode } from './activations/activations.js';
import type { Converter, LayerFamily } from './family.js';
import { channelsLastOnly, config, outShape, pads, pair, toFirst } from './onnx.js';

/** 2x2 pooling with stride 2 (valid padding), as bnx's conv blocks use it. */
export function poolLayer(name: string, kind: 'max' | 'avg'): Layer {
  const args = { name, poolSize: 2, strides: 2, padding: 'valid' as const };
  return kind === 'max' ? layers.maxPooling2d(args) : layers.averagePooling2d(args);
}

const OP: Record<string, 'MaxPool' | 'AveragePool'> = { MaxPooling2D: 'MaxPool', AveragePooling2D: 'AveragePool' };

const poolOnnx: Converter = (layer, x, g) => {
  channelsLastOnly(layer);
  if (x.shape.length !== 3) throw new Error(`ONNX export: ${layer.getClassName()} ${layer.name} needs an image input [H, W, C]`);
  const c = config(layer);
  const size = pair(c.poolSize, 'poolSize', layer);
  const strides = pair(c.strides ?? c.poolSize, 'strides', layer);
  x = toFirst(g, x);
  // AveragePool's count_include_pad defaults to 0: padded cells are not counted, as in tfjs.
  const y = g.node(OP[layer.getClassName()]!, [x.name], { kernel_shape: { ints: size }, strides: { ints: strides }, pads: { ints: pads(layer, x, size, strides, [1, 1]) } }, layer.name);
  return { name: y, shape: outShape(layer), layout: 'first' };
};

export const pooling: LayerFamily = {
  name: 'pooling',
  classNames: Object.keys(OP),
  node: (layer) => new CallNode(layer),
  onnx: poolOnnx,
  examples: [
    { name: 'CNN max pool', model: { type: 'cnn', hidden: [6], conv: { filters: [2, 4], kernel_size: 3, pool: 'max' } }, inputShape: [8, 8, 2] },
    { name: 'CNN avg pool', model: { type: 'cnn', hidden: [6], conv: { filters: [2], kernel_size: 3, pool: 'avg' } }, inputShape: [8, 8, 1] },
  ],
};
