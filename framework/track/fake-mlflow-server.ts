/**
 * An in-memory MLflow 2.12 tracking server for tests: the REST endpoints bnx uses, answering with
 * the shapes, status codes, error codes and messages recorded from a real server
 * (test-support/fixtures/mlflow/rest-exchanges-mlflow-2.12.jsonl; fake-mlflow-server.test.ts replays every
 * recorded exchange against it). Faults (5xx, auth) can be injected. Not used by bnx itself.
 * The endpoints are in fake-mlflow-api.ts, the records and their JSON in fake-mlflow-records.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../util/paths.js';
import { parseFilter } from './filter.js';
import { FakeMlflowApi } from './fake-mlflow-api.js';
import { ApiError, type ExperimentRec, type Json, type LoggedRequest, type PointRec, type RunRec } from './fake-mlflow-records.js';
import { TrackingError } from './types.js';

/** The filter parser lives with the stores (filter.ts); re-exported for the tests that know it here. */
export { parseFilter };
export type { FakeOptions, LoggedRequest } from './fake-mlflow-records.js';
export { pyRepr } from './fake-mlflow-records.js';

// ------------------------------------------------------------------ the server

/** The API of fake-mlflow-api.ts over HTTP on 127.0.0.1, with MLflow's auth answer and injectable faults. */
export class FakeMlflowServer extends FakeMlflowApi {
  readonly log: LoggedRequest[] = [];
  private server: Server | null = null;
  url = '';

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
