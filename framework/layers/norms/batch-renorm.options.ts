/**
 * Batch Renormalization's YAML options (light: no TensorFlow). Schedule of the clipping limits over
 * the layer's training steps t (one per batch): r_max(t) = 1 + (r_max - 1) * min(1, t / warmup_steps),
 * d_max(t) = d_max * min(1, t / warmup_steps): plain BatchNorm at t = 0, relaxed linearly to the
 * limits (Ioffe 2017 held r_max 1 / d_max 0 for 5k steps, then reached 3 and 5 at 40k / 25k steps;
 * bnx studies are short, so one linear ramp of 1000 steps, about one FashionMNIST epoch at batch 64).
 */
import { Type } from '@sinclair/typebox';
import { BATCH_OPTIONS } from './batch.options.js';
import type { NormOptions } from './common.options.js';

export const BATCH_RENORM_OPTIONS = {
  properties: {
    ...BATCH_OPTIONS.properties,
    r_max: Type.Number({ minimum: 1, description: 'batch_renorm: largest correction of the batch std, r in [1/r_max, r_max] (default 3).' }),
    d_max: Type.Number({ minimum: 0, description: 'batch_renorm: largest correction of the batch mean, in running stds (default 5).' }),
    warmup_steps: Type.Integer({
      minimum: 0,
      description: 'batch_renorm: training steps over which r_max rises linearly from 1 and d_max from 0 (default 1000; 0: no warm-up).',
    }),
  },
  defaults: { ...BATCH_OPTIONS.defaults, r_max: 3, d_max: 5, warmup_steps: 1000 },
} satisfies NormOptions;
