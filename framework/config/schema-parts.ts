/** Building blocks of the study schema, shared by schema.ts, schema-train.ts and hypotheses.ts. */
import { Type } from '@sinclair/typebox';

/** A string enum: plain `enum` in JSON Schema (editors list the values, errors can name them all). */
export const literalUnion = <T extends readonly string[]>(values: T, options: { description: string; default?: T[number] }) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });

export const strict = { additionalProperties: false } as const;

/**
 * `appliesWhen` (a bnx annotation, ignored by validators and editors): the option only means something
 * when a sibling key has one of the listed values. normalizeConfig() drops it otherwise, so a setting
 * without effect (conv settings on an MLP, GroupNorm's groups on BatchNorm) never changes a run key or
 * the params a run logs.
 */
export const appliesWhen = (key: string, values: readonly string[]) => ({ appliesWhen: { [key]: [...values] } });
