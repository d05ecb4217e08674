/**
 * HTTP to an MLflow server, as MLflow's own client does it: credentials from MLFLOW_TRACKING_TOKEN or
 * MLFLOW_TRACKING_USERNAME/PASSWORD, connection errors, timeouts, 429 and 5xx retried with exponential
 * backoff (announced once per outage), any other 4xx raised at once with MLflow's error_code and
 * message. Split from rest-store.ts, which maps the tracking API onto it.
 */
import { count } from '../util/plural.js';
import { BNX_VERSION } from '../util/version.js';
import type { Json } from './rest-wire.js';
import { TrackingConnectionError, TrackingError } from './types.js';

export interface HttpOptions {
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
  /**
   * Told when requests start being retried (once per outage, not per attempt) and when the server
   * answers again. Default: standard error, so a struggling server is never silent.
   */
  log?: (message: string) => void;
}

export interface CallOptions {
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

export class MlflowHttp {
  readonly uri: string;
  private readonly fetchFn: typeof fetch;
  private readonly headers: Record<string, string>;
  private readonly maxRetries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly timeoutMs: number;
  private readonly log: (m: string) => void;
  /** Which credentials are sent, for messages (never their values). */
  private credentials: string | undefined;
  /** When requests started failing (null while the server answers): retries are announced once per outage. */
  private troubleSince: number | null = null;
  /** Requests sent, for diagnostics and tests. */
  requests = 0;

  constructor(uri: string, o: HttpOptions = {}) {
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

  async call(method: string, path: string, o: CallOptions = {}): Promise<Json | Uint8Array> {
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

  /** The same client for another host (an artifact root elsewhere): same credentials, as MLflow does. */
  forHost(origin: string): MlflowHttp {
    const other = new MlflowHttp(origin, { fetch: this.fetchFn, maxRetries: this.maxRetries, backoffMs: this.backoffMs, timeoutMs: this.timeoutMs, log: this.log });
    Object.assign(other.headers, this.headers);
    other.credentials = this.credentials;
    return other;
  }
}
