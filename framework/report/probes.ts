/**
 * Probes in the report (pure): each group's probe series as the mean across its finished seeds at
 * every probe step, a Markdown table (first and last probe of each series) and Vega-Lite small
 * multiples, one chart per probe name faceted by layer. Probe names are `<layer>/<name>` (see
 * framework/train/probes.ts); `model/<name>` are the whole-network landscape figures.
 */
import type { TopLevelSpec } from 'vega-lite';
import { canonicalJson } from '../util/hash.js';
import type { Chart } from './charts.js';
import type { MatrixCell, RunRecord } from './summary.js';

/** A run's probe values by name, as [step, value] pairs in step order. */
export type ProbeSeries = Record<string, [number, number][]>;

export interface ProbePoint {
  step: number;
  mean: number;
  /** Seeds with a value at this step. */
  n: number;
}

export interface ProbeGroup {
  group: string;
  variant: string;
  matrix: MatrixCell;
  /** Finished runs that carry probes. */
  runs: number;
  series: Record<string, ProbePoint[]>;
}

/** What each probe name means (the report's table and chart titles). */
export const PROBE_TITLES: Record<string, string> = {
  pre_mean: 'pre-activation mean',
  pre_std: 'pre-activation std',
  post_mean: 'post-activation mean',
  post_std: 'post-activation std',
  dead_fraction: 'dead ReLU fraction',
  grad_norm: 'gradient norm ‖dL/dW‖',
  weight_norm: 'weight norm ‖W‖',
  update_ratio: 'update/weight ratio of the last step',
  ics: 'internal covariate shift ‖G − G\'‖ (Santurkar et al.)',
  ics_cosine: 'cos(G, G\')',
  loss: 'loss on the probe batch',
  loss_range: 'loss range along the gradient',
  grad_change: 'gradient predictiveness: max ‖g − g(η)‖',
  beta_smoothness: 'effective beta-smoothness',
};

const split = (name: string): [string, string] => {
  const i = name.lastIndexOf('/');
  return [name.slice(0, i), name.slice(i + 1)];
};

/** Mean across seeds per group and probe name (groups as given, in their order). */
export function probeGroups(groups: { group: string; variant: string; matrix: MatrixCell }[], runs: RunRecord[]): ProbeGroup[] {
  const out: ProbeGroup[] = [];
  for (const g of groups) {
    const mine = runs.filter(
      (r) => r.status === 'FINISHED' && r.probes && r.variant === g.variant && canonicalJson(r.matrix ?? {}) === canonicalJson(g.matrix),
    );
    if (!mine.length) continue;
    const names = [...new Set(mine.flatMap((r) => Object.keys(r.probes!)))].sort();
    const series: Record<string, ProbePoint[]> = {};
    for (const name of names) {
      const byStep = new Map<number, number[]>();
      for (const r of mine) for (const [step, v] of r.probes![name] ?? []) if (Number.isFinite(v)) byStep.set(step, [...(byStep.get(step) ?? []), v]);
      series[name] = [...byStep.entries()]
        .sort(([a], [b]) => a - b)
        .map(([step, vs]) => ({ step, mean: vs.reduce((a, b) => a + b, 0) / vs.length, n: vs.length }));
    }
    out.push({ group: g.group, variant: g.variant, matrix: g.matrix, runs: mine.length, series });
  }
  return out;
}

const num = (v: number | undefined): string => (v === undefined ? '–' : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : v.toPrecision(3));

/** `## Training dynamics (probes)`: first -> last probe mean of every series, per group. */
export function probeMarkdown(groups: ProbeGroup[], missing: number, md: (s: string) => string = (s) => s): string[] {
  if (!groups.length) return [];
  const names = [...new Set(groups.flatMap((g) => Object.keys(g.series)))].sort((a, b) => {
    const [la, na] = split(a);
    const [lb, nb] = split(b);
    return (la === 'model' ? 1 : 0) - (lb === 'model' ? 1 : 0) || la.localeCompare(lb, 'en', { numeric: true }) || na.localeCompare(nb);
  });
  const lines = [
    '## Training dynamics (probes)',
    '',
    `Mean across seeds on each run's fixed probe batch, at the first probe (step 0: the initial model) -> the last (step = optimizer steps). Layer rows are per Dense/Conv2D layer; \`model\` rows are the loss landscape along the gradient. Full series: \`probes\` of each run in summary.json, charts in index.html.${missing ? ` ${missing} finished run(s) have no probes (trained before probes were enabled; \`--force\` retrains them).` : ''}`,
    '',
    `| probe | ${groups.map((g) => md(g.group)).join(' | ')} |`,
    `|---|${groups.map(() => '---').join('|')}|`,
  ];
  for (const name of names) {
    const [layer, what] = split(name);
    const cells = groups.map((g) => {
      const s = g.series[name];
      if (!s?.length) return '–';
      return s.length === 1 ? num(s[0]!.mean) : `${num(s[0]!.mean)} → ${num(s[s.length - 1]!.mean)}`;
    });
    lines.push(`| ${layer} ${PROBE_TITLES[what] ?? what} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  return lines;
}

/** One chart per probe name, a small multiple per layer (columns), a line per group. */
export function probeCharts(groups: ProbeGroup[], idPrefix = 'probe-chart'): Chart[] {
  const labels = groups.map((g) => g.group);
  const whats = [...new Set(groups.flatMap((g) => Object.keys(g.series).map((n) => split(n)[1])))];
  const order = Object.keys(PROBE_TITLES);
  whats.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
  return whats.map((what, i) => {
    const values = groups.flatMap((g) =>
      Object.entries(g.series)
        .filter(([n]) => split(n)[1] === what)
        .flatMap(([n, pts]) => pts.map((p) => ({ group: g.group, layer: split(n)[0], step: p.step, mean: p.mean, n: p.n }))),
    );
    const layers = [...new Set(values.map((v) => v.layer))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const title = `${PROBE_TITLES[what] ?? what} per layer (mean across seeds)`;
    const spec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title,
      data: { values },
      facet: { column: { field: 'layer', type: 'nominal', title: null, sort: layers } },
      resolve: { scale: { y: 'independent' } },
      spec: {
        width: 160,
        height: 120,
        mark: { type: 'line', point: true, clip: false },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: 'optimizer steps', axis: { format: '~s' } },
          y: { field: 'mean', type: 'quantitative', title: what, scale: { zero: false, nice: true } },
          color: { field: 'group', type: 'nominal', title: 'variant', scale: { domain: labels }, legend: { labelLimit: 0, orient: 'bottom', direction: 'vertical', title: null } },
          tooltip: [
            { field: 'group', type: 'nominal', title: 'variant' },
            { field: 'layer', type: 'nominal' },
            { field: 'step', type: 'quantitative' },
            { field: 'mean', type: 'quantitative', format: '.4~g' },
            { field: 'n', type: 'quantitative', title: 'seeds' },
          ],
        },
      },
    } as unknown as TopLevelSpec;
    return { id: `${idPrefix}-${i}`, title, spec };
  });
}
