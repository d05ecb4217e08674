/**
 * MLflow's search filter grammar (the subset bnx and its tests use): clauses joined by `and`, each
 * `params.<key>`, `tags.<key>`, `metrics.<key>` or `attributes.<key>`, a comparison (=, !=, <, <=,
 * >, >=, LIKE, ILIKE) and a quoted string or a number; keys with dots in backticks
 * (``params.`model.norm.type` = 'batch'``). One parser for the file store and the fake server.
 */
import { TrackingError, type Run } from './types.js';

export interface Clause {
  kind: 'attributes' | 'metrics' | 'params' | 'tags';
  key: string;
  op: string;
  value: string | number;
}

function splitAnd(filter: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quote: string | null = null;
  for (let i = 0; i < filter.length; i++) {
    const c = filter[i]!;
    if (quote) {
      cur += c;
      if (c === quote) quote = null;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      quote = c;
      cur += c;
      continue;
    }
    const rest = filter.slice(i);
    const m = /^\s+and\s+/i.exec(rest);
    if (m) {
      parts.push(cur);
      cur = '';
      i += m[0].length - 1;
      continue;
    }
    cur += c;
  }
  if (cur.trim()) parts.push(cur);
  return parts.map((p) => p.trim());
}

export function parseFilter(filter: string): Clause[] {
  if (!filter.trim()) return [];
  return splitAnd(filter).map((part) => {
    const m = /^(attributes|attribute|attr|run|metrics|metric|params|param|parameters|parameter|tags|tag)\.(`[^`]+`|"[^"]+"|[\w.]+)\s*(=|!=|>=|<=|>|<|LIKE|ILIKE)\s*(.+)$/i.exec(part);
    if (!m) throw new TrackingError('INVALID_PARAMETER_VALUE', `Invalid filter '${filter}'. Could not be parsed.`);
    const kindRaw = m[1]!.toLowerCase();
    const kind = kindRaw.startsWith('metric') ? 'metrics' : kindRaw.startsWith('param') ? 'params' : kindRaw.startsWith('tag') ? 'tags' : 'attributes';
    const key = m[2]!.replace(/^[`"]|[`"]$/g, '');
    const raw = m[4]!.trim();
    const value = /^'.*'$|^".*"$/.test(raw) ? raw.slice(1, -1) : Number(raw);
    return { kind, key, op: m[3]!.toUpperCase(), value };
  });
}

export function compare(a: string | number | undefined, op: string, b: string | number): boolean {
  if (a === undefined) return false;
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case 'LIKE':
    case 'ILIKE': {
      const re = new RegExp(`^${String(b).replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.')}$`, op === 'ILIKE' ? 'i' : '');
      return re.test(String(a));
    }
    default:
      return false;
  }
}

/** Does a run satisfy every clause? Metrics compare their latest value, as MLflow does. */
export function matchesFilter(run: Run, clauses: Clause[]): boolean {
  return clauses.every((c) => {
    if (c.kind === 'tags') return compare(run.data.tags[c.key], c.op, c.value);
    if (c.kind === 'params') return compare(run.data.params[c.key], c.op, c.value);
    if (c.kind === 'metrics') return compare(run.data.metrics[c.key], c.op, c.value);
    const attr = (run.info as unknown as Record<string, string | number>)[c.key === 'run_name' ? 'run_name' : c.key];
    return compare(attr, c.op, c.value);
  });
}
