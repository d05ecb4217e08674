/**
 * `--check` end to end: a real tiny study (1000 training images, 2 epochs, 3 seeds) whose first claim is
 * false — a learning rate 10000 times smaller does not learn faster — trains, reports the claim
 * refuted, and exits 1; `bnx report --check` agrees from the store alone; without --check, and with
 * the claim turned around, the same runs exit 0.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../util/paths.js';

const BIN = join(PACKAGE_ROOT, 'dist/framework/cli/main.js');

const STUDY = `
name: claim-check
dataset: { name: fashion-mnist, subset: { train: 1000, test: 300 } }
model: { hidden: [32] }
train: { epochs: 2, batch_size: 20, optimizer: { type: sgd, lr: 0.1 } }
seeds: [1, 2, 3]
export: { onnx: false }
variants:
  fast: {}
  crawl: { train: { optimizer: { lr: 0.00001 } } }
hypotheses:
  crawl-learns-more:
    claim: the 10000x smaller learning rate ends with the higher test accuracy
    compare: crawl
    against: fast
    metric: test_accuracy
    direction: higher
  fast-by-5-points:
    compare: fast
    against: crawl
    metric: test_accuracy
    direction: higher
    min_effect: 0.05
`;

function bnx(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, MLFLOW_TRACKING_URI: '' }, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bnx run --check with a false claim', () => {
  let cwd: string;
  let run: ReturnType<typeof bnx>;
  beforeAll(() => {
    cwd = mkdtempSync(join(tmpdir(), 'bnx-check-'));
    writeFileSync(join(cwd, 'study.yaml'), STUDY);
    run = bnx(cwd, ['run', 'study.yaml', '--check', '--jobs', '2']);
  }, 300_000);

  it('trains, reports the claim refuted and exits 1', () => {
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/check: FAILED, 1 of 2 claims refuted \(1 supported, 0 inconclusive, 1 refuted\): crawl-learns-more/);
    expect(run.stdout).toMatch(/^claim crawl-learns-more: refuted: −\d+\.\d points .*significantly in the opposite direction/m);
    expect(run.stdout).toMatch(/^claim fast-by-5-points: supported: /m);
    const summary = JSON.parse(readFileSync(join(cwd, 'reports/claim-check/summary.json'), 'utf8'));
    expect(summary.runs.every((r: { status: string }) => r.status === 'FINISHED')).toBe(true);
    expect(summary.claims.map((c: { name: string; verdict: string }) => [c.name, c.verdict])).toEqual([
      ['crawl-learns-more', 'refuted'],
      ['fast-by-5-points', 'supported'],
    ]);
    const md = readFileSync(join(cwd, 'reports/claim-check/report.md'), 'utf8');
    expect(md.indexOf('## Claims')).toBeLessThan(md.indexOf('## Verdict'));
    expect(md).toContain('| crawl-learns-more: the 10000x smaller learning rate ends with the higher test accuracy | **refuted** |');
  });

  it('bnx report --check agrees from the store alone; without --check it exits 0', () => {
    const again = bnx(cwd, ['report', 'study.yaml', '--check']);
    expect(again.code, again.stderr).toBe(1);
    expect(again.stderr).toContain('check: FAILED');
    const plain = bnx(cwd, ['report', 'study.yaml']);
    expect(plain.code, plain.stderr).toBe(0);
  });

  it('with the claim turned around, the same runs pass the check', () => {
    const flipped = bnx(cwd, ['report', 'study.yaml', '--check', '--set', 'hypotheses.crawl-learns-more.direction=lower']);
    expect(flipped.code, flipped.stderr).toBe(0);
    expect(flipped.stderr).toContain('check: passed (2 supported, 0 inconclusive, 0 refuted)');
  });
});
