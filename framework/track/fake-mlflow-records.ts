/**
 * The fake MLflow server's records and their JSON as MLflow 2.12 sends it (values, pages, runs,
 * experiments), and its error type. Pure helpers of fake-mlflow-api.ts. Test code only.
 */

export type Json = Record<string, unknown>;

export interface ExperimentRec {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  last_update_time: number;
  creation_time: number;
  tags: Map<string, string>;
}

export interface PointRec {
  value: number;
  timestamp: number;
  step: number;
}

export interface RunRec {
  info: {
    run_uuid: string;
    experiment_id: string;
    run_name: string;
    user_id: string;
    status: string;
    start_time: number;
    end_time?: number;
    artifact_uri: string;
    lifecycle_stage: string;
    run_id: string;
  };
  params: Map<string, string>;
  tags: Map<string, string>;
  metrics: Map<string, PointRec[]>;
  inputs: { tags?: { key: string; value: string }[]; dataset: Json }[];
}

export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Parsed JSON, or the byte length of a raw (artifact) body. */
  body: unknown;
  bytes: number;
}

export interface FakeOptions {
  now?: () => number;
  /** Run ids handed out in order before random ones (to reproduce recorded ids). */
  runIds?: string[];
  /** Expected Authorization header; others get 401. */
  auth?: string;
  /** Return a response to short-circuit a request (fault injection), or undefined to serve it. */
  intercept?: (req: LoggedRequest) => { status: number; body?: unknown } | undefined;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const STATUSES = new Set(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']);
export const missing = (p: string) => new ApiError(400, 'INVALID_PARAMETER_VALUE', `Missing value for required parameter '${p}'. See the API docs for more information about request parameters.`);

/** Python's repr of a JSON value, as MLflow's messages print request fragments. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v);
  if (typeof v === 'string') return v.includes("'") && !v.includes('"') ? `"${v}"` : `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  return `{${Object.entries(v as Json)
    .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
    .join(', ')}}`;
}

/** Values come back the way MLflow's sqlite store returns them: infinities as ±DBL_MAX, NaN as "NaN". */
export function wireValue(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return Number.MAX_VALUE;
  if (v === -Infinity) return -Number.MAX_VALUE;
  return v;
}

export function parseValue(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return null;
}

export function latest(points: PointRec[]): PointRec {
  let best = points[0]!;
  for (const p of points) if (p.step > best.step || (p.step === best.step && (p.timestamp > best.timestamp || (p.timestamp === best.timestamp && p.value > best.value)))) best = p;
  return best;
}

export function kv(m: Map<string, string>): { key: string; value: string }[] {
  return [...m].map(([key, value]) => ({ key, value }));
}

export function runJson(rec: RunRec): Json {
  const data: Json = {};
  if (rec.metrics.size) data.metrics = [...rec.metrics].map(([key, pts]) => ({ key, value: wireValue(latest(pts).value), timestamp: latest(pts).timestamp, step: latest(pts).step }));
  if (rec.params.size) data.params = kv(rec.params);
  if (rec.tags.size) data.tags = kv(rec.tags);
  return { info: { ...rec.info }, data, inputs: rec.inputs.length ? { dataset_inputs: rec.inputs } : {} };
}

export function experimentJson(e: ExperimentRec): Json {
  return {
    experiment_id: e.experiment_id,
    name: e.name,
    artifact_location: e.artifact_location,
    lifecycle_stage: e.lifecycle_stage,
    last_update_time: e.last_update_time,
    creation_time: e.creation_time,
    ...(e.tags.size ? { tags: kv(e.tags) } : {}),
  };
}

export function paginate<T>(items: T[], maxResults: unknown, token: string | undefined): { page: T[]; next?: string } {
  const max = Number(maxResults ?? 1000) || 1000;
  const offset = token ? (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset: number }).offset : 0;
  const page = items.slice(offset, offset + max);
  const next = offset + max < items.length ? Buffer.from(JSON.stringify({ offset: offset + max })).toString('base64') : undefined;
  return { page, next };
}
