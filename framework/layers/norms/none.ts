/** No normalization: builds no layer. */
import type { NormFamily } from './family.js';
import { NORM_OPTIONS } from './options.js';

export const none: NormFamily = {
  name: 'none',
  options: NORM_OPTIONS.none,
  build: () => null,
  layers: null,
  examples: [
    { name: 'MLP no norm', model: { norm: 'none', hidden: [6, 5] }, inputShape: [9] },
    { name: 'CNN no norm', model: { type: 'cnn', norm: 'none', hidden: [6], conv: { filters: [2, 4], kernel_size: 3, pool: 'max' } }, inputShape: [8, 8, 2] },
  ],
};
