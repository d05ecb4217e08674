/** GroupNorm's YAML options (light: no TensorFlow). */
import { Type } from '@sinclair/typebox';
import { BASE_OPTIONS, type NormOptions } from './common.options.js';

/** GroupNorm's group count when the YAML does not set one. */
export const DEFAULT_GROUPS = 8;

export const GROUP_OPTIONS = {
  properties: {
    groups: Type.Integer({
      minimum: 1,
      description: `group: number of groups (default ${DEFAULT_GROUPS}); must divide every normalized width (features or channels).`,
    }),
    ...BASE_OPTIONS.properties,
  },
  defaults: { ...BASE_OPTIONS.defaults, groups: DEFAULT_GROUPS },
} satisfies NormOptions;
