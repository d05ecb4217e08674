/** BatchNorm's YAML options (light: no TensorFlow). */
import { BASE_OPTIONS, MOMENTUM, PYTORCH_NORM_DEFAULTS, type NormOptions } from './common.options.js';

export const BATCH_OPTIONS = {
  properties: { ...BASE_OPTIONS.properties, momentum: MOMENTUM },
  defaults: { ...BASE_OPTIONS.defaults, momentum: PYTORCH_NORM_DEFAULTS.momentum },
} satisfies NormOptions;
