/**
 * Reads a study file and returns a validated config with defaults applied, or throws a ConfigError
 * listing every problem found in one pass, each as `file:line:col: message`.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { isAlias, LineCounter, parse as parseYaml, parseDocument, visit, type Document } from 'yaml';
import { UserError } from '../util/errors.js';
import { hypothesisProblems } from './hypothesis-checks.js';
import { hasPath, locate } from './locate.js';
import { describeErrors, dotted, type SchemaProblem } from './messages.js';
import { DEFAULT_GROUPS } from './names.js';
import { cells, compiledValidators, getPath, resolveCell, setPath } from './resolve.js';
import { experimentJsonSchema, SAFE_NAME, type Experiment, type ModelConfig } from './schema.js';

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
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const problems: Problem[] = [];
  const at = (path: string[], message: string, atKey = false): void => {
    const pos = locate(doc, lines, path, atKey);
    problems.push({ file, line: pos.line, col: pos.col, path: dotted(path), message });
  };

  for (const e of doc.errors) {
    const pos = lines.linePos(e.pos[0]);
    const msg = e.code === 'DUPLICATE_KEY' ? 'duplicate key: each key may appear once in a mapping' : e.message.split('\n')[0]!;
    problems.push({ file, line: pos.line, col: pos.col, path: '', message: `YAML: ${msg}` });
  }
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
  void isAlias;

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

  const { study: validateStudy } = compiledValidators();
  const valid = validateStudy(data);
  if (!valid) report(describeErrors(validateStudy.errors, data));
  const config = data as Experiment;
  semanticChecks(config, doc, at, report, valid);
  if (problems.length) throw new ConfigError(problems);
  return { file, text, config };
}

type At = (path: string[], message: string, atKey?: boolean) => void;

/** Rules the schema cannot express, checked on every resolved variant x matrix cell. */
function semanticChecks(
  config: Experiment,
  doc: Document,
  at: At,
  report: (ps: SchemaProblem[], blame?: (path: string[]) => string[] | undefined) => void,
  schemaValid: boolean,
): void {
  // Name and path rules also run on a schema-invalid file (guarded), so one pass reports them all.
  const ds = (config.dataset ?? {}) as Partial<Experiment['dataset']>;
  if (typeof ds === 'object' && !!ds.name === !!ds.path && (schemaValid || ds.name !== undefined || ds.path !== undefined)) {
    at(['dataset'], ds.name ? 'dataset: give either name or path, not both' : 'dataset needs a name (fashion-mnist, mnist) or a path to a folder of IDX files');
  }
  const safe = new RegExp(SAFE_NAME);
  for (const v of Object.keys(config.variants ?? {})) {
    if (!safe.test(v)) {
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
    } else if (getPath(base, segs) === undefined && !Object.values(config.variants ?? {}).some((v) => getPath(v, segs) !== undefined)) {
      at(['matrix', path], `matrix key "${path}" does not exist in the config; check the spelling against the schema`, true);
      matrixOk = false;
    }
  }
  if (!matrixOk || !schemaValid) return;

  const seen = new Set<string>();
  for (const cell of cells(config)) {
    const r = resolveCell(config, cell);
    const blame = (path: string[]): string[] => {
      const vpath = ['variants', cell.variant, ...path];
      if (hasPath(doc, vpath)) return vpath;
      const m = Object.keys(cell.matrix).find((k) => path.join('.').startsWith(k));
      return m ? ['matrix', m, String(config.matrix[m]!.indexOf(cell.matrix[m]!))] : path;
    };
    if (r.errors) {
      const key = JSON.stringify(r.errors.map((e) => e.instancePath + e.keyword));
      if (seen.has(key)) continue;
      seen.add(key);
      report(describeErrors(r.errors, r.data), blame);
      continue;
    }
    const model = r.fields!.model;
    for (const problem of modelProblems(model)) {
      const id = `${cell.variant}|${problem.message}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const p = blame(problem.path);
      at(p, cell.variant === Object.keys(config.variants)[0] && p[0] !== 'variants' ? problem.message : `${problem.message} (variant "${cell.variant}")`);
    }
  }
  for (const p of hypothesisProblems(config)) at(p.path, p.message, p.atKey);
}

function modelProblems(model: ModelConfig): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  const norm = typeof model.norm === 'string' ? { type: model.norm } : model.norm;
  if (norm.type === 'instance' && model.type !== 'cnn') {
    out.push({ path: ['model', 'norm'], message: 'instance norm needs image inputs: use it with model.type: cnn (for an MLP use layer or group)' });
  }
  if (norm.type === 'group') {
    const groups = (norm as { groups?: number }).groups ?? DEFAULT_GROUPS;
    const widths = model.type === 'cnn' ? [...model.conv.filters, ...model.hidden] : model.hidden;
    const bad = widths.filter((w) => w % groups !== 0);
    if (bad.length) {
      out.push({
        path: typeof model.norm === 'string' ? ['model', 'norm'] : ['model', 'norm', 'groups'],
        message: `group norm with ${groups} groups needs every normalized width to be a multiple of ${groups}; ${bad.join(', ')} ${bad.length > 1 ? 'are' : 'is'} not (widths: ${widths.join(', ')})`,
      });
    }
  }
  return out;
}
