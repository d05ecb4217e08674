/**
 * A typed client for MLflow's REST API (2.x, `/api/2.0/mlflow/...`), following the recorded
 * exchanges of a real MLflow 2.12 server. Connection errors, timeouts, 429 and 5xx are retried with
 * exponential backoff; any other 4xx is raised at once with MLflow's error_code and message.
 * Artifacts go through the server's artifact proxy (`mlflow-artifacts:` URIs).
 */
import { count } from '../util/plural.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile } from '../util/fs.js';
import { BNX_VERSION } from '../util/version.js';
import { chunkBatch, tagFilter, type BatchLimits, DEFAULT_BATCH_LIMITS } from './batch.js';
import { validateArtifactPath } from './names.js';
import { metricValueFromJson } from './python-float.js';
import {
  TAG,
  TrackingConnectionError,
  TrackingError,
  isRunStatus,
  type ArtifactEntry,
  type DatasetInput,
  type Experiment,
  type Metric,
  type Run,
  type RunStatus,
  type SearchFilter,
  type TrackingStore,
} from './types.js';

export interface RestOptions {
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Where MLFLOW_TRACKING_* are read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Retries after the first attempt (default MLFLOW_HTTP_REQUEST_MAX_RETRIES, else 5). */
  maxRetries?: number;
  /** First retry delay; doubles each retry (default MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR seconds, else 0.5 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Per request (default MLFLOW_HTTP_REQUEST_TIMEOUT seconds, else 120 s). */
  timeoutMs?: number;
  /** max_results per search page (MLflow allows up to 50000 for runs). */
  pageSize?: number;
  batchLimits?: BatchLimits;
  /**
   * Told when requests start being retried (once per outage, not per attempt) and when the server
   * answers again. Default: standard error, so a struggling server is never silent.
   */
  log?: (message: string) => void;
}

interface CallOptions {
  query?: Record<string, string>;
  json?: unknown;
  body?: Uint8Array;
  raw?: boolean;
  /** Overrides for this call (the reachability probe wants few, fast attempts). */
  maxRetries?: number;
  timeoutMs?: number;
  /** Do not announce retries (the probe's caller reports the outcome itself). */
  quiet?: boolean;
}

type Json = Record<string, unknown>;

const API = '/api/2.0/mlflow/';
const ARTIFACTS_API = '/api/2.0/mlflow-artifacts/artifacts';

function envNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** "connect ECONNREFUSED 127.0.0.1:5000" rather than fetch's bare "fetch failed". */
function describeFetchError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'request timed out';
  const cause = e?.cause;
  if (cause?.message) return cause.message;
  if (cause?.code) return cause.code;
  return e?.message ?? String(err);
}

function kvRecord(list: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(list)) for (const t of list as { key?: unknown; value?: unknown }[]) if (typeof t?.key === 'string') out[t.key] = String(t.value ?? '');
  return out;
}

function kvList(rec: Record<string, string> | undefined): { key: string; value: string }[] {
  return Object.entries(rec ?? {}).map(([key, value]) => ({ key, value: String(value) }));
}

export function parseWireMetric(m: Json): Metric {
  return { key: String(m.key), value: metricValueFromJson(m.value), timestamp: Number(m.timestamp ?? 0), step: Number(m.step ?? 0) };
}

