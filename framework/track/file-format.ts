/**
 * The MLflow file store's on-disk formats, as MLflow 2.x writes and reads them
 * (mlflow/store/tracking/file_store.py): YAML as PyYAML dumps it, its ids, metric lines, and the
 * tolerant readers for each kind of file. Split from file-store.ts so the store class holds only what
 * it does (create, log, query) and the formats can be checked on their own.
 */
import { createHash, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { walkFiles } from './file-ops.js';
import { parsePythonFloat } from './python-float.js';
import { TAG, type DatasetInput, type Metric } from './types.js';

export const TRASH = '.trash';
export const DEFAULT_EXPERIMENT_ID = '0';
/** Folders inside an experiment that are not runs (MLflow's RESERVED_EXPERIMENT_FOLDERS). */
export const RESERVED_EXPERIMENT_FOLDERS = new Set(['tags', 'datasets', 'traces']);
/** MLflow's SourceType.LOCAL. */
export const SOURCE_TYPE_LOCAL = 4;
/** A folder name MLflow accepts as an experiment id. */
export const EXPERIMENT_ID = /^[a-zA-Z0-9][\w-]{0,63}$/;

/** A meta.yaml as read: MLflow's fields, loosely typed until a reader picks them. */
export type RawMeta = Record<string, unknown>;

/** YAML exactly as MLflow's write_yaml (PyYAML safe_dump, block style, sorted keys); 1.1 so `yes`/`no` stay strings for PyYAML. */
export function toMlflowYaml(data: unknown): string {
  return stringifyYaml(data, { sortMapEntries: true, singleQuote: true, lineWidth: 0, version: '1.1' });
}

export function fromMlflowYaml(text: string): unknown {
  return parseYaml(text, { version: '1.1' });
}

/** MLflow's `_get_dataset_id`: md5(name + digest). */
export function datasetId(name: string, digest: string): string {
  return createHash('md5').update(name, 'utf8').update(digest, 'utf8').digest('hex');
}

/** MLflow's `_get_input_id`: md5(dataset id + run id). */
export function inputId(dsId: string, runId: string): string {
  return createHash('md5').update(dsId, 'utf8').update(runId, 'utf8').digest('hex');
}

/** MLflow's `_generate_unique_integer_id`: 18 decimal digits, no leading zero. */
/** meta.yaml of `datasets/<id>/`, as MLflow 2.x writes it. */
export function datasetMeta(d: DatasetInput): RawMeta {
  return { digest: d.digest, name: d.name, profile: d.profile ?? null, schema: d.schema ?? null, source: d.source, source_type: d.source_type };
}

/** meta.yaml of a run's `inputs/<id>/`: the run reads dataset `dsId` in context `d.context`. */
export function inputMeta(dsId: string, d: DatasetInput): RawMeta {
  return {
    // MLflow 2.x writes the dataset id here too (its _FileStoreInput.write_yaml does); kept for byte-compatibility.
    destination_id: dsId,
    destination_type: 'RUN',
    source_id: dsId,
    source_type: 'DATASET',
    tags: d.context !== undefined ? { [TAG.datasetContext]: d.context } : {},
  };
}

export function newExperimentId(): string {
  let s = String(randomInt(1, 10));
  for (let i = 0; i < 17; i++) s += String(randomInt(0, 10));
  return s;
}

export function currentUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

function parseMetricLine(key: string, line: string): Metric | null {
  const parts = line.trim().split(' ');
  if (parts.length !== 2 && parts.length !== 3) return null;
  const timestamp = Number(parts[0]);
  const value = parsePythonFloat(parts[1]!);
  const step = parts.length === 3 ? Number(parts[2]) : 0;
  if (!Number.isInteger(timestamp) || value === null || !Number.isInteger(step)) return null;
  return { key, value, timestamp, step };
}

/** MLflow's "latest": max by (step, timestamp, value), with Python's tuple comparison (NaN never wins a tie). */
export function latestMetric(points: Metric[]): Metric | undefined {
  let best: Metric | undefined;
  for (const m of points) {
    if (!best || m.step > best.step || (m.step === best.step && (m.timestamp > best.timestamp || (m.timestamp === best.timestamp && m.value > best.value)))) {
      best = m;
    }
  }
  return best;
}

/** A meta.yaml, or null when it is missing or not a mapping. */
/** Called with a meta.yaml that exists but cannot be read as MLflow's mapping (the record is then skipped). */
export type OnDamaged = (path: string, why: string) => void;

export function readYaml(path: string, onDamaged?: OnDamaged): RawMeta | null {
  // MLflow retries an empty read (a concurrent non-atomic writer); bnx never writes in place.
  for (let attempt = 0; attempt < 3; attempt++) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return null;
    }
    if (text.trim() !== '') {
      let v: unknown;
      try {
        v = fromMlflowYaml(text);
      } catch (err) {
        onDamaged?.(path, (err as Error).message.split('\n')[0]!);
        return null;
      }
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as RawMeta;
      onDamaged?.(path, 'not a mapping of keys');
      return null;
    }
    const until = Date.now() + 100 * (attempt + 1);
    while (Date.now() < until) {
      /* brief spin: reads are synchronous and rare */
    }
  }
  return null;
}

/** A folder of one-value files (params/, tags/), keyed by their path inside it. */
export function readValues(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of walkFiles(dir)) out[k] = readFileSync(join(dir, k), 'utf8');
  return out;
}

/** Every well-formed line of a metric file; a torn last line (a writer that died) is skipped. */
export function readMetricFile(path: string, key: string): Metric[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  // The last element is '' when the file ends in a newline; anything else is a torn write.
  lines.pop();
  const out: Metric[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    const m = parseMetricLine(key, line);
    if (m) out.push(m);
  }
  return out;
}
