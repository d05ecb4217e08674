/**
 * The CIFAR-10 study the way a user without internet runs it (README, CIFAR-10): make an archive in
 * the official format with the documented bench command, `bnx data import` it, `bnx data info`,
 * then `bnx run experiments/cifar10-resnet-norms.yaml` (shrunk with --set so it trains in seconds:
 * 100 images, 8-channel stages, one epoch) to its report, every variant's ONNX export verified.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../util/paths.js';

const BNX = join(PACKAGE_ROOT, 'dist', 'framework', 'cli', 'main.js');
const BENCH = join(PACKAGE_ROOT, 'dist-dev', 'bench', 'cifar-bench.js');
const STUDY = join(PACKAGE_ROOT, 'experiments', 'cifar10-resnet-norms.yaml');

let dir: string;
let env: NodeJS.ProcessEnv;

const cli = (args: string[]) => spawnSync(process.execPath, [BNX, ...args], { cwd: dir, env, encoding: 'utf8' });

beforeAll(() => {
  for (const f of [BNX, BENCH]) if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build and tsc -p tsconfig.dev.json first (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), 'bnx-cifar-study-'));
  env = { ...process.env, BNX_DATA_DIR: join(dir, 'data'), BNX_OFFLINE: '1' };
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the CIFAR-10 study on a made-up archive, offline', () => {
  it('bench archive -> bnx data import -> bnx data info -> bnx run to the report, ONNX verified', async () => {
    const archive = join(dir, 'cifar-10-binary.tar.gz');
    const made = spawnSync(process.execPath, [BENCH, 'archive', archive, '--train', '100', '--test', '40'], { env, encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toContain('100 train / 40 test images');

    const imported = cli(['data', 'import', 'cifar-10', archive]);
    expect(imported.status, imported.stderr).toBe(0);
    const source = /source\s+(archive:[0-9a-f]{32})/.exec(imported.stdout)?.[1];
    expect(source, imported.stdout).toBeDefined();
    const info = cli(['data', 'info', 'cifar-10']);
    expect(info.status, info.stderr).toBe(0);
    expect(info.stdout).toContain(source!);
    expect(info.stdout).toMatch(/train\s+100\n/);
    expect(info.stdout).toContain('32x32x3');

    const set = ['dataset.subset.train=100', 'dataset.subset.test=40', 'model.resnet.filters=[8, 8, 8]', 'train.epochs=1', 'train.batch_size=25'];
    const run = spawn(process.execPath, [BNX, 'run', STUDY, '--tracking-uri', join(dir, 'mlruns'), ...set.flatMap((s) => ['--set', s])], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    run.stdout.on('data', (d: Buffer) => (out += d.toString()));
    run.stderr.on('data', (d: Buffer) => (out += d.toString()));
    expect(await new Promise((r) => run.on('exit', r)), out).toBe(0);

    const report = join(dir, 'reports', 'cifar10-resnet-norms');
    for (const f of ['report.md', 'summary.json', 'index.html']) expect(existsSync(join(report, f)), f).toBe(true);
    const summary = JSON.parse(readFileSync(join(report, 'summary.json'), 'utf8')) as {
      runs: { variant: string; status: string; onnx: { max_abs_diff: number; prediction_agreement: number } | null }[];
      dataset: Record<string, unknown>;
    };
    expect(summary.runs.map((r) => r.variant).sort()).toEqual(['batchnorm', 'groupnorm', 'layernorm', 'none']);
    for (const r of summary.runs) {
      expect(r.status, r.variant).toBe('FINISHED');
      expect(r.onnx, r.variant).not.toBeNull();
      expect(r.onnx!.prediction_agreement, r.variant).toBe(1);
      expect(r.onnx!.max_abs_diff, r.variant).toBeLessThanOrEqual(1e-4);
    }
    expect(JSON.stringify(summary.dataset)).toContain(source!);
  });
});
