/**
 * The study's summary as metrics of its MLflow parent run, so the UI's chart view of the experiment
 * shows the comparison without expanding every child: per group (variant and matrix cell) the mean
 * and 95% CI across seeds of each per-epoch figure (step = epoch) and of the final figures (step 0).
 */
import type { Describe, Summary } from '../report/index.js';
import { studyMetricName, type Metric, type TrackingStore } from '../track/index.js';

const PER_EPOCH = ['test_accuracy', 'test_loss', 'train_accuracy', 'train_loss'] as const;
const FINAL = ['final_test_accuracy', 'final_test_loss', 'final_train_loss'] as const;

function points(variant: string, matrix: Record<string, unknown>, metric: string, d: Describe, step: number, timestamp: number): Metric[] {
  const out: Metric[] = [];
  const add = (stat: 'mean' | 'ci95_low' | 'ci95_high', value: number | null | undefined) => {
    if (typeof value === 'number' && Number.isFinite(value)) out.push({ key: studyMetricName(variant, matrix, metric, stat), value, timestamp, step });
  };
  add('mean', d.mean);
  add('ci95_low', d.ci95?.low);
  add('ci95_high', d.ci95?.high);
  return out;
}

/** Pure: the parent's metric points for a summary. */
export function summaryMetrics(summary: Summary, timestamp = Date.now()): Metric[] {
  const out: Metric[] = [];
  for (const v of summary.variants) {
    for (const e of v.epochs) for (const m of PER_EPOCH) out.push(...points(v.variant, v.matrix, m, e[m], e.epoch, timestamp));
    for (const m of FINAL) out.push(...points(v.variant, v.matrix, m, v[m], 0, timestamp));
  }
  return out;
}

/** Log them, leaving out points the parent already holds (a resumed study logs only what changed). */
export async function logSummaryMetrics(store: TrackingStore, parentRunId: string, summary: Summary): Promise<number> {
  const fresh: Metric[] = [];
  const byKey = new Map<string, Metric[]>();
  for (const p of summaryMetrics(summary)) byKey.set(p.key, [...(byKey.get(p.key) ?? []), p]);
  const have = (await store.getRun(parentRunId)).data.metrics;
  for (const [key, list] of byKey) {
    const old = key in have ? await store.getMetricHistory(parentRunId, key) : [];
    // The newest point per step is what a chart shows: only a changed value needs a new one.
    const last = new Map<number, number>();
    for (const m of [...old].sort((a, b) => a.timestamp - b.timestamp)) last.set(m.step, m.value);
    for (const p of list) if (last.get(p.step) !== p.value) fresh.push(p);
  }
  if (fresh.length) await store.logBatch(parentRunId, { metrics: fresh });
  return fresh.length;
}
