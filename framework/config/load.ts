/**
 * Reads a study file and returns a validated config with defaults applied, or throws a ConfigError
 * listing every problem found in one pass, each as `file:line:col: message`.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { LineCounter, parse as parseYaml, parseDocument, visit, type Document } from 'yaml';
import { UserError } from '../util/errors.js';
import { hypothesisNameProblems, hypothesisProblems } from './hypothesis-checks.js';
import { hasPath, locate } from './locate.js';
import { describeErrors, dotted, type SchemaProblem } from './messages.js';
import { DATASETS } from './names.js';
import { resolveRunFields } from './normalize.js';
import { cells, compiledValidators, deepMerge, getPath, resolveCell, setPath } from './resolve.js';
import { dataProblems, modelProblems, type DataShape } from './rules.js';
import { experimentJsonSchema, MAX_NAME_LENGTH, SAFE_NAME, type DatasetConfig, type Experiment } from './schema.js';

export interface Problem {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
}

export class ConfigError extends UserError {
  constructor(readonly problems: Problem[]) {
    // Reading order: --set problems first, then by position in the file.
    const sorted = [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
    super(sorted.map(formatProblem).join('\n'));
    this.problems = sorted;
    this.name = 'ConfigError';
  }
}

export function formatProblem(p: Problem): string {
  return p.line ? `${p.file}:${p.line}:${p.col}: ${p.message}` : `${p.file}: ${p.message}`;
}

export interface LoadedStudy {
  file: string;
  text: string;
  config: Experiment;
}

export interface LoadOptions {
  /** `--set key=value` overrides applied to the base before validation. */
  set?: string[];
  /**
   * The shape of a dataset (or why it cannot be used), for the rules that depend on the data: image
   * size against conv blocks, batch size against the training examples, a dataset.path that exists.
   * Given by the CLI (framework/data reads headers); without it those rules are skipped.
   */
  dataShape?: (dataset: DatasetConfig) => DataShape | string | undefined;
}

/** Parse `--set` text by the schema type at its path: strings stay text, the rest is read as YAML. */
function overrideValue(path: string[], raw: string): unknown {
  let node: Record<string, unknown> | undefined = experimentJsonSchema();
  for (const seg of path) {
    const props = node?.properties as Record<string, Record<string, unknown>> | undefined;
    node = props?.[seg];
  }
  if (node?.type === 'string') return raw;
  try {
    return parseYaml(raw);
  } catch {
    return raw;
  }
}

export function loadStudy(file: string, opts: LoadOptions = {}): LoadedStudy {
  const shown = relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(`${shown}: cannot read the study file (${code === 'ENOENT' ? 'no such file' : String(code)})`);
  }
  return parseStudy(text, shown, opts);
}

