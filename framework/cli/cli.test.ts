import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../util/paths.js';

const BIN = join(PACKAGE_ROOT, 'dist/framework/cli/main.js');
const STUDY = join(PACKAGE_ROOT, 'experiments/bn-vs-baseline.yaml');

function bnx(args: string[], o: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: o.cwd ?? PACKAGE_ROOT, env: { ...process.env, ...o.env }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file and folder below dir, to prove a command wrote nothing. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: false }).map(String).sort();
}

describe('bnx CLI', () => {
  it('validates the seed study with exit 0', () => {
    const r = bnx(['validate', STUDY]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/valid \(6 runs = 2 variants x 1 matrix cell x 3 seeds\)/);
  });

  it('prints the resolved config as JSON with --json', () => {
    const r = bnx(['validate', STUDY, '--json', '--set', 'train.epochs=2']);
    expect(r.code).toBe(0);
    const config = JSON.parse(r.stdout);
    expect(config.train.epochs).toBe(2);
    // Each variant x cell as it resolves: every default of the optimizer's type written out.
    expect(config.resolved.baseline.train.optimizer).toEqual({ type: 'sgd', lr: 0.001, momentum: 0, nesterov: false, weight_decay: 0 });
    expect(config.resolved.batchnorm.model.norm).toEqual({ type: 'batch', position: 'pre', epsilon: 1e-5, momentum: 0.1, affine: true });
  });

  it('rejects a broken study with exit 2, file:line:col messages, and writes nothing', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bnx-cli-'));
    const data = join(cwd, 'cache');
    writeFileSync(join(cwd, 'bad.yaml'), 'name: s\ndataset: { name: fashion-mnist }\ntrain:\n  optimizer: { lr: -1 }\n  epoch: 3\n');
    const before = tree(cwd);
    for (const cmd of ['validate', 'plan', 'run', 'report']) {
      const r = bnx([cmd, 'bad.yaml'], { cwd, env: { BNX_DATA_DIR: data, MLFLOW_TRACKING_URI: '' } });
      expect(r.code, `${cmd}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('bad.yaml:4:20: train.optimizer.lr must be > 0 (got -1)');
      expect(r.stderr).toContain('bad.yaml:5:3: unknown key "epoch" in train; did you mean "epochs"?');
      expect(r.stdout).toBe('');
    }
    expect(tree(cwd)).toEqual(before);
  });

  it('exits 2 for a missing file, an unknown option and a bad --set', () => {
    expect(bnx(['validate', 'nope.yaml']).code).toBe(2);
    expect(bnx(['validate', 'nope.yaml']).stderr).toContain('nope.yaml: cannot read the study file (no such file)');
    expect(bnx(['validate', STUDY, '--frobnicate']).code).toBe(2);
    expect(bnx(['run', STUDY, '--jobs', 'zero']).code).toBe(2);
    expect(bnx(['run', STUDY, '--backend', 'tpu']).code).toBe(2);
    const r = bnx(['validate', STUDY, '--set', 'train.batch_size=-5']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('--set train.batch_size=-5: train.batch_size must be >= 1 (got -5)');
  });

  it('validate checks the data: a dataset.path that exists, conv blocks that fit its images, a batch that fits', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bnx-cli-data-'));
    writeFileSync(join(cwd, 'nopath.yaml'), 'name: s\ndataset: { path: ./nowhere }\n');
    const a = bnx(['validate', 'nopath.yaml'], { cwd });
    expect(a.code).toBe(2);
    expect(a.stderr.trim()).toBe(`nopath.yaml:2:18: dataset.path ${join(cwd, 'nowhere')} does not exist; give a folder of IDX files (relative to the study file)`);
    writeFileSync(join(cwd, 'deep.yaml'), 'name: s\ndataset: { name: fashion-mnist, subset: { train: 50 } }\nmodel: { type: cnn, conv: { filters: [4, 4, 4, 4, 4] } }\ntrain: { batch_size: 64 }\n');
    const b = bnx(['validate', 'deep.yaml'], { cwd });
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('deep.yaml:3:38: conv block 5 of 5 pools the 28x28 image down to nothing');
    expect(b.stderr).toContain('deep.yaml:4:22: train.batch_size 64 is larger than the 50 training examples');
    expect(tree(cwd)).toEqual(['deep.yaml', 'nopath.yaml']);
  });

  it('bnx eval of a file that is not an ONNX model exits 2 with the way to get one', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bnx-cli-eval-'));
    writeFileSync(join(cwd, 'garbage.onnx'), 'hello, not protobuf\n');
    const r = bnx(['eval', 'garbage.onnx', '--dataset', 'fashion-mnist'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^garbage\.onnx: not a readable ONNX model \(.*\)\n {2}Pass a model\.onnx written by bnx: mlruns\/<experiment id>\/<run id>\/artifacts\/model\/model\.onnx/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('has --help on every command and --version', () => {
    for (const cmd of [[], ['run'], ['validate'], ['plan'], ['data', 'fetch'], ['export'], ['eval'], ['report'], ['sync'], ['worker']]) {
      const r = bnx([...cmd, '--help']);
      expect(r.code, cmd.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: bnx/);
    }
    const v = bnx(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
