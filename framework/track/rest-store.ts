/**
 * A typed client for MLflow's REST API (2.x, `/api/2.0/mlflow/...`), following the recorded
 * exchanges of a real MLflow 2.12 server. Artifacts go through the server's artifact proxy
 * (`mlflow-artifacts:` URIs). HTTP itself (credentials, retries with backoff, MLflow's errors) is
 * rest-transport.ts; the JSON records, rest-wire.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWriteFile } from '../util/fs.js';
import { chunkBatch, tagFilter, type BatchLimits, DEFAULT_BATCH_LIMITS } from './batch.js';
import { validateArtifactPath } from './names.js';
import { MlflowHttp, type CallOptions, type HttpOptions } from './rest-transport.js';
import { kvList, parseExperiment, parseWireMetric, parseWireRun, type Json } from './rest-wire.js';
import {
  TAG,
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

export interface RestOptions extends HttpOptions {
  /** max_results per search page (MLflow allows up to 50000 for runs). */
  pageSize?: number;
  batchLimits?: BatchLimits;
}

const API = '/api/2.0/mlflow/';
const ARTIFACTS_API = '/api/2.0/mlflow-artifacts/artifacts';

export class RestStore implements TrackingStore {
  readonly kind = 'rest' as const;
  readonly uri: string;
  private readonly http: MlflowHttp;
  private readonly pageSize: number;
  private readonly limits: BatchLimits;
  private readonly artifactUris = new Map<string, string>();

  constructor(uri: string, o: RestOptions = {}) {
    this.http = new MlflowHttp(uri, o);
    this.uri = this.http.uri;
    this.pageSize = o.pageSize ?? 1000;
    this.limits = o.batchLimits ?? DEFAULT_BATCH_LIMITS;
  }

  /** Requests sent, for diagnostics and tests. */
  get requests(): number {
    return this.http.requests;
  }

  private async api(method: 'GET' | 'POST', endpoint: string, o: CallOptions = {}): Promise<Json> {
    return (await this.http.call(method, API + endpoint, o)) as Json;
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

  async createRun(experimentId: string, o: { runName: string; startTime?: number; tags?: Record<string, string>; status?: 'RUNNING' | 'SCHEDULED' }): Promise<Run> {
    const tags = { ...(o.tags ?? {}) };
    // run_name sets mlflow.runName; sending the same value twice is redundant, a different one is MLflow's 400.
    if (tags[TAG.runName] === o.runName) delete tags[TAG.runName];
    const body: Json = { experiment_id: experimentId, run_name: o.runName, start_time: o.startTime ?? Date.now(), tags: kvList(tags) };
    const r = await this.api('POST', 'runs/create', { json: body });
    const run = this.remember(parseWireRun((r.run ?? {}) as Json));
    // MLflow's runs/create always starts a run RUNNING; a scheduled one is moved at once.
    if (o.status === 'SCHEDULED') {
      await this.updateRun(run.info.run_id, 'SCHEDULED');
      return { ...run, info: { ...run.info, status: 'SCHEDULED' } };
    }
    return run;
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
    if (url.startsWith(this.uri)) return this.http.call(method, url.slice(this.uri.length), { body, raw: method === 'GET' });
    // A different host (mlflow-artifacts://other:port or an http artifact root).
    const u = new URL(url);
    return this.http.forHost(`${u.protocol}//${u.host}`).call(method, `${u.pathname}${u.search}`, { body, raw: method === 'GET' });
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
