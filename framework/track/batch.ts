/**
 * Splitting a log-batch into requests MLflow accepts: at most 1000 metrics, 100 params and 100
 * tags, 1000 items in all, and a body well under 1 MB. Order is kept (params, tags, metrics), and
 * each request is packed as full as the limits allow.
 */
import { metricValueToJson } from './python-float.js';
import { LIMITS, type Metric } from './types.js';

export interface KeyValue {
  key: string;
  value: string;
}

export interface WireMetric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
}

export interface BatchChunk {
  params: KeyValue[];
  tags: KeyValue[];
  metrics: WireMetric[];
}

export interface BatchLimits {
  metrics: number;
  params: number;
  tags: number;
  total: number;
  bytes: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = {
  metrics: LIMITS.batchMetrics,
  params: LIMITS.batchParams,
  tags: LIMITS.batchTags,
  total: LIMITS.batchTotal,
  bytes: LIMITS.batchBytes,
};

export function toWireMetric(m: Metric): WireMetric {
  return { key: m.key, value: metricValueToJson(m.value), timestamp: m.timestamp, step: m.step };
}

/** Envelope of one request ({"run_id":"...","params":[],"tags":[],"metrics":[]}) with room to spare. */
const ENVELOPE_BYTES = 200;

export function chunkBatch(
  o: { params?: Record<string, string>; tags?: Record<string, string>; metrics?: Metric[] },
  limits: BatchLimits = DEFAULT_BATCH_LIMITS,
): BatchChunk[] {
  type Item = { kind: 'params' | 'tags'; v: KeyValue } | { kind: 'metrics'; v: WireMetric };
  const items: Item[] = [
    ...Object.entries(o.params ?? {}).map(([key, value]): Item => ({ kind: 'params', v: { key, value: String(value) } })),
    ...Object.entries(o.tags ?? {}).map(([key, value]): Item => ({ kind: 'tags', v: { key, value: String(value) } })),
    ...(o.metrics ?? []).map((m): Item => ({ kind: 'metrics', v: toWireMetric(m) })),
  ];
  const chunks: BatchChunk[] = [];
  let cur: BatchChunk = { params: [], tags: [], metrics: [] };
  let bytes = ENVELOPE_BYTES;
  const size = (c: BatchChunk) => c.params.length + c.tags.length + c.metrics.length;
  for (const item of items) {
    const itemBytes = Buffer.byteLength(JSON.stringify(item.v), 'utf8') + 1;
    const full =
      size(cur) + 1 > limits.total ||
      cur[item.kind].length + 1 > limits[item.kind] ||
      (size(cur) > 0 && bytes + itemBytes > limits.bytes);
    if (full) {
      chunks.push(cur);
      cur = { params: [], tags: [], metrics: [] };
      bytes = ENVELOPE_BYTES;
    }
    (cur[item.kind] as unknown[]).push(item.v);
    bytes += itemBytes;
  }
  if (size(cur) > 0) chunks.push(cur);
  return chunks;
}

/** MLflow's search filter for equality on tags: dotted keys in backticks, values quoted. */
export function tagFilter(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([k, v]) => `tags.${quoteKey(k)} = ${quoteValue(v)}`)
    .join(' and ');
}

export function quoteKey(key: string): string {
  if (/^[A-Za-z0-9_]+$/.test(key)) return key;
  if (key.includes('`')) throw new Error(`bnx cannot search on the tag key ${JSON.stringify(key)}: it contains a backtick`);
  return `\`${key}\``;
}

export function quoteValue(value: string): string {
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"')) return `"${value}"`;
  throw new Error(`bnx cannot search on the value ${JSON.stringify(value)}: it contains both quote characters`);
}
