/**
 * ModelConfig -> a tfjs-layers Sequential. The layer order is a contract with the ONNX exporter and
 * the training engine (framework/train/engine.ts):
 *   MLP: [Flatten if the input is not flat], then per hidden width
 *        Dense(linear) -> [norm if pre] -> activation -> [norm if post] -> [Dropout if rate > 0],
 *        then Dense(numClasses) producing logits (no softmax).
 *   CNN: per conv block Conv2D(same, linear) -> [norm pre] -> activation -> [norm post] -> [pool 2x2],
 *        then Flatten and the MLP head above.
 * Layer names are fixed (fc1, fc1_norm, fc1_act, fc1_drop, ..., conv1, conv1_pool, flatten, logits).
 */
import * as tf from '@tensorflow/tfjs-core';
import { sequential, type LayersModel } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { RunConfig } from '../config/index.js';

/** A resolved model config (framework/config normalises it: every default written out). */
type ModelConfig = RunConfig['model'];
import { UserError } from '../util/errors.js';
import { ACTIVATION_LAYERS, NORM_FAMILIES, conv2dLayer, denseLayer, dropoutLayer, flattenLayer, poolLayer, resolveNorm, type NormSpec } from '../layers/index.js';
import { initValues, layerSeeds } from './initializers.js';
import { resnetModel } from './resnet.js';

function block(out: Layer[], prefix: string, channels: number, kind: 'dense' | 'conv', model: ModelConfig, norm: NormSpec): void {
  const normLayer = () => NORM_FAMILIES[norm.type].build(norm, { channels, kind, name: `${prefix}_norm` });
  if (norm.position === 'pre') pushIf(out, normLayer());
  out.push(ACTIVATION_LAYERS[model.activation](`${prefix}_act`));
  if (norm.position === 'post') pushIf(out, normLayer());
}

function pushIf(out: Layer[], l: Layer | null): void {
  if (l) out.push(l);
}

/** The layers in order, not yet built. The first layer carries the input shape. */
export function modelLayers(model: ModelConfig, inputShape: number[], numClasses: number): Layer[] {
  const norm = resolveNorm(model.norm);
  const out: Layer[] = [];
  const { hidden, dropout, type } = model;
  if (type === 'mlp' && norm.type === 'instance') {
    throw new UserError('model.norm: instance normalization needs spatial positions, so it is only for type: cnn', [
      'Use norm: layer or group for an MLP, or set model.type: cnn.',
    ]);
  }
  if (type === 'cnn') {
    if (inputShape.length !== 3) {
      throw new UserError(`model.type cnn needs image input [height, width, channels], got [${inputShape.join(', ')}]`);
    }
    const conv = model.conv;
    if (!conv) throw new Error('modelLayers: model.type cnn without model.conv; resolve the config through the schema (runConfig)');
    conv.filters.forEach((filters, i) => {
      const p = `conv${i + 1}`;
      out.push(conv2dLayer(p, filters, conv.kernel_size, i === 0 ? inputShape : undefined));
      block(out, p, filters, 'conv', model, norm);
      if (conv.pool !== 'none') out.push(poolLayer(`${p}_pool`, conv.pool));
    });
    out.push(flattenLayer());
  } else if (inputShape.length !== 1) {
    out.push(flattenLayer(inputShape));
  }
  hidden.forEach((units, i) => {
    const p = `fc${i + 1}`;
    out.push(denseLayer(p, units, out.length === 0 ? inputShape : undefined));
    block(out, p, units, 'dense', model, norm);
    if (dropout > 0) out.push(dropoutLayer(`${p}_drop`, dropout));
  });
  out.push(denseLayer('logits', numClasses, out.length === 0 ? inputShape : undefined));
  return out;
}

/**
 * Build the model and initialize every Dense/Conv2D from the run seed (see initializers.ts), in
 * layer order (a ResNet: model/resnet.ts, a tfjs functional model in topological order).
 */
export function buildModel(model: ModelConfig, inputShape: number[], numClasses: number, seed: number): LayersModel {
  const m = model.type === 'resnet' ? resnetModel(model, inputShape, numClasses) : sequential({ layers: modelLayers(model, inputShape, numClasses) });
  const ls = m.layers as unknown as Layer[];
  const weighted = ls.filter((l) => l.getClassName() === 'Dense' || l.getClassName() === 'Conv2D');
  const seeds = layerSeeds(seed, weighted.length);
  weighted.forEach((l, i) => {
    const [kernel, bias] = l.getWeights();
    const ks = kernel!.shape;
    const receptive = ks.slice(0, -2).reduce((p, q) => p * q, 1);
    const fans = { fanIn: receptive * ks[ks.length - 2]!, fanOut: receptive * ks[ks.length - 1]! };
    const v = initValues(model.init, kernel!.size, bias!.size, fans, seeds[i]!);
    // The gain scales the drawn kernel (a gain of 1 leaves every value as drawn, bit for bit).
    const gain = model.init_gain ?? 1;
    if (gain !== 1) for (let j = 0; j < v.kernel.length; j++) v.kernel[j]! *= gain;
    const kt = tf.tensor(v.kernel, ks);
    const bt = tf.tensor(v.bias, bias!.shape);
    l.setWeights([kt, bt]);
    tf.dispose([kt, bt]);
  });
  return m;
}