export function parseWireRun(r: Json): Run {
  const info = (r.info ?? {}) as Json;
  const data = (r.data ?? {}) as Json;
  const tags = kvRecord(data.tags);
  const metrics: Record<string, number> = {};
  if (Array.isArray(data.metrics)) for (const m of data.metrics as Json[]) metrics[String(m.key)] = metricValueFromJson(m.value);
  const status = isRunStatus(info.status) ? info.status : 'RUNNING';
  const inputs: DatasetInput[] = [];
  const dsInputs = ((r.inputs ?? {}) as Json).dataset_inputs;
  if (Array.isArray(dsInputs)) {
    for (const di of dsInputs as Json[]) {
      const d = (di.dataset ?? {}) as Json;
      const context = kvRecord(di.tags)[TAG.datasetContext];
      inputs.push({
        name: String(d.name ?? ''),
        digest: String(d.digest ?? ''),
        source_type: String(d.source_type ?? ''),
        source: String(d.source ?? ''),
        ...(typeof d.schema === 'string' ? { schema: d.schema } : {}),
        ...(typeof d.profile === 'string' ? { profile: d.profile } : {}),
        ...(context !== undefined ? { context } : {}),
      });
    }
  }
  return {
    info: {
      run_id: String(info.run_id ?? info.run_uuid ?? ''),
      experiment_id: String(info.experiment_id ?? ''),
      run_name: String(info.run_name ?? tags[TAG.runName] ?? ''),
      status,
      start_time: Number(info.start_time ?? 0),
      end_time: info.end_time === undefined || info.end_time === null ? null : Number(info.end_time),
      artifact_uri: String(info.artifact_uri ?? ''),
      lifecycle_stage: String(info.lifecycle_stage ?? 'active'),
    },
    data: { params: kvRecord(data.params), tags, metrics },
    inputs,
  };
}

function parseExperiment(e: Json): Experiment {
  return {
    experiment_id: String(e.experiment_id),
    name: String(e.name),
    artifact_location: String(e.artifact_location ?? ''),
    lifecycle_stage: String(e.lifecycle_stage ?? 'active'),
    ...(e.creation_time !== undefined ? { creation_time: Number(e.creation_time) } : {}),
    ...(e.last_update_time !== undefined ? { last_update_time: Number(e.last_update_time) } : {}),
    tags: kvRecord(e.tags),
  };
}

export class RestStore implements TrackingStore {
  readonly kind = 'rest' as const;
  readonly uri: string;
  private readonly fetchFn: typeof fetch;
  private readonly headers: Record<string, string>;
  private readonly maxRetries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly timeoutMs: number;
  private readonly pageSize: number;
  private readonly limits: BatchLimits;
  private readonly log: (m: string) => void;
  private readonly artifactUris = new Map<string, string>();
  /** Which credentials are sent, for messages (never their values). */
  private credentials: string | undefined;
  /** When requests started failing (null while the server answers): retries are announced once per outage. */
  private troubleSince: number | null = null;
  /** Requests sent, for diagnostics and tests. */
  requests = 0;

  constructor(uri: string, o: RestOptions = {}) {
    const url = new URL(uri);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TrackingError('INVALID_PARAMETER_VALUE', `Not an http(s) tracking URI: ${uri}`);
    this.uri = uri.replace(/\/+$/, '');
    const env = o.env ?? process.env;
    this.fetchFn = o.fetch ?? fetch;
    this.maxRetries = o.maxRetries ?? envNumber(env, 'MLFLOW_HTTP_REQUEST_MAX_RETRIES') ?? 5;
    const factor = envNumber(env, 'MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR');
    this.backoffMs = o.backoffMs ?? (factor !== undefined ? factor * 1000 : 500);
    this.maxBackoffMs = o.maxBackoffMs ?? 30_000;
    const timeout = envNumber(env, 'MLFLOW_HTTP_REQUEST_TIMEOUT');
    this.timeoutMs = o.timeoutMs ?? (timeout !== undefined ? timeout * 1000 : 120_000);
    this.pageSize = o.pageSize ?? 1000;
    this.limits = o.batchLimits ?? DEFAULT_BATCH_LIMITS;
    this.log = o.log ?? ((m: string) => void process.stderr.write(`${m}\n`));
    this.headers = { 'User-Agent': `bnx/${BNX_VERSION}` };
    const token = env.MLFLOW_TRACKING_TOKEN;
    const user = env.MLFLOW_TRACKING_USERNAME;
    const password = env.MLFLOW_TRACKING_PASSWORD;
    if (token) {
      this.headers.Authorization = `Bearer ${token}`;
      this.credentials = 'MLFLOW_TRACKING_TOKEN';
    } else if (user !== undefined && password !== undefined) {
      this.headers.Authorization = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
      this.credentials = `MLFLOW_TRACKING_USERNAME=${user} and MLFLOW_TRACKING_PASSWORD`;
    }
  }