export function parseStudy(text: string, file: string, opts: LoadOptions = {}): LoadedStudy {
  const lines = new LineCounter();
  // merge: true reads `<<: *base` as YAML 1.1 merge keys (a common way to share settings).
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false, merge: true });
  const problems: Problem[] = [];
  const at = (path: string[], message: string, atKey = false): void => {
    const pos = locate(doc, lines, path, atKey);
    // Several matrix cells can share one bad value: say it once.
    if (problems.some((p) => p.line === pos.line && p.col === pos.col && p.message === message)) return;
    problems.push({ file, line: pos.line, col: pos.col, path: dotted(path), message });
  };

  for (const e of doc.errors) {
    const pos = lines.linePos(e.pos[0]);
    const msg = e.code === 'DUPLICATE_KEY' ? 'duplicate key: each key may appear once in a mapping' : e.message.split('\n')[0]!;
    problems.push({ file, line: pos.line, col: pos.col, path: '', message: `YAML: ${msg}` });
  }
  if (problems.length) throw new ConfigError(problems);

  // An alias whose anchor is missing (or defined later) is a plain mistake, not an alias bomb.
  visit(doc, {
    Alias(_k, node) {
      if (node.resolve(doc) === undefined) {
        const pos = lines.linePos(node.range?.[0] ?? 0);
        problems.push({
          file,
          line: pos.line,
          col: pos.col,
          path: '',
          message: `YAML: alias *${node.source} has no anchor &${node.source} before it; define the anchor first (e.g. x-${node.source}: &${node.source} {...}) or fix the name`,
        });
      }
    },
  });
  if (problems.length) throw new ConfigError(problems);

  let data: unknown;
  try {
    // Aliases that expand into huge values ("billion laughs") are refused by the yaml library.
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    let pos = { line: 1, col: 1 };
    visit(doc, {
      Alias(_k, node) {
        pos = lines.linePos(node.range?.[0] ?? 0);
        return visit.BREAK;
      },
    });
    problems.push({
      file,
      line: pos.line,
      col: pos.col,
      path: '',
      message: `YAML: ${(err as Error).message} (aliases expand to too many nodes; write the values out instead)`,
    });
    throw new ConfigError(problems);
  }
  if (data === null || data === undefined) {
    throw new ConfigError([{ file, line: 1, col: 1, path: '', message: 'the study file is empty; see experiments/ for examples' }]);
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError([{ file, line: 1, col: 1, path: '', message: 'a study must be a mapping of keys (name, dataset, model, ...)' }]);
  }

  const overridden = new Map<string, string>();
  for (const s of opts.set ?? []) {
    const eq = s.indexOf('=');
    if (eq <= 0) {
      problems.push({ file: `--set ${s}`, line: 0, col: 0, path: s, message: 'expected key=value, e.g. --set train.epochs=2' });
      continue;
    }
    const key = s.slice(0, eq).trim();
    const path = key.split('.');
    setPath(data as Record<string, unknown>, path, overrideValue(path, s.slice(eq + 1)));
    overridden.set(key, s);
  }

  const report = (ps: SchemaProblem[], blame: (path: string[]) => string[] | undefined = (p) => p): void => {
    for (const p of ps) {
      const key = [...overridden.keys()].find((k) => dotted(p.path) === k || dotted(p.path).startsWith(`${k}.`));
      if (key) {
        problems.push({ file: `--set ${overridden.get(key)}`, line: 0, col: 0, path: dotted(p.path), message: p.message });
        continue;
      }
      at(blame(p.path) ?? p.path, p.message, p.atKey);
    }
  };

  // .inf and .nan are YAML numbers that JSON Schema cannot see (ajv lets Infinity pass > 0 and JSON
  // turns NaN into null): refuse them here, once, and keep the schema's messages about them out.
  const nonFinite = nonFinitePaths(data);
  report(nonFinite.map(({ path, value }) => ({ path, message: `${dotted(path)} must be a finite number (got ${showNumber(value)})` })));
  const isNonFinite = (pointer: string) => nonFinite.some((n) => pointer === `/${n.path.join('/')}`);

  const { study: validateStudy } = compiledValidators();
  const valid = validateStudy(data) && nonFinite.length === 0;
  if (!valid) report(describeErrors(validateStudy.errors?.filter((e) => !isNonFinite(e.instancePath)), data));
  const config = data as Experiment;
  semanticChecks(config, doc, at, report, valid, opts.dataShape);
  if (problems.length) throw new ConfigError(problems);
  return { file, text, config };
}

type At = (path: string[], message: string, atKey?: boolean) => void;

const showNumber = (n: number): string => (Number.isNaN(n) ? '.nan' : n > 0 ? '.inf' : '-.inf');

function nonFinitePaths(data: unknown, path: string[] = []): { path: string[]; value: number }[] {
  if (typeof data === 'number') return Number.isFinite(data) ? [] : [{ path, value: data }];
  if (!data || typeof data !== 'object') return [];
  return Object.entries(data as Record<string, unknown>).flatMap(([k, v]) => nonFinitePaths(v, [...path, k]));
}

