/**
 * YAML option fragments several norm families share. Light on purpose (typebox only): the config
 * stage builds the schema from the families' options without loading TensorFlow.
 */
import { Type, type TSchema } from '@sinclair/typebox';

/** One family's YAML options: their schema fragments and the defaults the builder applies. */
export interface NormOptions {
  /** Option name -> schema (each optional in the study file). */
  readonly properties: Readonly<Record<string, TSchema>>;
  /** Defaults of the options above (the schema documents them; they are not written into the config). */
  readonly defaults: Readonly<Record<string, number | boolean>>;
}

export const NORM_POSITIONS = ['pre', 'post'] as const;

export const PYTORCH_NORM_DEFAULTS = { epsilon: 1e-5, momentum: 0.1 } as const;

export const EPSILON = Type.Number({ exclusiveMinimum: 0, description: 'Added to the variance (PyTorch default 1e-5).' });
export const POSITION = Type.Unsafe<(typeof NORM_POSITIONS)[number]>({
  type: 'string',
  enum: [...NORM_POSITIONS],
  description: 'pre: Linear -> Norm -> Activation (default); post: Linear -> Activation -> Norm.',
});
export const AFFINE = Type.Boolean({ description: 'Learn a per-feature scale and shift (default true).' });
export const MOMENTUM = Type.Number({
  exclusiveMinimum: 0,
  exclusiveMaximum: 1,
  description:
    "batch, batch_renorm: PyTorch's convention, the weight of the new batch in the running statistics (default 0.1; Keras' 0.99 is 1 - this).",
});

/** Options every norm but none has. */
export const BASE_OPTIONS = {
  properties: { epsilon: EPSILON, position: POSITION, affine: AFFINE },
  defaults: { epsilon: PYTORCH_NORM_DEFAULTS.epsilon, affine: true },
} satisfies NormOptions;