  // ---------------------------------------------------------------- transport

  private async call(method: string, path: string, o: CallOptions = {}): Promise<Json | Uint8Array> {
    const url = `${this.uri}${path}${o.query ? `?${new URLSearchParams(o.query).toString()}` : ''}`;
    const headers: Record<string, string> = { ...this.headers };
    let body: string | Uint8Array | undefined;
    if (o.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(o.json);
    } else if (o.body) {
      headers['Content-Type'] = 'application/octet-stream';
      body = o.body;
    }
    const maxRetries = o.maxRetries ?? this.maxRetries;
    const what = `${method} ${path.replace(/^\/api\/2\.0\//, '')}`;
    let lastProblem = '';
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) {
        const delay = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 1)) * (0.9 + 0.2 * Math.random());
        if (this.troubleSince === null && !o.quiet) {
          this.troubleSince = Date.now();
          this.log(`MLflow server ${this.uri}: ${lastProblem} on ${what}; retrying (up to ${maxRetries} times, first in ${(delay / 1000).toFixed(1)} s)`);
        }
        await new Promise((r) => setTimeout(r, delay));
      }
      let res: Response;
      try {
        this.requests++;
        res = await this.fetchFn(url, { method, headers, body: body as BodyInit | undefined, signal: AbortSignal.timeout(o.timeoutMs ?? this.timeoutMs) });
      } catch (err) {
        lastProblem = describeFetchError(err);
        if (attempt < maxRetries) continue;
        this.troubleSince = null;
        throw new TrackingConnectionError(`MLflow server ${this.uri} is unreachable (${lastProblem}) after ${count(attempt + 1, 'attempt')}`, this.uri, lastProblem);
      }
      if (res.status >= 500 || res.status === 429) {
        const text = await res.text().catch(() => '');
        lastProblem = `HTTP ${res.status}${text ? ` ${text.slice(0, 200).trim()}` : ''}`;
        if (attempt < maxRetries) continue;
        this.troubleSince = null;
        throw new TrackingConnectionError(`MLflow server ${this.uri} failed on ${what} (${lastProblem}) after ${count(attempt + 1, 'attempt')}`, this.uri, lastProblem);
      }
      if (this.troubleSince !== null) {
        this.log(`MLflow server ${this.uri} answers again (after ${((Date.now() - this.troubleSince) / 1000).toFixed(1)} s of retries)`);
        this.troubleSince = null;
      }
      if (!res.ok) throw await this.errorFrom(res, what);
      if (o.raw) return new Uint8Array(await res.arrayBuffer());
      const text = await res.text();
      if (text.trim() === '') return {};
      try {
        return JSON.parse(text) as Json;
      } catch {
        throw new TrackingError('INTERNAL_ERROR', `MLflow server ${this.uri} answered ${what} with something that is not JSON: ${text.slice(0, 200)}`, res.status);
      }
    }
  }

  private async errorFrom(res: Response, what: string): Promise<TrackingError> {
    const text = await res.text().catch(() => '');
    let code = res.status === 401 ? 'UNAUTHENTICATED' : res.status === 403 ? 'PERMISSION_DENIED' : res.status === 404 ? 'RESOURCE_DOES_NOT_EXIST' : 'BAD_REQUEST';
    let message = text.slice(0, 500).trim() || res.statusText;
    try {
      const j = JSON.parse(text) as { error_code?: string; message?: string };
      if (j.error_code) code = j.error_code;
      if (j.message) message = j.message;
    } catch {
      // not JSON (an auth proxy, an HTML 404): keep the text
    }
    const details: string[] = [];
    if (res.status === 401 || res.status === 403) {
      if (this.credentials) {
        // Credentials were sent: telling the user to set them would send them looking in the wrong place.
        const rejected = `the server rejected the credentials (${this.credentials})`;
        details.push(
          res.status === 401
            ? 'check the password or token; they are read from the environment, not from the study'
            : 'the credentials are valid but lack permission for this experiment: ask the server admin (MLflow auth: experiment permissions)',
        );
        return new TrackingError(code, `MLflow ${what} failed: ${rejected}: ${res.status} ${code}: ${message}`, res.status, details);
      }
      details.push('set MLFLOW_TRACKING_TOKEN (Bearer) or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (Basic) for this server');
    }
    return new TrackingError(code, `MLflow ${what} failed with ${res.status} ${code}: ${message}`, res.status, details);
  }

  private async api(method: 'GET' | 'POST', endpoint: string, o: CallOptions = {}): Promise<Json> {
    return (await this.call(method, API + endpoint, o)) as Json;
  }

  /** Is the server there? GET experiments/get-by-name (200 or 404 both mean yes). Throws TrackingConnectionError when not. */
  async probe(o: { maxRetries?: number; timeoutMs?: number } = {}): Promise<void> {
    try {
      await this.api('GET', 'experiments/get-by-name', { query: { experiment_name: 'Default' }, maxRetries: o.maxRetries ?? 1, timeoutMs: o.timeoutMs ?? 5000, quiet: true });
    } catch (err) {
      if (err instanceof TrackingError && err.code === 'RESOURCE_DOES_NOT_EXIST') return;
      throw err;
    }
  }

  // ---------------------------------------------------------------- experiments

  private async experimentByName(name: string): Promise<Experiment | null> {
    try {
      const r = await this.api('GET', 'experiments/get-by-name', { query: { experiment_name: name } });
      return parseExperiment((r.experiment ?? {}) as Json);
    } catch (err) {
      if (err instanceof TrackingError && err.code === 'RESOURCE_DOES_NOT_EXIST') return null;
      throw err;
    }
  }

  async getOrCreateExperiment(name: string, o: { tags?: Record<string, string> } = {}): Promise<string> {
    const check = (e: Experiment): string => {
      if (e.lifecycle_stage !== 'active') {
        throw new TrackingError('INVALID_STATE', `Experiment '${name}' is deleted on ${this.uri}`, undefined, [
          'restore it (mlflow experiments restore --experiment-id ' + e.experiment_id + ') or choose another name (tracking.experiment)',
        ]);
      }
      return e.experiment_id;
    };
    const found = await this.experimentByName(name);
    if (found) return check(found);
    try {
      const body: Json = { name };
      if (o.tags && Object.keys(o.tags).length) body.tags = kvList(o.tags);
      const r = await this.api('POST', 'experiments/create', { json: body });
      return String(r.experiment_id);
    } catch (err) {
      // Another process created it between our lookup and our create: use theirs.
      if (err instanceof TrackingError && err.code === 'RESOURCE_ALREADY_EXISTS') {
        const again = await this.experimentByName(name);
        if (again) return check(again);
      }
      throw err;
    }
  }

  async listExperiments(): Promise<Experiment[]> {
    const out: Experiment[] = [];
    let token: string | undefined;
    do {
      const body: Json = { max_results: Math.min(this.pageSize, 1000) };
      if (token) body.page_token = token;
      const r = await this.api('POST', 'experiments/search', { json: body });
      for (const e of (r.experiments as Json[] | undefined) ?? []) out.push(parseExperiment(e));
      token = typeof r.next_page_token === 'string' && r.next_page_token ? r.next_page_token : undefined;
    } while (token);
    return out.filter((e) => e.lifecycle_stage === 'active');
  }

  // ---------------------------------------------------------------- runs

  private remember(run: Run): Run {
    if (run.info.artifact_uri) this.artifactUris.set(run.info.run_id, run.info.artifact_uri);
    return run;
  }

  async createRun(experimentId: string, o: { runName: string; startTime?: number; tags?: Record<string, string> }): Promise<Run> {
    const tags = { ...(o.tags ?? {}) };
    // run_name sets mlflow.runName; sending the same value twice is redundant, a different one is MLflow's 400.
    if (tags[TAG.runName] === o.runName) delete tags[TAG.runName];
    const body: Json = { experiment_id: experimentId, run_name: o.runName, start_time: o.startTime ?? Date.now(), tags: kvList(tags) };
    const r = await this.api('POST', 'runs/create', { json: body });
    return this.remember(parseWireRun((r.run ?? {}) as Json));
  }

  async logBatch(runId: string, o: { metrics?: Metric[]; params?: Record<string, string>; tags?: Record<string, string> }): Promise<void> {
    for (const chunk of chunkBatch(o, this.limits)) {
      const body: Json = { run_id: runId };
      if (chunk.params.length) body.params = chunk.params;
      if (chunk.metrics.length) body.metrics = chunk.metrics;
      if (chunk.tags.length) body.tags = chunk.tags;
      await this.api('POST', 'runs/log-batch', { json: body });
    }
  }

  async logInputs(runId: string, datasets: DatasetInput[]): Promise<void> {
    if (!datasets.length) return;
    const body = {
      run_id: runId,
      datasets: datasets.map((d) => ({
        ...(d.context !== undefined ? { tags: [{ key: TAG.datasetContext, value: d.context }] } : {}),
        dataset: {
          name: d.name,
          digest: d.digest,
          source_type: d.source_type,
          source: d.source,
          ...(d.schema !== undefined ? { schema: d.schema } : {}),
          ...(d.profile !== undefined ? { profile: d.profile } : {}),
        },
      })),
    };
    await this.api('POST', 'runs/log-inputs', { json: body });
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.api('POST', 'runs/set-tag', { json: { run_id: runId, key, value } });
  }

  async updateRun(runId: string, status: RunStatus, endTime?: number): Promise<void> {
    // MLflow 2.12 answers 200 to an unknown status and silently keeps the old one: check here.
    if (!isRunStatus(status)) throw new TrackingError('INVALID_PARAMETER_VALUE', `Invalid run status '${String(status)}'; expected one of RUNNING, SCHEDULED, FINISHED, FAILED, KILLED`);
    const body: Json = { run_id: runId, status };
    if (endTime !== undefined) body.end_time = endTime;
    await this.api('POST', 'runs/update', { json: body });
  }

  async getRun(runId: string): Promise<Run> {
    const r = await this.api('GET', 'runs/get', { query: { run_id: runId } });
    return this.remember(parseWireRun((r.run ?? {}) as Json));
  }

  async searchRuns(experimentId: string, o: SearchFilter = {}): Promise<Run[]> {
    const want = { ...(o.parentRunId !== undefined ? { [TAG.parentRunId]: o.parentRunId } : {}), ...(o.tags ?? {}) };
    const filter = [tagFilter(want), o.filter?.trim()].filter(Boolean).join(' and ');
    const runs: Run[] = [];
    let token: string | undefined;
    do {
      const body: Json = { experiment_ids: [experimentId], max_results: this.pageSize };
      if (filter) body.filter = filter;
      if (token) body.page_token = token;
      const r = await this.api('POST', 'runs/search', { json: body });
      for (const run of (r.runs as Json[] | undefined) ?? []) runs.push(this.remember(parseWireRun(run)));
      token = typeof r.next_page_token === 'string' && r.next_page_token ? r.next_page_token : undefined;
    } while (token);
    return runs;
  }

  async getMetricHistory(runId: string, key: string): Promise<Metric[]> {
    const out: Metric[] = [];
    let token: string | undefined;
    do {
      const query: Record<string, string> = { run_id: runId, metric_key: key };
      if (token) query.page_token = token;
      const r = await this.api('GET', 'metrics/get-history', { query });
      for (const m of (r.metrics as Json[] | undefined) ?? []) out.push(parseWireMetric(m));
      token = typeof r.next_page_token === 'string' && r.next_page_token ? r.next_page_token : undefined;
    } while (token);
    return out;
  }

  // ---------------------------------------------------------------- artifacts

  private async artifactUri(runId: string): Promise<string> {
    return this.artifactUris.get(runId) ?? (await this.getRun(runId)).info.artifact_uri;
  }

  /** The URL of one artifact: through the server's proxy for `mlflow-artifacts:` URIs, direct for http(s). */
  artifactUrl(artifactUri: string, rel: string): string {
    const enc = (p: string) =>
      p
        .split('/')
        .filter((s) => s !== '')
        .map(encodeURIComponent)
        .join('/');
    if (artifactUri.startsWith('mlflow-artifacts:')) {
      const rest = artifactUri.slice('mlflow-artifacts:'.length);
      if (rest.startsWith('//')) {
        // mlflow-artifacts://host:port/path names the server explicitly; same scheme as the tracking URI.
        const u = new URL(`${new URL(this.uri).protocol}${rest}`);
        return `${u.protocol}//${u.host}${ARTIFACTS_API}/${enc(`${decodeURIComponent(u.pathname)}/${rel}`)}`;
      }
      return `${this.uri}${ARTIFACTS_API}/${enc(`${rest}/${rel}`)}`;
    }
    if (/^https?:\/\//.test(artifactUri)) return `${artifactUri.replace(/\/+$/, '')}/${enc(rel)}`;
    throw new TrackingError('INVALID_PARAMETER_VALUE', `This MLflow server stores artifacts at ${artifactUri}, which bnx cannot reach through the server`, undefined, [
      'start the server with artifact proxying (the default for `mlflow server`; add --artifacts-destination for remote storage), so runs get mlflow-artifacts:/ URIs',
    ]);
  }

  private async callUrl(method: 'PUT' | 'GET', url: string, body?: Uint8Array): Promise<Json | Uint8Array> {
    if (url.startsWith(this.uri)) return this.call(method, url.slice(this.uri.length), { body, raw: method === 'GET' });
    // A different host (mlflow-artifacts://other:port or an http artifact root): same credentials, as MLflow does.
    const u = new URL(url);
    const other = new RestStore(`${u.protocol}//${u.host}`, { fetch: this.fetchFn, maxRetries: this.maxRetries, backoffMs: this.backoffMs, timeoutMs: this.timeoutMs, log: this.log });
    Object.assign(other.headers, this.headers);
    other.credentials = this.credentials;
    return other.call(method, `${u.pathname}${u.search}`, { body, raw: method === 'GET' });
  }

  async logArtifact(runId: string, localPath: string, artifactPath: string): Promise<void> {
    const rel = validateArtifactPath(artifactPath);
    const url = this.artifactUrl(await this.artifactUri(runId), rel);
    await this.callUrl('PUT', url, readFileSync(localPath));
  }

  async downloadArtifact(runId: string, artifactPath: string, localPath: string): Promise<void> {
    const rel = validateArtifactPath(artifactPath);
    const url = this.artifactUrl(await this.artifactUri(runId), rel);
    try {
      const bytes = (await this.callUrl('GET', url)) as Uint8Array;
      atomicWriteFile(localPath, bytes);
    } catch (err) {
      // A folder: fetch what is in it.
      if (!(err instanceof TrackingError && err.status === 404)) throw err;
      const entries = await this.listArtifacts(runId, rel);
      if (!entries.length) throw err;
      for (const e of entries) {
        const name = e.path.split('/').pop()!;
        await this.downloadArtifact(runId, e.path, join(localPath, name));
      }
    }
  }

  async listArtifacts(runId: string, path?: string): Promise<ArtifactEntry[]> {
    const query: Record<string, string> = { run_id: runId };
    if (path) query.path = validateArtifactPath(path);
    const r = await this.api('GET', 'artifacts/list', { query });
    return ((r.files as Json[] | undefined) ?? []).map((f) => ({
      path: String(f.path),
      is_dir: f.is_dir === true,
      ...(f.file_size !== undefined && f.is_dir !== true ? { file_size: Number(f.file_size) } : {}),
    }));
  }
}
