/**
 * Heatmaps of a matrix study (pure Vega-Lite specs): for each matrix key, rows are the variants (with
 * the other keys' values), columns that key's values, colour the mean final test accuracy across
 * seeds. Cells where runs diverged (a non-finite loss) are marked with ✕ and the count, and a cell
 * with no finished run is grey, so "where does each variant break" reads at a glance.
 */
import type { TopLevelSpec } from 'vega-lite';
import { matrixValueText } from '../config/index.js';
import type { Chart } from './charts.js';
import { isDiverged as diverged } from './claims.js';
import type { MatrixCell, Summary } from './summary.js';

const cellText = (m: MatrixCell, keys: string[]) => keys.map((k) => `${k}=${matrixValueText(m[k])}`).join(', ');

/** Matrix values as column labels in a sensible order: numbers ascending, else first appearance. */
function ordered(values: unknown[]): string[] {
  const numeric = values.every((v) => typeof v === 'number');
  const sorted = numeric ? [...(values as number[])].sort((a, b) => a - b) : values;
  return [...new Set(sorted.map(matrixValueText))];
}

export function buildHeatmaps(s: Summary): Chart[] {
  const axes = [...new Set(s.runs.flatMap((r) => Object.keys(r.matrix ?? {})))];
  if (!axes.length) return [];
  return axes.map((axis, i) => {
    const others = axes.filter((a) => a !== axis);
    const rowOf = (variant: string, m: MatrixCell) => (others.length ? `${variant} [${cellText(m, others)}]` : variant);
    const cols = ordered(s.runs.map((r) => r.matrix?.[axis]).filter((v) => v !== undefined));
    const rows: string[] = [];
    const cells = new Map<string, { row: string; col: string; finished: number; diverged: number; total: number; sum: number }>();
    for (const v of s.variant_order)
      for (const r of s.runs.filter((x) => x.variant === v)) {
        const row = rowOf(v, r.matrix ?? {});
        if (!rows.includes(row)) rows.push(row);
        const col = matrixValueText(r.matrix?.[axis]);
        const id = `${row}\u0000${col}`;
        const c = cells.get(id) ?? { row, col, finished: 0, diverged: 0, total: 0, sum: 0 };
        c.total++;
        if (diverged(r)) c.diverged++;
        const last = r.status === 'FINISHED' && r.epochs.length ? r.epochs.reduce((a, b) => (b.epoch > a.epoch ? b : a)) : undefined;
        if (last && Number.isFinite(last.test_accuracy)) {
          c.finished++;
          c.sum += last.test_accuracy;
        }
        cells.set(id, c);
      }
    const values = [...cells.values()].map((c) => {
      const mean = c.finished ? c.sum / c.finished : null;
      const mark = c.diverged ? `✕${c.diverged}/${c.total}` : '';
      return {
        row: c.row,
        col: c.col,
        mean,
        finished: c.finished,
        diverged: c.diverged,
        total: c.total,
        label: mean === null ? (c.diverged ? `✕ diverged ${c.diverged}/${c.total}` : 'no finished run') : `${(mean * 100).toFixed(1)}%${mark ? ` ${mark}` : ''}`,
      };
    });
    const title = `Final test accuracy: variant × ${axis} (mean over seeds; ✕ = runs diverged)`;
    const spec: TopLevelSpec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title,
      data: { values },
      width: { step: Math.max(64, 12 + 7 * Math.max(...values.map((v) => v.label.length))) },
      height: { step: 30 },
      encoding: {
        x: { field: 'col', type: 'ordinal', sort: cols, title: axis, axis: { labelAngle: 0 } },
        y: { field: 'row', type: 'nominal', sort: rows, title: null, axis: { labelLimit: 360 } },
      },
      layer: [
        { mark: { type: 'rect', color: '#d5d9de' } },
        {
          mark: { type: 'rect' },
          encoding: {
            color: { field: 'mean', type: 'quantitative', title: 'final test accuracy', scale: { scheme: 'viridis', domain: [0, 1] }, legend: { format: '.0%' } },
            tooltip: [
              { field: 'row', type: 'nominal', title: 'variant' },
              { field: 'col', type: 'nominal', title: axis },
              { field: 'mean', type: 'quantitative', title: 'mean final test accuracy', format: '.2%' },
              { field: 'finished', type: 'quantitative', title: 'finished runs' },
              { field: 'diverged', type: 'quantitative', title: 'diverged runs' },
              { field: 'total', type: 'quantitative', title: 'runs' },
            ],
          },
        },
        {
          mark: { type: 'text', fontSize: 11 },
          encoding: {
            text: { field: 'label', type: 'nominal' },
            color: { condition: { test: 'datum.mean === null || datum.mean > 0.6', value: '#111' }, value: '#fff' },
          },
        },
      ],
    };
    return { id: `heatmap-${i}`, title, spec };
  });
}
