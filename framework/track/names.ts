/**
 * MLflow's rules for metric, param and tag names (mlflow/utils/validation.py). In a file store a
 * name is a path, so these rules are also what keeps a key like `../evil` inside the run folder.
 */
import { LIMITS, TrackingError, type Metric } from './types.js';

const VALID_NAME = /^[/\p{L}\p{N}_.\- ]*$/u;

/** Python's posixpath.normpath, for MLflow's "would resolve to" check and message. */
export function pythonNormpath(p: string): string {
  if (p === '') return '.';
  const initial = p.startsWith('/') ? (p.startsWith('//') && !p.startsWith('///') ? 2 : 1) : 0;
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..' || (!initial && out.length === 0) || (out.length > 0 && out[out.length - 1] === '..')) out.push(part);
    else if (out.length > 0) out.pop();
  }
  const joined = '/'.repeat(initial) + out.join('/');
  return joined || '.';
}

/** `'text'` the way Python's repr quotes a plain string (MLflow's messages use it). */
export function pyQuote(s: string): string {
  return s.includes("'") && !s.includes('"') ? `"${s}"` : `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export type NameKind = 'metric' | 'parameter' | 'tag';

export function validateName(kind: NameKind, name: string): void {
  if (typeof name !== 'string') throw new TrackingError('INVALID_PARAMETER_VALUE', `Missing value for required parameter 'key'.`);
  if (!VALID_NAME.test(name)) {
    throw new TrackingError(
      'INVALID_PARAMETER_VALUE',
      `Invalid ${kind} name: '${name}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), and slashes (/).`,
    );
  }
  const norm = pythonNormpath(name);
  if (norm !== name || norm === '.' || norm.startsWith('..') || norm.startsWith('/')) {
    throw new TrackingError(
      'INVALID_PARAMETER_VALUE',
      `Invalid ${kind} name: '${name}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to ${pyQuote(norm)}`,
    );
  }
  if (name.length > LIMITS.keyLength) {
    throw new TrackingError('INVALID_PARAMETER_VALUE', `${kind} '${name.slice(0, 40)}...' had length ${name.length}, which exceeded length limit of ${LIMITS.keyLength}`);
  }
}

export function validateValueLength(kind: 'param' | 'tag', key: string, value: string): void {
  const limit = kind === 'param' ? LIMITS.paramValueLength : LIMITS.tagValueLength;
  if (value.length > limit) {
    throw new TrackingError(
      'INVALID_PARAMETER_VALUE',
      `${kind === 'param' ? 'Param' : 'Tag'} value '${value.slice(0, 40)}...' had length ${value.length}, which exceeded length limit of ${limit} (key '${key}')`,
    );
  }
}

/** A run id as MLflow validates it: a folder name, never a path. */
export function validateRunId(runId: string): void {
  if (typeof runId !== 'string' || !/^[a-zA-Z0-9][\w-]{0,255}$/.test(runId)) {
    throw new TrackingError('INVALID_PARAMETER_VALUE', `Invalid run ID: '${String(runId)}'`);
  }
}

/** An artifact path relative to the run's artifact root: no `..`, not absolute. */
export function validateArtifactPath(p: string): string {
  const norm = p.replace(/\\/g, '/').replace(/^\.\//, '');
  if (norm === '' || norm.startsWith('/') || norm.split('/').some((s) => s === '..')) {
    throw new TrackingError('INVALID_PARAMETER_VALUE', `Invalid artifact path '${p}': it must be relative to the run's artifact root and must not contain '..'`);
  }
  return norm.replace(/\/+$/, '');
}

/** Every metric, param and tag of a log-batch, checked before any is written (MLflow's messages). */
export function validateBatch(metrics: Metric[], params: [string, string][], tags: [string, string][]): void {
  for (const m of metrics) {
    validateName('metric', m.key);
    if (typeof m.value !== 'number') throw new TrackingError('INVALID_PARAMETER_VALUE', `Got invalid value ${String(m.value)} for metric '${m.key}' (timestamp=${m.timestamp}). Please specify value as a valid double (64-bit floating point)`);
    if (!Number.isInteger(m.timestamp)) throw new TrackingError('INVALID_PARAMETER_VALUE', `Got invalid timestamp ${String(m.timestamp)} for metric '${m.key}' (value=${m.value}). Timestamp must be a nonnegative long (64-bit integer)`);
    if (!Number.isInteger(m.step)) throw new TrackingError('INVALID_PARAMETER_VALUE', `Got invalid step ${String(m.step)} for metric '${m.key}' (value=${m.value}). Step must be a valid long (64-bit integer).`);
  }
  for (const [k, v] of params) {
    validateName('parameter', k);
    validateValueLength('param', k, String(v));
  }
  for (const [k, v] of tags) {
    validateName('tag', k);
    validateValueLength('tag', k, String(v));
  }
}
