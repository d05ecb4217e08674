/**
 * The residual family: what a ResNet (model/resnet.ts) adds to conv blocks.
 *   Add                      the residual sum, the engine's one node with two inputs (arity 2)
 *   BnxSubsample             strided subsampling and option-A zero-padded shortcuts (subsample.ts)
 *   GlobalAveragePooling2D   the head's mean over all positions
 * Each with its training node and ONNX converter; the examples are small ResNets, so the tests
 * generated from the registry (families.test.ts) check the engine's graph order, gradients against
 * tf autodiff, and ONNX parity on models with skip connections.
 */
import * as tf from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { Converter, LayerFamily, Node } from '../family.js';
import { outShape, toFirst } from '../onnx.js';
import { SubsampleNode, subsampleOnnx } from './subsample.js';

export function addLayer(name: string): Layer {
  return layers.add({ name }) as unknown as Layer;
}

export function globalPoolLayer(name: string): Layer {
  return layers.globalAveragePooling2d({ name }) as unknown as Layer;
}

/** y = x + more[0]: dy flows unchanged into both inputs. */
export class AddNode implements Node {
  readonly params: tf.Variable[] = [];
  readonly arity = 2;
  constructor(readonly layer: Layer) {}
  forward(x: tf.Tensor, _ctx: unknown, more: tf.Tensor[] = []): tf.Tensor {
    if (more.length !== 1) throw new Error(`engine: Add ${this.layer.name} takes 2 inputs, got ${more.length + 1}`);
    return tf.add(x, more[0]!);
  }
  backward(dy: tf.Tensor, needDx: boolean): { dx: tf.Tensor | null; grads: tf.Tensor[]; dxMore: (tf.Tensor | null)[] } {
    return { dx: needDx ? dy : null, grads: [], dxMore: [needDx ? dy : null] };
  }
}

/** Mean over H and W: dx = dy / (H W) at every position. */
class GlobalPoolNode implements Node {
  readonly params: tf.Variable[] = [];
  private shape: number[] = [];
  constructor(readonly layer: Layer) {}
  forward(x: tf.Tensor): tf.Tensor {
    this.shape = x.shape;
    return tf.mean(x, [1, 2]);
  }
  backward(dy: tf.Tensor, needDx: boolean): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    if (!needDx) return { dx: null, grads: [] };
    const [n, h, w, c] = this.shape as [number, number, number, number];
    return { dx: tf.broadcastTo(tf.div(tf.reshape(dy, [n, 1, 1, c]), h * w), [n, h, w, c]), grads: [] };
  }
}

const addOnnx: Converter = (layer, x, g, more = []) => {
  if (more.length !== 1) throw new Error(`ONNX export: Add ${layer.name} needs 2 inputs, got ${more.length + 1}`);
  // Both summands in one physical layout: channels-first when either already is (the conv path).
  let [a, b] = [x, more[0]!];
  if (a.layout !== b.layout && a.shape.length > 1) [a, b] = [toFirst(g, a), toFirst(g, b)];
  return { name: g.node('Add', [a.name, b.name], {}, layer.name), shape: outShape(layer), layout: a.layout };
};

const globalPoolOnnx: Converter = (layer, x, g) => {
  if (x.shape.length !== 3) throw new Error(`ONNX export: ${layer.name} needs an image input [H, W, C]`);
  const axes = x.layout === 'first' ? [2, 3] : [1, 2];
  return { name: g.node('ReduceMean', [x.name], { axes: { ints: axes }, keepdims: { i: 0 } }, layer.name), shape: outShape(layer), layout: 'last' };
};

const NODES: Record<string, (l: Layer) => Node> = {
  Add: (l) => new AddNode(l),
  BnxSubsample: (l) => new SubsampleNode(l),
  GlobalAveragePooling2D: (l) => new GlobalPoolNode(l),
};
const CONVERTERS: Record<string, Converter> = { Add: addOnnx, BnxSubsample: subsampleOnnx, GlobalAveragePooling2D: globalPoolOnnx };

export const residual: LayerFamily = {
  name: 'residual',
  classNames: Object.keys(NODES),
  node: (layer) => NODES[layer.getClassName()]!(layer),
  onnx: (layer, x, g, more) => CONVERTERS[layer.getClassName()]!(layer, x, g, more),
  examples: [
    // Option A: identity shortcuts and a zero-padded, subsampled one (4 -> 6 channels, odd 5x5 input).
    { name: 'ResNet, 2 stages of 1 block, zero-padding shortcuts, batch norm', model: { type: 'resnet', norm: 'batch', resnet: { blocks: 1, filters: [4, 6], shortcut: 'zero_pad' } }, inputShape: [5, 5, 2] },
    // Option B: 1x1 projections (with their norm) where the shape changes.
    { name: 'ResNet, 2 stages of 1 block, projection shortcuts, group norm', model: { type: 'resnet', norm: { type: 'group', groups: 2 }, resnet: { blocks: 1, filters: [2, 4], shortcut: 'projection' } }, inputShape: [6, 6, 3] },
    { name: 'ResNet-14 (3 stages of 2 blocks) without norm', model: { type: 'resnet', norm: 'none', resnet: { blocks: 2, filters: [2, 2, 4], shortcut: 'zero_pad' } }, inputShape: [8, 8, 1] },
  ],
};
