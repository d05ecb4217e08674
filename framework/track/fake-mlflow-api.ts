/**
 * The fake MLflow server's records and endpoints: what MLflow 2.12 answers to each REST call bnx
 * makes, on in-memory experiments, runs and artifacts. Split from fake-mlflow-server.ts, which serves
 * this over HTTP (and adds auth and fault injection). Test code only.
 */
import { randomBytes } from 'node:crypto';
import { compare, parseFilter } from './filter.js';
import { validateName } from './names.js';
import {
  ApiError,
  STATUSES,
  experimentJson,
  kv,
  latest,
  missing,
  paginate,
  parseValue,
  pyRepr,
  runJson,
  wireValue,
  type ExperimentRec,
  type FakeOptions,
  type Json,
  type RunRec,
} from './fake-mlflow-records.js';

/** MLflow's tracking API on in-memory records; FakeMlflowServer serves it over HTTP. */
export class FakeMlflowApi {
  readonly experiments = new Map<string, ExperimentRec>();
  readonly runs = new Map<string, RunRec>();
  readonly artifacts = new Map<string, Buffer>();
  protected nextExperimentId = 1;
  private readonly runIds: string[];

  constructor(protected readonly o: FakeOptions = {}) {
    this.runIds = [...(o.runIds ?? [])];
    const t = this.now();
    this.experiments.set('0', { experiment_id: '0', name: 'Default', artifact_location: 'mlflow-artifacts:/0', lifecycle_stage: 'active', last_update_time: t, creation_time: t, tags: new Map() });
  }

  protected now(): number {
    return this.o.now ? this.o.now() : Date.now();
  }

  /** Answer one API call (`METHOD endpoint`), or throw the ApiError MLflow would. */
  protected route(endpoint: string, q: Record<string, string>, b: Json): Json {
    switch (endpoint) {
      case 'GET experiments/get-by-name': {
        const name = q.experiment_name;
        if (!name) throw missing('experiment_name');
        const e = [...this.experiments.values()].find((x) => x.name === name);
        if (!e) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name '${name}'`);
        return { experiment: experimentJson(e) };
      }
      case 'GET experiments/get': {
        const e = this.experiments.get(q.experiment_id ?? '');
        if (!e) throw new ApiError(404, 'RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${q.experiment_id} exists`);
        return { experiment: experimentJson(e) };
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
        const { page, next } = paginate(all, b.max_results ?? q.max_results, (b.page_token ?? q.page_token) as string | undefined);
        return { ...(page.length ? { experiments: page.map((e) => experimentJson(e)) } : {}), ...(next ? { next_page_token: next } : {}) };
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
        return { run: { info: { ...rec.info }, data: { tags: kv(rec.tags) } } };
      }
      case 'GET runs/get': {
        if (!q.run_id) throw missing('run_id');
        return { run: runJson(this.run(q.run_id)) };
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
          return pts ? compare(latest(pts).value, c.op, c.value) : false;
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
      kind === 'metrics' ? (r.metrics.has(key) ? latest(r.metrics.get(key)!).value : undefined) : kind === 'params' ? r.params.get(key) : kind === 'tags' ? r.tags.get(key) : (r.info as unknown as Record<string, number | string>)[key];
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
    const { page, next } = paginate(runs, b.max_results, b.page_token as string | undefined);
    return { ...(page.length ? { runs: page.map((r) => runJson(r)) } : {}), ...(next ? { next_page_token: next } : {}) };
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

  protected listProxy(path: string): Json {
    const files = this.listDir(path);
    return files.length ? { files } : {};
  }
}
