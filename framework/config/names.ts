/**
 * The names users write in YAML. Each registry (framework/layers/registry, framework/train/optimizers, ...)
 * is typed `Record<Name, Factory>`, so the compiler refuses a name here without an implementation
 * there, and the schema is built from these tuples: one source of truth for YAML, schema and types.
 * Kept free of heavy imports so `bnx validate` never loads TensorFlow. Norm names come from the norm
 * families' light registry (framework/layers/options.ts).
 */
import { NORM_NAMES, type NormName } from '../layers/options.js';

export { NORM_POSITIONS, DEFAULT_GROUPS, type NormName } from '../layers/options.js';
export const NORMS: readonly NormName[] = NORM_NAMES;
export const DATASETS = ['fashion-mnist', 'mnist', 'cifar-10'] as const;
export const ACTIVATIONS = ['relu', 'leaky_relu', 'gelu', 'elu', 'selu', 'tanh', 'sigmoid', 'swish', 'linear'] as const;
export const INITIALIZERS = ['pytorch', 'glorot_uniform', 'glorot_normal', 'he_uniform', 'he_normal', 'lecun_normal'] as const;
export const OPTIMIZERS = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'] as const;
export const SCHEDULES = ['none', 'step', 'exponential', 'cosine', 'warmup_cosine'] as const;
export const BACKENDS = ['auto', 'tensorflow', 'tensorflow-gpu', 'wasm', 'cpu'] as const;
export const POOLINGS = ['max', 'avg', 'none'] as const;

export type DatasetName = (typeof DATASETS)[number];
export type ActivationName = (typeof ACTIVATIONS)[number];
export type InitializerName = (typeof INITIALIZERS)[number];
export type OptimizerName = (typeof OPTIMIZERS)[number];
export type ScheduleName = (typeof SCHEDULES)[number];
export type BackendName = (typeof BACKENDS)[number];
