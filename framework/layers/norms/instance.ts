/** InstanceNorm: GroupNorm with one group per channel, on conv blocks only (builds BnxGroupNormalization). */
import { normExamples, type NormFamily } from './family.js';
import { groupNormLayers } from './group.js';
import { GroupNormalization } from './group-normalization.js';
import { NORM_OPTIONS } from './options.js';

export const instance: NormFamily = {
  name: 'instance',
  options: NORM_OPTIONS.instance,
  build: (spec, site) => {
    // Instance norm of a feature vector normalizes each feature on its own (always 0): it only means
    // something over spatial positions, so the dense head of a CNN gets no norm.
    if (site.kind === 'dense') return null;
    const affine = spec.options.affine as boolean;
    return new GroupNormalization({ name: site.name, groups: site.channels, epsilon: spec.options.epsilon as number, center: affine, scale: affine });
  },
  layers: groupNormLayers,
  examples: normExamples({ type: 'instance' }, { mlp: false }),
};