/** Rules the schema cannot express, checked on every resolved variant x matrix cell. */
function semanticChecks(
  config: Experiment,
  doc: Document,
  at: At,
  report: (ps: SchemaProblem[], blame?: (path: string[]) => string[] | undefined) => void,
  schemaValid: boolean,
  dataShape?: LoadOptions['dataShape'],
): void {
  // Name and path rules also run on a schema-invalid file (guarded), so one pass reports them all.
  const ds = (config.dataset ?? {}) as Partial<Experiment['dataset']>;
  if (typeof ds === 'object' && !!ds.name === !!ds.path && (schemaValid || ds.name !== undefined || ds.path !== undefined)) {
    at(['dataset'], ds.name ? 'dataset: give either name or path, not both' : `dataset needs a name (${DATASETS.join(', ')}) or a path to a folder of IDX files`);
  }
  const safe = new RegExp(SAFE_NAME);
  for (const v of Object.keys(config.variants ?? {})) {
    if (v.length > MAX_NAME_LENGTH) {
      at(['variants', v], `variant name "${v.slice(0, 20)}..." is ${v.length} characters; at most ${MAX_NAME_LENGTH} (it names files and MLflow runs)`, true);
    } else if (!safe.test(v)) {
      at(['variants', v], `variant name "${v}" must use only letters, digits, ".", "_" and "-", starting with a letter or digit (it names files and MLflow runs)`, true);
    }
  }
  if (config.report?.reference !== undefined && config.variants && !(config.report.reference in config.variants)) {
    at(['report', 'reference'], `report.reference "${config.report.reference}" is not a variant; variants: ${Object.keys(config.variants).join(', ')}`);
  }
  const runRoots = new Set(['dataset', 'model', 'train']);
  const base = { dataset: config.dataset, model: config.model, train: config.train };
  let matrixOk = true;
  for (const path of Object.keys(config.matrix ?? {})) {
    const segs = path.split('.');
    if (!runRoots.has(segs[0]!) || segs.length < 2) {
      at(['matrix', path], `matrix key "${path}" must be a dotted path inside dataset, model or train (e.g. train.optimizer.lr)`, true);
      matrixOk = false;
    } else if (!pathExists(base, Object.values(config.variants ?? {}), segs)) {
      at(['matrix', path], `matrix key "${path}" does not exist in the config; check the spelling against the schema`, true);
      matrixOk = false;
    }
  }
  if (!matrixOk || !schemaValid) {
    for (const p of hypothesisNameProblems(config)) at(p.path, p.message, p.atKey);
    return;
  }

  const seen = new Set<string>();
  for (const cell of cells(config)) {
    const r = resolveCell(config, cell);
    const blame = (path: string[]): string[] => {
      const vpath = ['variants', cell.variant, ...path];
      if (hasPath(doc, vpath)) return vpath;
      const joined = path.join('.');
      const m = Object.keys(cell.matrix).find((k) => joined === k || joined.startsWith(`${k}.`));
      // Point into the matrix value itself (`{ type: grop }` -> at `grop`) when the problem is inside it.
      const inside = m ? path.slice(m.split('.').length) : [];
      return m ? ['matrix', m, String(config.matrix[m]!.indexOf(cell.matrix[m]!)), ...inside] : path;
    };
    if (r.errors) {
      const key = JSON.stringify(r.errors.map((e) => e.instancePath + e.keyword));
      if (seen.has(key)) continue;
      seen.add(key);
      // A base key that only fails under a later variant says which variant breaks it.
      const suffix = (p: SchemaProblem): SchemaProblem =>
        cell.variant !== Object.keys(config.variants)[0] && !hasPath(doc, ['variants', cell.variant, ...p.path]) ? { ...p, message: `${p.message} (variant "${cell.variant}")` } : p;
      report(describeErrors(r.errors, r.data).map(suffix), blame);
      continue;
    }
    const fields = r.fields!;
    const shape = dataShape?.(fields.dataset);
    if (typeof shape === 'string') {
      if (!seen.has(shape)) at(blame(['dataset', 'path']), shape);
      seen.add(shape);
    }
    const written = (r.data.model ?? {}) as { norm?: unknown };
    const ruled = [...modelProblems(fields.model, written), ...(shape && typeof shape === 'object' ? dataProblems(fields, shape) : [])];
    for (const problem of ruled) {
      const id = `${cell.variant}|${problem.message}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const p = blame(problem.path);
      at(p, cell.variant === Object.keys(config.variants)[0] && p[0] !== 'variants' ? problem.message : `${problem.message} (variant "${cell.variant}")`, problem.atKey);
    }
  }
  for (const p of hypothesisProblems(config)) at(p.path, p.message, p.atKey);
}

/** A matrix path exists when the base, a variant, or a resolved variant (schema defaults) has it. */
function pathExists(base: Record<string, unknown>, variants: unknown[], segs: string[]): boolean {
  if (getPath(base, segs) !== undefined || variants.some((v) => getPath(v, segs) !== undefined)) return true;
  return variants.some((v) => getPath(resolveRunFields(deepMerge(base, v) as Record<string, unknown>), segs) !== undefined);
}
