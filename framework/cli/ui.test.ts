/**
 * `bnx ui` against a real executable named `mlflow` on PATH, written by the test: it answers
 * `--version` like MLflow 2.x or 3.x and records the argv and environment it is started with, so the
 * flags bnx passes for each generation are checked as MLflow would receive them. (A real MLflow
 * cannot be installed here: no PyPI.)
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../util/paths.js';

const BIN = join(PACKAGE_ROOT, 'dist/framework/cli/main.js');

function fakeMlflow(dir: string, version: string): { bin: string; record: string } {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const record = join(dir, 'mlflow-calls.jsonl');
  const script = `#!${process.execPath}
const fs = require('node:fs');
const argv = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(record)}, JSON.stringify({ argv, allow: process.env.MLFLOW_ALLOW_FILE_STORE ?? null }) + '\\n');
if (argv[0] === '--version') { console.log('mlflow, version ${version}'); process.exit(0); }
if (argv[0] === 'ui') { console.log('[fake mlflow] serving'); process.exit(0); }
process.exit(3);
`;
  writeFileSync(join(bin, 'mlflow'), script);
  chmodSync(join(bin, 'mlflow'), 0o755);
  return { bin, record };
}

function bnx(cwd: string, args: string[], path: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, PATH: path, MLFLOW_TRACKING_URI: '' }, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function project(): string {
  const cwd = mkdtempSync(join(tmpdir(), 'bnx-ui-'));
  mkdirSync(join(cwd, 'mlruns', '0'), { recursive: true });
  writeFileSync(join(cwd, 'study.yaml'), 'name: s\ndataset: { name: fashion-mnist }\nvariants: { a: {} }\n');
  return cwd;
}

const calls = (record: string) =>
  readFileSync(record, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { argv: string[]; allow: string | null });

describe('bnx ui', () => {
  for (const [version, allow] of [
    ['2.12.1', null],
    ['3.1.4', 'true'],
  ] as const) {
    it(`serves the study's file store with MLflow ${version}'s flags`, () => {
      const cwd = project();
      const { bin, record } = fakeMlflow(cwd, version);
      const r = bnx(cwd, ['ui', 'study.yaml', '--port', '5055'], `${bin}${delimiter}/usr/bin${delimiter}/bin`);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`MLflow ${version}: serving mlruns at http://127.0.0.1:5055`);
      const [probe, ui] = calls(record);
      expect(probe!.argv).toEqual(['--version']);
      expect(ui!.argv).toEqual(['ui', '--backend-store-uri', pathToFileURL(join(cwd, 'mlruns')).href, '--host', '127.0.0.1', '--port', '5055']);
      // 3.x refuses a file store unless allowed; 2.x needs nothing.
      expect(ui!.allow).toBe(allow);
    });
  }

  it('without MLflow says how to get it and points to the offline report', () => {
    const cwd = project();
    const r = bnx(cwd, ['ui', '--tracking-uri', 'mlruns'], join(cwd, 'empty-bin'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/MLflow is not installed/);
    expect(r.stderr).toMatch(/pip install mlflow/);
    expect(r.stderr).toMatch(/index\.html/);
  });

  it('refuses a folder that holds no store, and shows a server its own UI', () => {
    const cwd = project();
    const none = bnx(cwd, ['ui', '--tracking-uri', 'nothing-here'], '/usr/bin');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/No MLflow file store at nothing-here/);
    const server = bnx(cwd, ['ui', '--tracking-uri', 'http://127.0.0.1:5000'], '/usr/bin');
    expect(server.code).toBe(0);
    expect(server.stdout).toMatch(/its UI is at http:\/\/127\.0\.0\.1:5000/);
  });
});
