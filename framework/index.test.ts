/**
 * The programmatic API through the package's own entry point (`import('bnx')`, resolved by the
 * exports map to dist/): validate, plan, run a small study for real, read its results back.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from './util/paths.js';

type Api = typeof import('bnx');
let bnx: Api;
const cwd = mkdtempSync(join(tmpdir(), 'bnx-api-'));
const before = process.cwd();
const prevUri = process.env.MLFLOW_TRACKING_URI;

const STUDY = `
name: api-tiny
dataset: { name: fashion-mnist, subset: { train: 1000, test: 300 } }
model: { hidden: [16] }
train: { epochs: 2, batch_size: 32, optimizer: { type: sgd, lr: 0.05 } }
seeds: [1, 2]
variants:
  baseline: {}
  batchnorm: { model: { norm: batch } }
`;

beforeAll(async () => {
  bnx = await import('bnx');
  writeFileSync(join(cwd, 'study.yaml'), STUDY);
  writeFileSync(join(cwd, 'bad.yaml'), 'name: bad\ndataset: { name: fashion-mnist }\ntrain:\n  optimizer: { type: sgd, lr: -1 }\n  epoch: 3\n');
  // Reports and ./mlruns go where the caller runs, as with the CLI.
  process.chdir(cwd);
  delete process.env.MLFLOW_TRACKING_URI;
});
afterAll(() => {
  process.chdir(before);
  if (prevUri !== undefined) process.env.MLFLOW_TRACKING_URI = prevUri;
});

describe("the package's API", () => {
  it('is the package entry point, with types', () => {
    const resolved = spawnSync(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('bnx'))"], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
    expect(resolved.stdout.trim()).toBe(`file://${join(PACKAGE_ROOT, 'dist/framework/index.js')}`);
    expect(existsSync(join(PACKAGE_ROOT, 'dist/framework/index.d.ts'))).toBe(true);
    expect(bnx.BNX_VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('validateStudy returns every problem with its place instead of throwing', async () => {
    const v = await bnx.validateStudy('bad.yaml');
    expect(v.ok).toBe(false);
    if (v.ok) return;
    expect(v.problems.map((p) => [p.line, p.col, p.message])).toEqual([
      [4, 31, expect.stringMatching(/train.optimizer.lr must be > 0/)],
      [5, 3, expect.stringMatching(/unknown key "epoch" in train; did you mean "epochs"\?/)],
    ]);
    const good = await bnx.validateStudy('study.yaml', { set: ['seeds=[1,2,3]'] });
    expect(good.ok && good.runs).toBe(6);
  });

  it('planStudy gives the keys `bnx plan` gives', async () => {
    const plan = await bnx.planStudy('study.yaml');
    const cli = spawnSync(process.execPath, [join(PACKAGE_ROOT, 'dist/framework/cli/main.js'), 'plan', 'study.yaml', '--json'], { cwd, encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    const fromCli = JSON.parse(cli.stdout) as { runs: { key: string; name: string }[] };
    expect(plan.runs.map((r) => [r.name, r.key])).toEqual(fromCli.runs.map((r) => [r.name, r.key]));
    expect(plan.runs.map((r) => r.name)).toEqual(['baseline/seed=1', 'baseline/seed=2', 'batchnorm/seed=1', 'batchnorm/seed=2']);
  });

  it('runStudy trains, exports and reports; readResults and readSummary give the same statistics back', async () => {
    const lines: string[] = [];
    const r = await bnx.runStudy('study.yaml', { jobs: 2, log: (l) => lines.push(l) });
    expect(r.exitCode, lines.join('\n')).toBe(0);
    expect(r.reportDir).toBe(join(cwd, 'reports', 'api-tiny'));
    expect(existsSync(join(r.reportDir!, 'index.html'))).toBe(true);
    const s = r.summary!;
    expect(s.variants.map((v) => v.variant)).toEqual(['baseline', 'batchnorm']);
    expect(s.runs.filter((x) => x.status === 'FINISHED')).toHaveLength(4);
    expect(s.runs.every((x) => x.onnx && x.onnx.max_abs_diff <= 1e-4)).toBe(true);
    expect(lines.some((l) => /4 runs planned, 0 already finished, 4 to train/.test(l))).toBe(true);

    const fromStore = await bnx.readResults('study.yaml');
    expect(fromStore.variants).toEqual(s.variants);
    expect(fromStore.comparisons).toEqual(s.comparisons);
    expect(bnx.readSummary(r.reportDir!).variants).toEqual(s.variants);

    // Finished runs are reused: nothing trains the second time.
    const again: string[] = [];
    const r2 = await bnx.runStudy('study.yaml', { log: (l) => again.push(l) });
    expect(r2.exitCode).toBe(0);
    expect(again.some((l) => /4 already finished, 0 to train/.test(l))).toBe(true);
  });

  it('bad input throws the CLI\'s UserError, not a stack of internals', async () => {
    await expect(bnx.runStudy('bad.yaml')).rejects.toBeInstanceOf(bnx.ConfigError);
    expect(() => bnx.readSummary('no-such-dir')).toThrow(bnx.UserError);
    await expect(bnx.readResults('study.yaml', { trackingUri: join(cwd, 'empty-store') })).rejects.toBeInstanceOf(bnx.UserError);
  });
});
