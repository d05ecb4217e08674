/**
 * Vega-Lite specs of the report's charts, built from a Summary (pure). Data is inline, so the page
 * needs no loader and nothing is fetched. Groups keep one colour across all charts.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Describe } from './stats.js';
import { canonicalJson } from '../util/hash.js';
import { finalEpoch, type EpochStats, type Summary } from './summary.js';

export interface Chart {
  /** DOM id of the chart's container (ours, never user-written). */
  id: string;
  title: string;
  spec: TopLevelSpec;
}

type CurveMetric = 'test_accuracy' | 'test_loss' | 'train_loss';

const CURVES: { metric: CurveMetric; title: string; axis: string; percent: boolean }[] = [
  { metric: 'test_accuracy', title: 'Test accuracy per epoch (mean, 95% CI band)', axis: 'test accuracy', percent: true },
  { metric: 'test_loss', title: 'Test loss per epoch (mean, 95% CI band)', axis: 'test loss', percent: false },
  { metric: 'train_loss', title: 'Train loss per epoch (mean, 95% CI band)', axis: 'train loss', percent: false },
];

const point = (group: string, extra: Record<string, unknown>, d: Describe) => ({
  group,
  ...extra,
  mean: d.mean,
  low: d.ci95?.low ?? null,
  high: d.ci95?.high ?? null,
  std: d.std,
  n: d.n,
});

function curveSpec(s: Summary, metric: CurveMetric, title: string, axis: string, percent: boolean, groups: string[]): TopLevelSpec {
  const values = s.variants.flatMap((v) =>
    v.epochs.map((e: EpochStats) => point(v.group, { epoch: e.epoch }, e[metric])).filter((p) => p.mean !== null),
  );
  const format = percent ? '.1%' : '.3f';
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 380,
    height: 240,
    data: { values },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
      color: { field: 'group', type: 'nominal', title: 'variant', scale: { domain: groups } },
    },
    layer: [
      {
        mark: { type: 'area', opacity: 0.18 },
        encoding: {
          y: { field: 'low', type: 'quantitative', title: axis, scale: { zero: false }, axis: { format: percent ? '.0%' : '.2f' } },
          y2: { field: 'high' },
        },
      },
      {
        mark: { type: 'line', point: true },
        encoding: {
          y: { field: 'mean', type: 'quantitative', title: axis },
          tooltip: [
            { field: 'group', type: 'nominal', title: 'variant' },
            { field: 'epoch', type: 'quantitative' },
            { field: 'mean', type: 'quantitative', format },
            { field: 'low', type: 'quantitative', title: 'CI low', format },
            { field: 'high', type: 'quantitative', title: 'CI high', format },
            { field: 'n', type: 'quantitative', title: 'seeds' },
          ],
        },
      },
    ],
  };
}

function finalSpec(s: Summary, groups: string[]): TopLevelSpec {
  const means = s.variants.filter((v) => v.final_test_accuracy.mean !== null).map((v) => point(v.group, {}, v.final_test_accuracy));
  const seeds = s.variants.flatMap((v) =>
    s.runs
      .filter((r) => r.status === 'FINISHED' && r.epochs.length && r.variant === v.variant && canonicalJson(r.matrix ?? {}) === canonicalJson(v.matrix))
      .map((r) => ({ group: v.group, seed: r.seed, value: finalEpoch(r)!.test_accuracy })),
  );
  const y = { field: 'group', type: 'nominal' as const, title: null, sort: groups };
  const color = { field: 'group', type: 'nominal' as const, legend: null, scale: { domain: groups } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Final test accuracy (mean and 95% CI; dots are seeds)',
    width: 380,
    height: { step: 36 },
    layer: [
      {
        data: { values: means.filter((m) => m.low !== null) },
        mark: { type: 'rule', strokeWidth: 2 },
        encoding: { y, color, x: { field: 'low', type: 'quantitative' }, x2: { field: 'high' } },
      },
      {
        data: { values: seeds },
        mark: { type: 'point', opacity: 0.5, size: 30 },
        encoding: {
          y,
          color,
          x: { field: 'value', type: 'quantitative' },
          tooltip: [
            { field: 'group', type: 'nominal', title: 'variant' },
            { field: 'seed', type: 'quantitative' },
            { field: 'value', type: 'quantitative', title: 'test accuracy', format: '.2%' },
          ],
        },
      },
      {
        data: { values: means },
        mark: { type: 'tick', thickness: 3, size: 22 },
        encoding: {
          y,
          color,
          x: { field: 'mean', type: 'quantitative', title: 'final test accuracy', scale: { zero: false }, axis: { format: '.1%' } },
          tooltip: [
            { field: 'group', type: 'nominal', title: 'variant' },
            { field: 'mean', type: 'quantitative', format: '.2%' },
            { field: 'low', type: 'quantitative', title: 'CI low', format: '.2%' },
            { field: 'high', type: 'quantitative', title: 'CI high', format: '.2%' },
            { field: 'n', type: 'quantitative', title: 'seeds' },
          ],
        },
      },
    ],
  };
}

/** All charts of a report: three learning curves and the final-accuracy comparison. */
export function buildCharts(s: Summary): Chart[] {
  const groups = s.variants.map((v) => v.group);
  return [
    ...CURVES.map((c, i) => ({ id: `chart-${i}`, title: c.title, spec: curveSpec(s, c.metric, c.title, c.axis, c.percent, groups) })),
    { id: `chart-${CURVES.length}`, title: 'Final test accuracy', spec: finalSpec(s, groups) },
  ];
}
