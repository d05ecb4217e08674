/**
 * `probes:` end to end: a real tiny study trains with probes, every probe lands in the MLflow file
 * store as `probe/<layer>/<name>` (step = optimizer steps), the report has the probes table, the
 * charts and the per-run series; the run keys are those of the same study without probes, and
 * `bnx report` rebuilds the same probe section from the store alone.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../util/paths.js';

const BIN = join(PACKAGE_ROOT, 'dist/framework/cli/main.js');

const STUDY = `
name: probe-e2e
dataset: { name: fashion-mnist, subset: { train: 400, test: 100 } }
model: { hidden: [16, 8] }
train: { epochs: 2, batch_size: 50, optimizer: { type: sgd, lr: 0.1 } }
seeds: [1, 2]
export: { onnx: false }
variants:
  baseline: {}
  batchnorm: { model: { norm: batch } }
`;
const PROBES = `probes: { every: epoch, landscape_steps: [1, 4] }\n`;

function bnx(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, MLFLOW_TRACKING_URI: '' }, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bnx run with probes', () => {
  let cwd: string;
  let run: ReturnType<typeof bnx>;
  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), 'bnx-probes-'));
    writeFileSync(join(cwd, 'plain.yaml'), STUDY);
    writeFileSync(join(cwd, 'study.yaml'), STUDY + PROBES);
    run = bnx(cwd, ['run', 'study.yaml', '--jobs', '2']);
  }, 300_000);

  it('probes are not part of the run key', () => {
    const keys = (f: string) => (JSON.parse(bnx(cwd, ['plan', f, '--json']).stdout) as { runs: { key: string }[] }).runs.map((r) => r.key);
    expect(keys('study.yaml')).toEqual(keys('plain.yaml'));
  });

  it('logs every probe to MLflow as probe/<layer>/<name>, step = optimizer steps', () => {
    expect(run.code, run.stderr).toBe(0);
    const exp = readdirSync(join(cwd, 'mlruns')).find((d) => /^\d+$/.test(d) && d !== '0')!;
    const runs = readdirSync(join(cwd, 'mlruns', exp)).filter((d) => {
      try {
        return readFileSync(join(cwd, 'mlruns', exp, d, 'tags', 'bnx.run_key'), 'utf8').length > 0;
      } catch {
        return false;
      }
    });
    expect(runs).toHaveLength(4);
    for (const id of runs) {
      const metric = (name: string) =>
        readFileSync(join(cwd, 'mlruns', exp, id, 'metrics', ...name.split('/')), 'utf8')
          .trim()
          .split('\n')
          .map((l) => l.split(' ').map(Number));
      // 400 images / 50 per step = 8 steps per epoch: probes at steps 0, 8 and 16
      expect(metric('probe/fc1/grad_norm').map((l) => l[2])).toEqual([0, 8, 16]);
      expect(metric('probe/fc2/ics').map((l) => l[2])).toEqual([0, 8, 16]);
      expect(metric('probe/fc1/update_ratio').map((l) => l[2])).toEqual([8, 16]);
      for (const name of ['probe/fc1/dead_fraction', 'probe/logits/ics_cosine', 'probe/model/loss_range', 'probe/model/beta_smoothness']) {
        for (const [, value] of metric(name)) expect(Number.isFinite(value), name).toBe(true);
      }
    }
  });

  it('the report shows the probes, and bnx report rebuilds them from the store', () => {
    const summary = JSON.parse(readFileSync(join(cwd, 'reports/probe-e2e/summary.json'), 'utf8'));
    expect(summary.runs.every((r: { probes?: Record<string, unknown> }) => Object.keys(r.probes ?? {}).includes('fc1/grad_norm'))).toBe(true);
    expect(summary.probes.map((g: { group: string; runs: number }) => [g.group, g.runs])).toEqual([
      ['baseline', 2],
      ['batchnorm', 2],
    ]);
    expect(summary.probes[1].series['fc1/pre_std'].map((p: { step: number; n: number }) => [p.step, p.n])).toEqual([
      [0, 2],
      [8, 2],
      [16, 2],
    ]);
    const md = readFileSync(join(cwd, 'reports/probe-e2e/report.md'), 'utf8');
    expect(md).toMatch(/## Training dynamics \(probes\)/);
    expect(md).toMatch(/^\| fc2 internal covariate shift .* → .* \|$/m);
    const html = readFileSync(join(cwd, 'reports/probe-e2e/index.html'), 'utf8');
    expect(html).toMatch(/<section id="probes">/);
    expect(html).toContain('probe-chart-0');

    const again = bnx(cwd, ['report', 'study.yaml']);
    expect(again.code, again.stderr).toBe(0);
    const rebuilt = JSON.parse(readFileSync(join(cwd, 'reports/probe-e2e/summary.json'), 'utf8'));
    expect(rebuilt.probes).toEqual(summary.probes);
  });
});
