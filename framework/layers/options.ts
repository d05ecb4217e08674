/**
 * The light public surface of framework/layers: the norm families' names and YAML options, for the
 * config stage (schema, validation) without loading TensorFlow. Everything else: ./index.ts.
 */
export {
  NORM_OPTIONS,
  NORM_NAMES,
  NORM_POSITIONS,
  DEFAULT_GROUPS,
  PYTORCH_NORM_DEFAULTS,
  allNormOptionProperties,
  resolveNorm,
  type NormName,
  type NormOptions,
  type NormSpec,
} from './norms/options.js';
