/**
 * GroupNorm: bnx's serializable BnxGroupNormalization layer (group-normalization.ts), the per-group
 * statistics node, and ONNX as PyTorch exports it.
 */
import { UserError } from '../../util/errors.js';
import type { Converter, LayerFamily } from '../family.js';
import { configOf, weightsOf } from '../node-util.js';
import { affine, config, toFirst, weights } from '../onnx.js';
import { normExamples, type NormFamily } from './family.js';
import { GroupNormalization } from './group-normalization.js';
import { GroupStatsNode } from './group-stats.js';
import { GROUP_OPTIONS } from './group.options.js';

/**
 * Reshape [N, G, -1] -> InstanceNormalization (unit scale, zero bias) -> Reshape back -> Mul gamma ->
 * Add beta. Channels-first makes each group's channels and all their spatial positions contiguous,
 * exactly the set tfjs normalizes together.
 */
const groupNormOnnx: Converter = (layer, x, g) => {
  const c = config(layer);
  const groups = Number(c.groups);
  const ch = x.shape[x.shape.length - 1]!;
  if (!Number.isInteger(groups) || groups < 1 || ch % groups !== 0) throw new Error(`ONNX export: ${layer.name}: ${String(c.groups)} groups do not divide ${ch} channels`);
  x = toFirst(g, x);
  const physical = x.layout === 'first' && x.shape.length >= 2 ? [ch, ...x.shape.slice(0, -1)] : x.shape;
  const grouped = g.node('Reshape', [x.name, g.int64s([0, groups, -1])], {}, `${layer.name}_group`);
  const normed = g.node(
    'InstanceNormalization',
    [grouped, g.weight(`${layer.name}.unit_scale`, [groups], new Float32Array(groups).fill(1)), g.weight(`${layer.name}.zero_bias`, [groups], new Float32Array(groups))],
    { epsilon: { f: Number(c.epsilon ?? 1e-5) } },
    `${layer.name}_instnorm`,
  );
  const back = g.node('Reshape', [normed, g.int64s([0, ...physical])], {}, `${layer.name}_ungroup`);
  return affine(g, layer, { ...x, name: back }, weights(layer));
};

/** BnxGroupNormalization layers, built by group and by instance (groups = channels). */
export const groupNormLayers: LayerFamily = {
  name: 'group',
  classNames: [GroupNormalization.className],
  node(layer) {
    const cfg = configOf(layer);
    const [g, b] = weightsOf(layer, 'gamma', 'beta');
    return new GroupStatsNode(layer, g, b, cfg.epsilon as number, cfg.groups as number);
  },
  onnx: groupNormOnnx,
  examples: [],
};

export const group: NormFamily = {
  name: 'group',
  options: GROUP_OPTIONS,
  build: (spec, site) => {
    const groups = spec.options.groups as number;
    if (site.channels % groups !== 0) {
      throw new UserError(
        `model.norm.groups: ${groups} groups do not divide the ${site.channels} ${site.kind === 'conv' ? 'channels' : 'features'} of layer ${site.name}`,
        ['Pick a groups value that divides every hidden width (and every conv filter count), or leave it unset.'],
      );
    }
    return new GroupNormalization({ name: site.name, groups, epsilon: spec.options.epsilon as number, center: spec.options.affine as boolean, scale: spec.options.affine as boolean });
  },
  layers: groupNormLayers,
  examples: [
    ...normExamples({ type: 'group', groups: 1 }, { cnn: false }),
    ...normExamples({ type: 'group', groups: 2 }, { mlp: false }),
    { name: 'MLP group norm with several groups and no affine', model: { norm: { type: 'group', groups: 3, affine: false }, hidden: [6, 6] }, inputShape: [9] },
  ],
};
