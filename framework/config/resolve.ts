/** Pure helpers that build one run's config from the base, a variant, a matrix cell and a seed. */
import { Ajv, type ValidateFunction } from 'ajv';
import { resolveRunFields, type ResolvedFields } from './normalize.js';
import { experimentJsonSchema, runFieldsJsonSchema, type Experiment } from './schema.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** Objects merge key by key; anything else (lists, scalars, a string replacing an object) replaces. */
export function deepMerge<T>(base: T, patch: unknown): T {
  if (!isObj(base) || !isObj(patch)) return structuredClone(patch === undefined ? base : (patch as T));
  const out: Obj = structuredClone(base);
  for (const [k, v] of Object.entries(patch)) out[k] = k in out ? deepMerge(out[k], v) : structuredClone(v);
  return out as T;
}

export function getPath(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const seg of path) {
    if (!isObj(cur)) return undefined;
    cur = cur[seg];
  }
  return cur;
}

export function setPath(obj: Obj, path: readonly string[], value: unknown): void {
  let cur = obj;
  for (const seg of path.slice(0, -1)) {
    if (!isObj(cur[seg])) cur[seg] = {};
    cur = cur[seg] as Obj;
  }
  cur[path[path.length - 1]!] = value;
}

let validators: { study: ValidateFunction; runFields: ValidateFunction } | undefined;

/** Compiled once per process: ajv with all errors, unknown keys rejected (schema), defaults applied. */
export function compiledValidators(): { study: ValidateFunction; runFields: ValidateFunction } {
  if (!validators) {
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
    validators = { study: ajv.compile(experimentJsonSchema()), runFields: ajv.compile(runFieldsJsonSchema()) };
  }
  return validators;
}

/** The values of one matrix cell by dotted path: numbers and names, or mappings and lists. */
export type MatrixCell = Record<string, unknown>;

export interface Cell {
  variant: string;
  matrix: MatrixCell;
}

/** A matrix value as run names and reports show it: `0.01`, `batch`, `{type:group,groups:4}`, `[64,32]`. */
export function matrixValueText(v: unknown): string {
  if (v === null || typeof v !== 'object') return String(v);
  return JSON.stringify(v).replace(/"([A-Za-z0-9_.-]+)"/g, '$1');
}

/** Every (variant, matrix cell) pair of a study, variants in file order, matrix in key order. */
export function cells(study: Experiment): Cell[] {
  const axes = Object.entries(study.matrix);
  let combos: MatrixCell[] = [{}];
  for (const [path, values] of axes) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [path]: v })));
  return Object.keys(study.variants).flatMap((variant) => combos.map((matrix) => ({ variant, matrix })));
}

/**
 * The run fields of one cell: base <- variant <- matrix values, validated, then normalised (every
 * default written out, also inside unions, and options without effect dropped).
 * Returns ajv's errors instead of throwing so the loader can locate them.
 */
export function resolveCell(
  study: Experiment,
  cell: Cell,
): { fields?: ResolvedFields; errors?: ValidateFunction['errors']; data: Obj } {
  const base: Obj = { dataset: study.dataset, model: study.model, train: study.train };
  const data = deepMerge(base, study.variants[cell.variant] ?? {});
  for (const [path, value] of Object.entries(cell.matrix)) setPath(data, path.split('.'), value);
  const v = compiledValidators().runFields;
  if (!v(data)) return { errors: v.errors, data };
  return { fields: resolveRunFields(data as Parameters<typeof resolveRunFields>[0]), data };
}

/**
 * A complete run config from a partial one, with every default the schema declares: how tests and
 * benchmarks get configs without restating defaults. Throws on an invalid patch.
 */
export function runConfig(patch: { dataset?: object; model?: object; train?: object } = {}, seed = 1): ResolvedFields & { seed: number } {
  const data: Obj = deepMerge({ dataset: { name: 'fashion-mnist' }, model: {}, train: {} }, patch);
  const v = compiledValidators().runFields;
  if (!v(data)) throw new Error(`runConfig: invalid patch ${JSON.stringify(patch)}: ${JSON.stringify(v.errors)}`);
  return { ...resolveRunFields(data as Parameters<typeof resolveRunFields>[0]), seed };
}
