/**
 * An in-memory MLflow 2.12 tracking server for tests: the REST endpoints bnx uses, answering with
 * the shapes, status codes, error codes and messages recorded from a real server
 * (test-support/fixtures/mlflow/rest-exchanges-mlflow-2.12.jsonl; fake-mlflow-server.test.ts replays every
 * recorded exchange against it). Faults (5xx, auth) can be injected. Not used by bnx itself.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../util/paths.js';
import { compare, parseFilter } from './filter.js';

/** The filter parser lives with the stores (filter.ts); re-exported for the tests that know it here. */
export { parseFilter };
import { validateName } from './names.js';
import { TrackingError } from './types.js';

type Json = Record<string, unknown>;

interface ExperimentRec {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: string;
  last_update_time: number;
  creation_time: number;
  tags: Map<string, string>;
}

interface PointRec {
  value: number;
  timestamp: number;
  step: number;
}

interface RunRec {
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

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const STATUSES = new Set(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED']);
const missing = (p: string) => new ApiError(400, 'INVALID_PARAMETER_VALUE', `Missing value for required parameter '${p}'. See the API docs for more information about request parameters.`);

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
function wireValue(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return Number.MAX_VALUE;
  if (v === -Infinity) return -Number.MAX_VALUE;
  return v;
}

function parseValue(v: unknown): number | null {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return null;
}

// ------------------------------------------------------------------ the server

export class FakeMlflowServer {
  readonly experiments = new Map<string, ExperimentRec>();
  readonly runs = new Map<string, RunRec>();
  readonly artifacts = new Map<string, Buffer>();
  readonly log: LoggedRequest[] = [];
  private nextExperimentId = 1;
  private readonly runIds: string[];
  private server: Server | null = null;
  url = '';

  constructor(private readonly o: FakeOptions = {}) {
    this.runIds = [...(o.runIds ?? [])];
    const t = this.now();
    this.experiments.set('0', { experiment_id: '0', name: 'Default', artifact_location: 'mlflow-artifacts:/0', lifecycle_stage: 'active', last_update_time: t, creation_time: t, tags: new Map() });
  }

  private now(): number {
    return this.o.now ? this.o.now() : Date.now();
  }

  async start(port = 0): Promise<string> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    const s = this.server;
    this.server = null;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  /**
   * Everything the server holds, as JSON, so a server process can stop and start again with the same
   * records (as a real MLflow server does with its database and artifact store).
   */
  snapshot(): Json {
    const map = (m: Map<string, string>) => [...m];
    return {
      nextExperimentId: this.nextExperimentId,
      experiments: [...this.experiments.values()].map((e) => ({ ...e, tags: map(e.tags) })),
      runs: [...this.runs.values()].map((r) => ({ ...r, params: map(r.params), tags: map(r.tags), metrics: [...r.metrics] })),
      artifacts: [...this.artifacts].map(([k, v]) => [k, v.toString('base64')]),
    };
  }

  restore(snap: Json): void {
    const s = snap as {
      nextExperimentId: number;
      experiments: (Omit<ExperimentRec, 'tags'> & { tags: [string, string][] })[];
      runs: (Omit<RunRec, 'params' | 'tags' | 'metrics'> & { params: [string, string][]; tags: [string, string][]; metrics: [string, PointRec[]][] })[];
      artifacts: [string, string][];
    };
    this.nextExperimentId = s.nextExperimentId;
    this.experiments.clear();
    for (const e of s.experiments) this.experiments.set(e.experiment_id, { ...e, tags: new Map(e.tags) });
    this.runs.clear();
    for (const r of s.runs) this.runs.set(r.info.run_id, { ...r, params: new Map(r.params), tags: new Map(r.tags), metrics: new Map(r.metrics) });
    this.artifacts.clear();
    for (const [k, v] of s.artifacts) this.artifacts.set(k, Buffer.from(v, 'base64'));
  }

  /** Requests to one endpoint, e.g. `runs/log-batch`. */
  requestsTo(endpoint: string): LoggedRequest[] {
    return this.log.filter((r) => r.path.endsWith(endpoint));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const path = decodeURIComponent(url.pathname);
    const isArtifactBody = method === 'PUT';
    let body: unknown = null;
    if (!isArtifactBody && raw.length) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        body = raw.toString('utf8');
      }
    }
    const logged: LoggedRequest = { method, path, query: Object.fromEntries(url.searchParams), body: isArtifactBody ? raw.length : body, bytes: raw.length };
    this.log.push(logged);
    const send = (status: number, payload: unknown, type = 'application/json') => {
      const data = Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' && type !== 'application/json' ? payload : JSON.stringify(payload));
      res.writeHead(status, { 'Content-Type': type, 'Content-Length': data.length });
      res.end(data);
    };
    if (this.o.auth !== undefined && req.headers.authorization !== this.o.auth) {
      res.setHeader('WWW-Authenticate', 'Basic realm="mlflow"');
      send(401, 'You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.', 'text/plain');
      return;
    }
    const injected = this.o.intercept?.(logged);
    if (injected) {
      send(injected.status, injected.body ?? { error_code: 'INTERNAL_ERROR', message: 'injected fault' });
      return;
    }
    try {
      if (path.startsWith('/api/2.0/mlflow-artifacts/artifacts')) {
        const rel = path.slice('/api/2.0/mlflow-artifacts/artifacts'.length).replace(/^\//, '');
        if (method === 'PUT') {
          this.artifacts.set(rel, raw);
          send(200, {});
        } else if (rel === '') send(200, this.listProxy(url.searchParams.get('path') ?? ''));
        else {
          const data = this.artifacts.get(rel);
          if (!data) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `File ${rel} does not exist`);
          send(200, data, 'application/octet-stream');
        }
        return;
      }
      if (!path.startsWith('/api/2.0/mlflow/')) throw new ApiError(404, 'ENDPOINT_NOT_FOUND', `No endpoint ${method} ${path}`);
      const endpoint = `${method} ${path.slice('/api/2.0/mlflow/'.length)}`;
      const q = Object.fromEntries(url.searchParams);
      const b = (body && typeof body === 'object' ? body : {}) as Json;
      if (raw.length > 1_000_000) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Request body of ${raw.length} bytes exceeds the 1 MB limit`);
      send(200, this.route(endpoint, q, b));
    } catch (err) {
      if (err instanceof ApiError) send(err.status, { error_code: err.code, message: err.message });
      else if (err instanceof TrackingError) send(400, { error_code: err.code, message: err.message });
      else send(500, { error_code: 'INTERNAL_ERROR', message: String(err) });
    }
  }

  private route(endpoint: string, q: Record<string, string>, b: Json): Json {
    switch (endpoint) {
      case 'GET experiments/get-by-name': {
        const name = q.experiment_name;
        if (!name) throw missing('experiment_name');
        const e = [...this.experiments.values()].find((x) => x.name === name);
        if (!e) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name '${name}'`);
        return { experiment: this.experimentJson(e) };
      }
      case 'GET experiments/get': {
        const e = this.experiments.get(q.experiment_id ?? '');
        if (!e) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${q.experiment_id} exists`);
        return { experiment: this.experimentJson(e) };
      }
      case 'POST experiments/create': {
        const name = b.name;
        if (typeof name !== 'string' || !name) throw missing('name');
        if ([...this.experiments.values()].some((x) => x.name === name)) {
          throw new ApiError(
            400,
            'RESOURCE_ALREADY_EXISTS',
            `Experiment(name=${name}) already exists. Error: (raised as a result of Query-invoked autoflush; consider using a session.no_autoflush block if this flush is occurring prematurely)`,
          );
        }
        const id = String(this.nextExperimentId++);
        const t = this.now();
        const tags = new Map<string, string>();
        for (const t2 of (b.tags as { key: string; value: string }[] | undefined) ?? []) tags.set(t2.key, t2.value);
        this.experiments.set(id, { experiment_id: id, name, artifact_location: (b.artifact_location as string) ?? `mlflow-artifacts:/${id}`, lifecycle_stage: 'active', last_update_time: t, creation_time: t, tags });
        return { experiment_id: id };
      }
      case 'POST experiments/search':
      case 'GET experiments/search': {
        const all = [...this.experiments.values()].filter((e) => e.lifecycle_stage === 'active');
        const { page, next } = this.paginate(all, b.max_results ?? q.max_results, (b.page_token ?? q.page_token) as string | undefined);
        return { ...(page.length ? { experiments: page.map((e) => this.experimentJson(e)) } : {}), ...(next ? { next_page_token: next } : {}) };
      }
      case 'POST runs/create': {
        const expId = String(b.experiment_id ?? '0');
        const e = this.experiments.get(expId);
        if (!e) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${expId} exists`);
        const tags = (b.tags as { key: string; value: string }[] | undefined) ?? [];
        const tagName = tags.find((t) => t.key === 'mlflow.runName')?.value;
        const runNameArg = b.run_name as string | undefined;
        if (runNameArg && tagName !== undefined && tagName !== runNameArg) {
          throw new ApiError(
            400,
            'INVALID_PARAMETER_VALUE',
            `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${runNameArg}', mlflow.runName='${tagName}').`,
          );
        }
        for (const t of tags) validateName('tag', t.key);
        const runName = runNameArg || tagName || `fake-run-${randomBytes(2).toString('hex')}`;
        const id = this.runIds.shift() ?? randomBytes(16).toString('hex');
        const rec: RunRec = {
          info: {
            run_uuid: id,
            experiment_id: expId,
            run_name: runName,
            user_id: (b.user_id as string) ?? '',
            status: 'RUNNING',
            start_time: (b.start_time as number) ?? this.now(),
            artifact_uri: `${e.artifact_location}/${id}/artifacts`,
            lifecycle_stage: 'active',
            run_id: id,
          },
          params: new Map(),
          tags: new Map(tags.map((t) => [t.key, t.value])),
          metrics: new Map(),
          inputs: [],
        };
        if (!rec.tags.has('mlflow.runName')) rec.tags.set('mlflow.runName', runName);
        this.runs.set(id, rec);
        return { run: { info: { ...rec.info }, data: { tags: this.kv(rec.tags) } } };
      }
      case 'GET runs/get': {
        if (!q.run_id) throw missing('run_id');
        return { run: this.runJson(this.run(q.run_id)) };
      }
      case 'POST runs/log-batch':
        this.logBatch(b);
        return {};
      case 'POST runs/log-inputs': {
        const rec = this.run(b.run_id);
        for (const d of (b.datasets as { tags?: { key: string; value: string }[]; dataset: Json }[] | undefined) ?? []) {
          if (String(d.dataset?.digest ?? '').length > 36) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', 'Dataset digest exceeds the maximum length of 36');
        }
        for (const d of (b.datasets as { tags?: { key: string; value: string }[]; dataset: Json }[] | undefined) ?? []) {
          if (!rec.inputs.some((x) => x.dataset.name === d.dataset.name && x.dataset.digest === d.dataset.digest)) rec.inputs.push(d);
        }
        return {};
      }
      case 'POST runs/set-tag': {
        const rec = this.run(b.run_id);
        if (typeof b.key !== 'string') throw missing('key');
        validateName('tag', b.key);
        rec.tags.set(b.key, String(b.value ?? ''));
        if (b.key === 'mlflow.runName') rec.info.run_name = String(b.value);
        return {};
      }
      case 'POST runs/update': {
        const rec = this.run(b.run_id);
        // MLflow 2.12 parses an unknown status as unset and keeps the old one.
        if (typeof b.status === 'string' && STATUSES.has(b.status)) rec.info.status = b.status;
        if (typeof b.end_time === 'number') rec.info.end_time = b.end_time;
        if (typeof b.run_name === 'string' && b.run_name) {
          rec.info.run_name = b.run_name;
          rec.tags.set('mlflow.runName', b.run_name);
        }
        return { run_info: { ...rec.info } };
      }
      case 'POST runs/search':
        return this.search(b);
      case 'GET metrics/get-history': {
        const rec = this.run(q.run_id);
        if (!q.metric_key) throw missing('metric_key');
        const points = rec.metrics.get(q.metric_key) ?? [];
        return points.length ? { metrics: points.map((p) => ({ key: q.metric_key, value: wireValue(p.value), timestamp: p.timestamp, step: p.step })) } : {};
      }
      case 'GET artifacts/list': {
        const rec = this.run(q.run_id);
        const root = rec.info.artifact_uri;
        const prefix = root.replace(/^mlflow-artifacts:\//, '');
        const dir = q.path ? `${prefix}/${q.path}` : prefix;
        const files = this.listDir(dir).map((f) => ({ ...f, path: q.path ? `${q.path}/${f.path}` : f.path }));
        return { root_uri: root, ...(files.length ? { files } : {}) };
      }
      default:
        throw new ApiError(404, 'ENDPOINT_NOT_FOUND', `No endpoint ${endpoint}`);
    }
  }

  private run(id: unknown): RunRec {
    if (typeof id !== 'string' || !id) throw missing('run_id');
    const rec = this.runs.get(id);
    if (!rec) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Run with id=${id} not found`);
    return rec;
  }

  private logBatch(b: Json): void {
    const metrics = b.metrics as Json[] | undefined;
    const params = b.params as Json[] | undefined;
    const tags = b.tags as Json[] | undefined;
    const badList = (name: string, list: Json[] | undefined, ok: (x: Json) => boolean) => {
      if (list !== undefined && (!Array.isArray(list) || !list.every((x) => x && typeof x === 'object' && ok(x)))) {
        throw new ApiError(
          400,
          'INVALID_PARAMETER_VALUE',
          `Invalid value ${pyRepr(list)} for parameter '${name}' supplied. Hint: Value was of type 'list'. See the API docs for more information about request parameters.`,
        );
      }
    };
    badList('metrics', metrics, (m) => typeof m.key === 'string' && parseValue(m.value) !== null && typeof m.timestamp === 'number');
    badList('params', params, (p) => typeof p.key === 'string' && typeof p.value === 'string');
    badList('tags', tags, (t) => typeof t.key === 'string' && typeof t.value === 'string');
    if (typeof b.run_id !== 'string') throw missing('run_id');
    const nm = metrics?.length ?? 0;
    const np = params?.length ?? 0;
    const nt = tags?.length ?? 0;
    const limit = (what: string, n: number, max: number) => {
      if (n > max) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `A batch logging request can contain at most ${max} ${what}. Got ${n} ${what}. Please split up ${what} across multiple requests and try again.`);
    };
    limit('metrics', nm, 1000);
    limit('params', np, 100);
    limit('tags', nt, 100);
    if (nm + np + nt > 1000) {
      throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `A batch logging request can contain at most 1000 metrics, params, and tags in total. Got ${nm + np + nt}.`);
    }
    for (const m of metrics ?? []) validateName('metric', m.key as string);
    for (const p of params ?? []) {
      validateName('parameter', p.key as string);
      if ((p.value as string).length > 6000) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Param value '${(p.value as string).slice(0, 20)}...' had length ${(p.value as string).length}, which exceeded length limit of 6000`);
    }
    for (const t of tags ?? []) {
      validateName('tag', t.key as string);
      if ((t.value as string).length > 5000) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Tag value '${(t.value as string).slice(0, 20)}...' had length ${(t.value as string).length}, which exceeded length limit of 5000`);
    }
    const keys = (params ?? []).map((p) => p.key as string);
    const dup = keys.filter((k, i) => keys.indexOf(k) !== i);
    if (dup.length) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Duplicate parameter keys have been submitted: ${pyRepr(dup)}. Please ensure the request contains only one param value per param key.`);
    const rec = this.run(b.run_id);
    const changed = (params ?? [])
      .filter((p) => rec.params.has(p.key as string) && rec.params.get(p.key as string) !== p.value)
      .map((p) => ({ key: p.key, old_value: rec.params.get(p.key as string), new_value: p.value }));
    if (changed.length) {
      throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Changing param values is not allowed. Params were already logged='${pyRepr(changed)}' for run ID='${rec.info.run_id}'.`);
    }
    for (const p of params ?? []) rec.params.set(p.key as string, p.value as string);
    for (const m of metrics ?? []) {
      const list = rec.metrics.get(m.key as string) ?? [];
      list.push({ value: parseValue(m.value)!, timestamp: m.timestamp as number, step: (m.step as number) ?? 0 });
      rec.metrics.set(m.key as string, list);
    }
    for (const t of tags ?? []) {
      rec.tags.set(t.key as string, t.value as string);
      if (t.key === 'mlflow.runName') rec.info.run_name = t.value as string;
    }
  }

  private latest(points: PointRec[]): PointRec {
    let best = points[0]!;
    for (const p of points) if (p.step > best.step || (p.step === best.step && (p.timestamp > best.timestamp || (p.timestamp === best.timestamp && p.value > best.value)))) best = p;
    return best;
  }

  private kv(m: Map<string, string>): { key: string; value: string }[] {
    return [...m].map(([key, value]) => ({ key, value }));
  }

  private runJson(rec: RunRec): Json {
    const data: Json = {};
    if (rec.metrics.size) data.metrics = [...rec.metrics].map(([key, pts]) => ({ key, value: wireValue(this.latest(pts).value), timestamp: this.latest(pts).timestamp, step: this.latest(pts).step }));
    if (rec.params.size) data.params = this.kv(rec.params);
    if (rec.tags.size) data.tags = this.kv(rec.tags);
    return { info: { ...rec.info }, data, inputs: rec.inputs.length ? { dataset_inputs: rec.inputs } : {} };
  }

  private experimentJson(e: ExperimentRec): Json {
    return {
      experiment_id: e.experiment_id,
      name: e.name,
      artifact_location: e.artifact_location,
      lifecycle_stage: e.lifecycle_stage,
      last_update_time: e.last_update_time,
      creation_time: e.creation_time,
      ...(e.tags.size ? { tags: this.kv(e.tags) } : {}),
    };
  }

  private paginate<T>(items: T[], maxResults: unknown, token: string | undefined): { page: T[]; next?: string } {
    const max = Number(maxResults ?? 1000) || 1000;
    const offset = token ? (JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset: number }).offset : 0;
    const page = items.slice(offset, offset + max);
    const next = offset + max < items.length ? Buffer.from(JSON.stringify({ offset: offset + max })).toString('base64') : undefined;
    return { page, next };
  }

  private search(b: Json): Json {
    const ids = ((b.experiment_ids as string[] | undefined) ?? []).map(String);
    const clauses = parseFilter(String(b.filter ?? ''));
    const view = String(b.run_view_type ?? 'ACTIVE_ONLY');
    let runs = [...this.runs.values()].filter(
      (r) => ids.includes(r.info.experiment_id) && (view === 'ALL' || (view === 'DELETED_ONLY' ? r.info.lifecycle_stage === 'deleted' : r.info.lifecycle_stage === 'active')),
    );
    runs = runs.filter((r) =>
      clauses.every((c) => {
        if (c.kind === 'tags') return compare(r.tags.get(c.key), c.op, c.value);
        if (c.kind === 'params') return compare(r.params.get(c.key), c.op, c.value);
        if (c.kind === 'metrics') {
          const pts = r.metrics.get(c.key);
          return pts ? compare(this.latest(pts).value, c.op, c.value) : false;
        }
        const attr = (r.info as unknown as Record<string, string | number>)[c.key === 'run_id' ? 'run_id' : c.key];
        return compare(attr, c.op, c.value);
      }),
    );
    const orderBy = ((b.order_by as string[] | undefined) ?? []).map((o) => {
      const m = /^(metrics|params|tags|attributes|attribute)\.(`[^`]+`|[\w.]+)(?:\s+(ASC|DESC))?$/i.exec(o.trim());
      if (!m) throw new ApiError(400, 'INVALID_PARAMETER_VALUE', `Invalid order_by clause '${o}'. Could not be parsed.`);
      return { kind: m[1]!.toLowerCase(), key: m[2]!.replace(/`/g, ''), desc: (m[3] ?? 'ASC').toUpperCase() === 'DESC' };
    });
    const val = (r: RunRec, kind: string, key: string): number | string | undefined =>
      kind === 'metrics' ? (r.metrics.has(key) ? this.latest(r.metrics.get(key)!).value : undefined) : kind === 'params' ? r.params.get(key) : kind === 'tags' ? r.tags.get(key) : (r.info as unknown as Record<string, number | string>)[key];
    runs.sort((x, y) => {
      for (const o of orderBy) {
        const a = val(x, o.kind, o.key);
        const c = val(y, o.kind, o.key);
        if (a === c) continue;
        if (a === undefined) return 1;
        if (c === undefined) return -1;
        return (a < c ? -1 : 1) * (o.desc ? -1 : 1);
      }
      return y.info.start_time - x.info.start_time || (x.info.run_id < y.info.run_id ? -1 : 1);
    });
    const { page, next } = this.paginate(runs, b.max_results, b.page_token as string | undefined);
    return { ...(page.length ? { runs: page.map((r) => this.runJson(r)) } : {}), ...(next ? { next_page_token: next } : {}) };
  }

  /** Direct entries of an artifact folder, names relative to it. */
  private listDir(dir: string): { path: string; is_dir: boolean; file_size?: number }[] {
    const prefix = dir ? `${dir.replace(/\/+$/, '')}/` : '';
    const seen = new Map<string, { path: string; is_dir: boolean; file_size?: number }>();
    for (const [p, data] of this.artifacts) {
      if (!p.startsWith(prefix)) continue;
      const rest = p.slice(prefix.length);
      const [head, ...tail] = rest.split('/');
      if (!head) continue;
      if (tail.length) seen.set(head, { path: head, is_dir: true });
      else seen.set(head, { path: head, is_dir: false, file_size: data.length });
    }
    return [...seen.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  private listProxy(path: string): Json {
    const files = this.listDir(path);
    return files.length ? { files } : {};
  }
}

/** One request/response pair recorded from a real MLflow 2.12 server (test-support/fixtures/mlflow). */
export interface RecordedExchange {
  name: string;
  method: string;
  path: string;
  request: Record<string, unknown> | null;
  status: number;
  response: unknown;
}

/** The recorded exchanges, in file order, from the repository's MLflow fixtures. */
export function recordedExchanges(): RecordedExchange[] {
  const file = join(PACKAGE_ROOT, 'test-support/fixtures/mlflow/rest-exchanges-mlflow-2.12.jsonl');
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as RecordedExchange);
}
