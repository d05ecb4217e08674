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

/**
 * An axis format with enough digits that neighbouring ticks differ (a 73-74% range at '.0%' printed
 * "74%, 74%, 73%"): about five ticks over the span of the data.
 */
export function axisFormat(values: number[], percent: boolean): string {
  const span = values.length ? Math.max(...values) - Math.min(...values) : 0;
  const step = (percent ? span * 100 : span) / 5;
  const digits = step > 0 ? Math.min(4, Math.max(0, Math.ceil(-Math.log10(step)))) : percent ? 1 : 3;
  return percent ? `.${digits}%` : `.${digits}f`;
}

/** Legends show whole labels (matrix cells make long ones); the default cuts them at 160 px. */
const legend = { labelLimit: 0, orient: 'bottom' as const, direction: 'vertical' as const, title: null };

function curveSpec(s: Summary, metric: CurveMetric, title: string, axis: string, percent: boolean, groups: string[]): TopLevelSpec {
  const values = s.variants.flatMap((v) =>
    v.epochs.map((e: EpochStats) => point(v.group, { epoch: e.epoch }, e[metric])).filter((p) => p.mean !== null),
  );
  const format = percent ? '.1%' : '.3f';
  const bands = values.filter((p) => p.low !== null && p.high !== null);
  const extent = [...values.map((p) => p.mean!), ...bands.flatMap((p) => [p.low!, p.high!])];
  // One y encoding for every layer, so the axis is drawn once with one format.
  const y = { type: 'quantitative' as const, title: axis, scale: { zero: false, nice: true }, axis: { format: axisFormat(extent, percent) } };
  const layers: TopLevelSpec[] = [];
  // Without any CI (one seed) there is no band: an empty layer would make Vega warn "Infinite extent".
  if (bands.length) {
    layers.push({
      data: { values: bands },
      mark: { type: 'area', opacity: 0.18 },
      encoding: { y: { ...y, field: 'low' }, y2: { field: 'high' } },
    } as unknown as TopLevelSpec);
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: 380,
    height: 240,
    data: { values },
    encoding: {
      // padding: the first and last points are drawn whole, not cut by the plot's edge.
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', scale: { padding: 8, nice: false }, axis: { tickMinStep: 1, format: 'd' } },
      color: { field: 'group', type: 'nominal', title: 'variant', scale: { domain: groups }, legend },
    },
    layer: [
      ...(layers as never[]),
      {
        mark: { type: 'line', point: true, clip: false },
        encoding: {
          y: { ...y, field: 'mean' },
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
  // Group names are the axis labels here: show them whole.
  const y = { field: 'group', type: 'nominal' as const, title: null, sort: groups, axis: { labelLimit: 0 } };
  const ranges = means.filter((m) => m.low !== null);
  const extent = [...seeds.map((p) => p.value), ...means.map((m) => m.mean!), ...ranges.flatMap((m) => [m.low!, m.high!])];
  const x = { type: 'quantitative' as const, scale: { zero: false, padding: 8 }, axis: { format: axisFormat(extent, true) } };
  const color = { field: 'group', type: 'nominal' as const, legend: null, scale: { domain: groups } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Final test accuracy (mean and 95% CI; dots are seeds)',
    width: 380,
    height: { step: 36 },
    layer: [
      // No CI with one seed per group: leave the layer out rather than give Vega an empty extent.
      ...(ranges.length
        ? [{ data: { values: ranges }, mark: { type: 'rule' as const, strokeWidth: 2 }, encoding: { y, color, x: { ...x, field: 'low', title: 'final test accuracy' }, x2: { field: 'high' } } }]
        : []),
      {
        data: { values: seeds },
        mark: { type: 'point', opacity: 0.5, size: 30 },
        encoding: {
          y,
          color,
          x: { ...x, field: 'value', title: 'final test accuracy' },
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
          x: { ...x, field: 'mean', title: 'final test accuracy' },
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
