/** LayerNorm: tfjs-layers' LayerNormalization over the last axis, training node, ONNX LayerNormalization. */
import { layers } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { Converter, LayerFamily } from '../family.js';
import { configOf, weightsOf } from '../node-util.js';
import { config, isLastAxis, toLast, weights } from '../onnx.js';
import { normExamples, type NormFamily } from './family.js';
import { GroupStatsNode } from './group-stats.js';
import { LayerNormFast } from './layer-fast.js';
import { NORM_OPTIONS } from './options.js';

const layerNormOnnx: Converter = (layer, x, g) => {
  const c = config(layer);
  if (!isLastAxis(c.axis, x.shape.length + 1)) throw new Error(`ONNX export: LayerNormalization ${layer.name} normalizes axes ${JSON.stringify(c.axis)}; only the last axis is supported`);
  const ws = weights(layer);
  const ch = x.shape[x.shape.length - 1]!;
  x = toLast(g, x);
  const inputs = [x.name, g.weight(`${layer.name}.weight`, [ch], ws.get('gamma')?.values ?? new Float32Array(ch).fill(1))];
  const beta = ws.get('beta');
  if (beta) inputs.push(g.weight(`${layer.name}.bias`, [ch], beta.values));
  const y = g.node('LayerNormalization', inputs, { axis: { i: -1 }, epsilon: { f: Number(c.epsilon ?? 1e-3) } }, layer.name);
  return { ...x, name: y };
};

/** Whether the layer normalizes the last axis only (what the engines implement). */
function lastAxisOnly(layer: Layer): boolean {
  // build() turns axis -1 into [rank - 1]; anything else normalizes more than the last axis
  const rank = (layer.input as unknown as { shape: unknown[] }).shape.length;
  const axis = configOf(layer).axis;
  return axis === -1 || (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === rank - 1));
}

export const layerNormLayers: LayerFamily = {
  name: 'layer',
  classNames: ['LayerNormalization'],
  fast(layer, b) {
    // an input of rank > 2 (a CNN) normalizes each position: not a row of the fast layout
    if (!lastAxisOnly(layer) || (layer.input as unknown as { shape: unknown[] }).shape.length !== 2) return null;
    const [g, beta] = weightsOf(layer, 'gamma', 'beta');
    return new LayerNormFast(layer, g!, beta!, configOf(layer).epsilon as number, b);
  },
  node(layer) {
    const cfg = configOf(layer);
    if (!lastAxisOnly(layer)) throw new Error(`engine: LayerNormalization ${layer.name} must normalize the last axis only (axis ${JSON.stringify(cfg.axis)})`);
    const [g, b] = weightsOf(layer, 'gamma', 'beta');
    return new GroupStatsNode(layer, g, b, cfg.epsilon as number, null);
  },
  onnx: layerNormOnnx,
  examples: [],
};

export const layer: NormFamily = {
  name: 'layer',
  options: NORM_OPTIONS.layer,
  build: (spec, site) =>
    layers.layerNormalization({
      name: site.name,
      axis: -1,
      epsilon: spec.options.epsilon as number,
      center: spec.options.affine as boolean,
      scale: spec.options.affine as boolean,
    }),
  layers: layerNormLayers,
  examples: normExamples({ type: 'layer' }),
};
