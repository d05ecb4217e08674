/**
 * Normalization layers by the names users write (framework/config/names.ts NORMS). The registry is a
 * `Record<NormName, NormFactory>`, so a name without an implementation does not compile.
 *
 * Layers that can appear in a model (tfjs-layers className):
 *   batch    -> 'BatchNormalization' (axis -1; Keras momentum = 1 - PyTorch momentum; epsilon 1e-5)
 *   layer    -> 'LayerNormalization' (axis -1, i.e. features for an MLP, channels per pixel for a CNN)
 *   group    -> 'BnxGroupNormalization' (custom, groups over the last axis)
 *   instance -> 'BnxGroupNormalization' with groups = channels (CNN conv blocks only)
 *   rms      -> 'BnxRMSNormalization' (custom, over the last axis)
 *
 * Momentum convention: the config holds PyTorch's (weight of the new batch, default 0.1); Keras/tfjs
 * hold the weight of the old running value, so the layer gets 1 - momentum. The training engine keeps
 * the running variance unbiased (n / (n - 1)), as PyTorch does.
 */
import { layers } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { NormConfig } from '../config/schema.js';
import { DEFAULT_GROUPS, type NormName } from '../config/names.js';
import { UserError } from '../util/errors.js';
import { GroupNormalization } from './group-normalization.js';
import { RMSNormalization } from './rms-normalization.js';

export { GroupNormalization, RMSNormalization };

/** A norm config with every option resolved to its default. */
export interface NormSpec {
  type: NormName;
  /** GroupNorm groups; undefined means DEFAULT_GROUPS (the schema's documented default). */
  groups?: number;
  epsilon: number;
  /** PyTorch convention: weight of the new batch statistics in the running average. */
  momentum: number;
  position: 'pre' | 'post';
  affine: boolean;
}

/** Where the norm sits: after a Dense (features) or after a Conv2D (channels, spatial). */
export interface NormSite {
  channels: number;
  kind: 'dense' | 'conv';
  name: string;
}

export type NormFactory = (spec: NormSpec, site: NormSite) => Layer | null;

export const PYTORCH_NORM_DEFAULTS = { epsilon: 1e-5, momentum: 0.1 } as const;

export function resolveNorm(norm: NormConfig | undefined): NormSpec {
  const o = norm === undefined ? { type: 'none' as const } : typeof norm === 'string' ? { type: norm } : norm;
  return {
    type: o.type,
    ...('groups' in o && o.groups !== undefined ? { groups: o.groups } : {}),
    epsilon: ('epsilon' in o && o.epsilon) || PYTORCH_NORM_DEFAULTS.epsilon,
    momentum: ('momentum' in o && o.momentum) || PYTORCH_NORM_DEFAULTS.momentum,
    position: ('position' in o && o.position) || 'pre',
    affine: 'affine' in o && o.affine !== undefined ? o.affine : true,
  };
}

export const NORM_LAYERS: Record<NormName, NormFactory> = {
  none: () => null,
  batch: (spec, site) =>
    layers.batchNormalization({
      name: site.name,
      axis: -1,
      momentum: 1 - spec.momentum,
      epsilon: spec.epsilon,
      center: spec.affine,
      scale: spec.affine,
    }),
  layer: (spec, site) =>
    layers.layerNormalization({ name: site.name, axis: -1, epsilon: spec.epsilon, center: spec.affine, scale: spec.affine }),
  group: (spec, site) => {
    const groups = spec.groups ?? DEFAULT_GROUPS;
    if (site.channels % groups !== 0) {
      throw new UserError(
        `model.norm.groups: ${groups} groups do not divide the ${site.channels} ${site.kind === 'conv' ? 'channels' : 'features'} of layer ${site.name}`,
        ['Pick a groups value that divides every hidden width (and every conv filter count), or leave it unset.'],
      );
    }
    return new GroupNormalization({ name: site.name, groups, epsilon: spec.epsilon, center: spec.affine, scale: spec.affine });
  },
  instance: (spec, site) => {
    // Instance norm of a feature vector normalizes each feature on its own (always 0): it only means
    // something over spatial positions, so the dense head of a CNN gets no norm.
    if (site.kind === 'dense') return null;
    return new GroupNormalization({
      name: site.name,
      groups: site.channels,
      epsilon: spec.epsilon,
      center: spec.affine,
      scale: spec.affine,
    });
  },
  rms: (spec, site) => new RMSNormalization({ name: site.name, epsilon: spec.epsilon, scale: spec.affine }),
};
