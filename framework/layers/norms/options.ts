/**
 * The norm families' YAML options by name: the light half of the norm registry (typebox only, no
 * TensorFlow), which config/ builds the schema from. The heavy half, framework/layers/registry.ts, is
 * typed `Record<NormName, NormFamily>` over the same names, so a name here without a family there
 * (or the reverse) does not compile.
 */
import { Type, type TOptional, type TSchema } from '@sinclair/typebox';
import type { NormConfig } from '../../config/index.js';
import { BASE_OPTIONS, type NormOptions } from './common.options.js';
import { BATCH_OPTIONS } from './batch.options.js';
import { BATCH_RENORM_OPTIONS } from './batch-renorm.options.js';
import { GROUP_OPTIONS } from './group.options.js';

export { BASE_OPTIONS, NORM_POSITIONS, PYTORCH_NORM_DEFAULTS, type NormOptions } from './common.options.js';
export { DEFAULT_GROUPS } from './group.options.js';

export const NORM_OPTIONS = {
  none: { properties: {}, defaults: {} },
  batch: BATCH_OPTIONS,
  batch_renorm: BATCH_RENORM_OPTIONS,
  layer: BASE_OPTIONS,
  group: GROUP_OPTIONS,
  instance: BASE_OPTIONS,
  rms: BASE_OPTIONS,
} as const satisfies Record<string, NormOptions>;

export type NormName = keyof typeof NORM_OPTIONS;
export const NORM_NAMES = Object.keys(NORM_OPTIONS) as NormName[];

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
/** Every option of every family, by name (the flat object form of `model.norm`). */
type Merged = UnionToIntersection<(typeof NORM_OPTIONS)[NormName]['properties']>;
export type AllNormProperties = { [K in keyof Merged]: TOptional<Merged[K] & TSchema> };

/** Every option any family has, each once and optional (a name shared by families has one schema: the first). */
export function allNormOptionProperties(): AllNormProperties {
  const out: Record<string, unknown> = {};
  for (const o of Object.values(NORM_OPTIONS) as NormOptions[]) for (const [k, v] of Object.entries(o.properties)) out[k] ??= Type.Optional(v);
  return out as AllNormProperties;
}

/** A norm config with every option of its family resolved to its default. */
export interface NormSpec {
  type: NormName;
  position: 'pre' | 'post';
  /** The family's options (epsilon, affine, momentum, groups, r_max, ...), defaults filled in. */
  options: Readonly<Record<string, number | boolean>>;
}

export function resolveNorm(norm: NormConfig | undefined): NormSpec {
  const o = (norm === undefined ? { type: 'none' } : typeof norm === 'string' ? { type: norm } : norm) as Record<string, unknown> & { type: NormName };
  const family = NORM_OPTIONS[o.type] as NormOptions;
  const options: Record<string, number | boolean> = {};
  for (const k of Object.keys(family.properties)) {
    if (k === 'position') continue;
    const v = o[k];
    if (v !== undefined) options[k] = v as number | boolean;
    else if (family.defaults[k] !== undefined) options[k] = family.defaults[k]!;
  }
  return { type: o.type, position: (o.position as 'pre' | 'post' | undefined) ?? 'pre', options };
}
