/**
 * A study whose runs all fail is a failed study (exit 1), not bad input: the failures are summarised
 * once, and the report is written, since it is where each reason is kept.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../util/paths.js';

const BIN = join(PACKAGE_ROOT, 'dist/framework/cli/main.js');

function bnx(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, MLFLOW_TRACKING_URI: '' }, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a study whose runs all fail', () => {
  it('exits 1, summarises the failures and writes a report of them; bnx report then works too', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bnx-fail-'));
    writeFileSync(
      join(cwd, 'f.yaml'),
      [
        'name: f',
        'dataset: { name: fashion-mnist, subset: { train: 256, test: 64 } }',
        'train: { epochs: 1, batch_size: 32 }',
        'variants:',
        '  diverge: { train: { optimizer: { lr: 1000000 } } }',
        '  huge: { model: { hidden: [100000000] } }',
        '',
      ].join('\n'),
    );
    const r = bnx(cwd, ['run', 'f.yaml', '--jobs', '2']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('f: 2 runs planned, 0 already finished, 2 to train');
    expect(r.stderr).toContain('2 of 2 runs did not finish (none finished); the report lists each: reports/f/index.html');
    expect(r.stderr).toMatch(/ {2}1 run FAILED: training loss became (NaN|Infinity) at epoch 1, step N \(lr 1000000\); try a lower learning rate or a normalization layer/);
    expect(r.stderr).toMatch(/ {2}1 run FAILED: the model does not fit in memory \(.*\); layer widths 100000000: use smaller model\.hidden/);
    expect(r.stderr).not.toMatch(/no finished runs|\n\s+at /);
    const md = readFileSync(join(cwd, 'reports/f/report.md'), 'utf8');
    expect(md).toMatch(/\| diverge \| 1 \| FAILED: training loss became/);
    expect(md).toMatch(/\| huge \| 1 \| FAILED: the model does not fit in memory/);
    const again = bnx(cwd, ['report', 'f.yaml']);
    expect(again.code, again.stderr).toBe(0);
  });
});
