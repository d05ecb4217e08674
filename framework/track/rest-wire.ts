/**
 * MLflow's REST wire format (JSON of the 2.x API) to and from bnx's records: pure conversions, split
 * from rest-store.ts so the client holds only the API calls. (The fake server in the tests keeps its own
 * on purpose: a shared converter would hide the bugs it has on both sides.)
 */
import { metricValueFromJson } from './python-float.js';
import { TAG, isRunStatus, type DatasetInput, type Experiment, type Metric, type Run } from './types.js';

export type Json = Record<string, unknown>;

/** `[{key, value}]` (MLflow's tags and params) as a record. */
export function kvRecord(list: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(list)) for (const t of list as { key?: unknown; value?: unknown }[]) if (typeof t?.key === 'string') out[t.key] = String(t.value ?? '');
  return out;
}

/** A record as MLflow's `[{key, value}]`. */
export function kvList(rec: Record<string, string> | undefined): { key: string; value: string }[] {
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

export function parseExperiment(e: Json): Experiment {
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
