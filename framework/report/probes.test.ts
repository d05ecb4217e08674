/** The report's probe section from hand-made runs: means per step across seeds, the table, the charts. */
import { describe, expect, test } from 'vitest';
import { probeCharts, probeGroups, probeMarkdown } from './probes.js';
import type { RunRecord } from './summary.js';

const run = (variant: string, seed: number, probes?: RunRecord['probes'], status: RunRecord['status'] = 'FINISHED'): RunRecord => ({
  key: `${variant}${seed}`,
  variant,
  matrix: {},
  seed,
  status,
  backend: 'wasm',
  seconds: 1,
  mlflow_run_id: null,
  epochs: [],
  onnx: null,
  ...(probes ? { probes } : {}),
});

describe('probes in the report', () => {
  const runs = [
    run('a|b', 1, { 'fc1/grad_norm': [[0, 1], [10, 3]], 'model/loss_range': [[0, 0.5]] }),
    run('a|b', 2, { 'fc1/grad_norm': [[0, 2], [10, 5]], 'fc2/ics': [[0, 4], [10, NaN]] }),
    run('a|b', 3, { 'fc1/grad_norm': [[0, 100]] }, 'FAILED'),
    run('c', 1),
  ];
  const groups = probeGroups(
    [
      { group: 'a|b', variant: 'a|b', matrix: {} },
      { group: 'c', variant: 'c', matrix: {} },
    ],
    runs,
  );

  test('the mean across finished seeds at each step; failed runs, runs without probes and non-finite values left out', () => {
    expect(groups).toHaveLength(1);
    expect(groups[0]!.runs).toBe(2);
    expect(groups[0]!.series['fc1/grad_norm']).toEqual([
      { step: 0, mean: 1.5, n: 2 },
      { step: 10, mean: 4, n: 2 },
    ]);
    expect(groups[0]!.series['fc2/ics']).toEqual([{ step: 0, mean: 4, n: 1 }]);
    expect(groups[0]!.series['model/loss_range']).toEqual([{ step: 0, mean: 0.5, n: 1 }]);
  });

  test('the table: first -> last per series, layers before the model rows, names escaped, runs without probes counted', () => {
    const md = probeMarkdown(groups, 1, (s) => s.replace(/\|/g, '\\|'));
    expect(md[0]).toBe('## Training dynamics (probes)');
    expect(md.join('\n')).toMatch(/1 finished run\(s\) have no probes/);
    expect(md).toContain('| probe | a\\|b |');
    const rows = md.filter((l) => l.startsWith('| fc') || l.startsWith('| model'));
    expect(rows).toEqual(['| fc1 gradient norm ‖dL/dW‖ | 1.50 → 4.00 |', "| fc2 internal covariate shift ‖G − G'‖ (Santurkar et al.) | 4.00 |", '| model loss range along the gradient | 0.500 |']);
    expect(probeMarkdown([], 0)).toEqual([]);
  });

  test('one chart per probe name, faceted by layer', () => {
    const charts = probeCharts(groups);
    expect(charts.map((c) => c.title)).toEqual([
      'gradient norm ‖dL/dW‖ per layer (mean across seeds)',
      "internal covariate shift ‖G − G'‖ (Santurkar et al.) per layer (mean across seeds)",
      'loss range along the gradient per layer (mean across seeds)',
    ]);
    const spec = charts[0]!.spec as unknown as { facet: { column: { field: string; sort: string[] } }; data: { values: { layer: string; step: number; mean: number }[] } };
    expect(spec.facet.column).toMatchObject({ field: 'layer', sort: ['fc1'] });
    expect(spec.data.values.map((v) => [v.layer, v.step, v.mean])).toEqual([
      ['fc1', 0, 1.5],
      ['fc1', 10, 4],
    ]);
  });
});
