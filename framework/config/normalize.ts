/**
 * The normalised config: one spelling per computation. It is what run keys hash and what a run logs
 * as its MLflow params, so two configs that train the same thing normalise to the same value, and every
 * run of a study logs the same param names.
 *
 * Driven by the schema alone (no option names here), so it keeps working as fragments move or types
 * are added:
 * - every default the schema declares is written out, also inside union members (ajv's useDefaults
 *   skips those), so `norm: batch` and `{type: batch, momentum: 0.1}` are the same value;
 * - a string shorthand of a discriminated union (`norm: batch`, `schedule: cosine`) becomes `{type: x}`;
 * - a union of objects discriminated by `type` is resolved to the member whose `type` matches, and
 *   only that member's keys are kept;
 * - an option annotated `appliesWhen: {key: [values]}` is dropped unless its sibling `key` has one of
 *   the values (`model.conv` on an MLP, GroupNorm's `groups` on BatchNorm).
 * Execution choices (train.backend) are not part of it.
 */
import {
  runFieldsJsonSchema,
  type ConvConfig,
  type DatasetConfig,
  type ModelConfig,
  type NormObject,
  type ResnetConfig,
  type ScheduleObject,
  type TrainConfig,
} from './schema.js';

type Obj = Record<string, unknown>;
type Schema = Obj;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** The values a member's `type` property admits (const or enum), or undefined if it has none. */
function typeValues(member: Schema): unknown[] | undefined {
  const t = (member.properties as Record<string, Schema> | undefined)?.type;
  if (!t) return undefined;
  if ('const' in t) return [t.const];
  return Array.isArray(t.enum) ? t.enum : undefined;
}

function typeDefault(member: Schema): unknown {
  return (member.properties as Record<string, Schema> | undefined)?.type?.default;
}

function normalizeUnion(members: Schema[], value: unknown): unknown {
  const objects = members.filter((m) => typeValues(m));
  if (objects.length === 0) return value;
  let v = value;
  // The string shorthand of a union that also has an object form with a `type`.
  if (typeof v === 'string' && objects.some((m) => typeValues(m)!.includes(v))) v = { type: v };
  if (!isObj(v)) return v;
  const type = v.type ?? objects.map(typeDefault).find((d) => d !== undefined);
  const member = objects.find((m) => typeValues(m)!.includes(type));
  return member ? normalizeNode(member, { ...v, type }) : v;
}

function applies(prop: Schema, siblings: Obj): boolean {
  const when = prop.appliesWhen as Record<string, unknown[]> | undefined;
  if (!when) return true;
  return Object.entries(when).every(([key, values]) => values.includes(siblings[key]));
}

function normalizeNode(schema: Schema, value: unknown): unknown {
  const v = value === undefined && 'default' in schema ? structuredClone(schema.default) : value;
  if (v === undefined) return undefined;
  const union = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (union) return normalizeUnion(union, v);
  if (Array.isArray(v) && isObj(schema.items)) return v.map((x) => normalizeNode(schema.items as Schema, x));
  if (!isObj(v) || !isObj(schema.properties)) return v;
  const props = schema.properties as Record<string, Schema>;
  // Resolve the discriminating siblings first, so appliesWhen sees defaults (model.type: mlp).
  const resolved: Obj = {};
  for (const [k, p] of Object.entries(props)) {
    const n = normalizeNode(p, v[k]);
    if (n !== undefined) resolved[k] = n;
  }
  const out: Obj = {};
  for (const [k, n] of Object.entries(resolved)) if (applies(props[k]!, resolved)) out[k] = n;
  return out;
}

let runFields: Schema | undefined;
const runFieldsSchema = (): Schema => (runFields ??= runFieldsJsonSchema());

/** Run fields after resolution: union values in their object form, conv only on a CNN. */
export interface ResolvedFields {
  dataset: DatasetConfig;
  model: Omit<ModelConfig, 'conv' | 'norm' | 'resnet'> & { conv?: ConvConfig; resnet?: ResnetConfig; norm: NormObject };
  train: Omit<TrainConfig, 'schedule'> & { schedule: ScheduleObject };
}

/** A run's config as trained: every default written out, shorthands expanded, no-effect options dropped. */
export function resolveRunFields(fields: { dataset?: unknown; model?: unknown; train?: unknown }): ResolvedFields {
  return normalizeNode(runFieldsSchema(), { dataset: fields.dataset, model: fields.model, train: fields.train }) as ResolvedFields;
}

/** What a run computes, in one spelling per computation. */
export type NormalizedConfig = Omit<ResolvedFields, 'train'> & { train: Omit<ResolvedFields['train'], 'backend'>; seed: number };

/**
 * The normalised config of a run: what its key hashes and what it logs as params. The backend is an
 * execution choice (like --jobs) and is left out; each run records the backend it used as a tag.
 */
export function normalizeConfig(config: { dataset: unknown; model: unknown; train: unknown; seed: number }): NormalizedConfig {
  const fields = resolveRunFields(config);
  const { backend: _backend, ...train } = fields.train;
  return { dataset: fields.dataset, model: fields.model, train, seed: config.seed };
}
