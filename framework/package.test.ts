/**
 * What npm would publish: product code with its types, an executable bin, the schema and the
 * example studies; no test, fixture, fake, bench or source map. And no project config npm warns about.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { PACKAGE_ROOT } from './util/paths.js';

interface PackFile {
  path: string;
  mode: number;
}

// --ignore-scripts: `npm test` has just built dist/ (prepare would rebuild it).
const pack = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: PACKAGE_ROOT, encoding: 'utf8' });
const files = (): PackFile[] => (JSON.parse(pack.stdout) as { files: PackFile[] }[])[0]!.files;

it('npm pack lists product files only', () => {
  expect(pack.status, pack.stderr).toBe(0);
  const paths = files().map((f) => f.path);
  for (const need of [
    'package.json',
    'README.md',
    'dist/framework/index.js',
    'dist/framework/index.d.ts',
    'dist/framework/cli/main.js',
    'dist/framework/launch/child.js',
    'dist/framework/queue/child.js',
    'schemas/experiment.schema.json',
    'experiments/bn-vs-baseline.yaml',
  ]) {
    expect(paths).toContain(need);
  }
  const testOnly = paths.filter((p) => /\.test\.|(^|\/)testing\.|(^|\/)fake-|fixtures\/|test-support|^bench|dist-dev|\.map$|\.ts$/.test(p) && !p.endsWith('.d.ts'));
  expect(testOnly).toEqual([]);
  // Every compiled module has its source in the repository's product code (nothing stale from old builds).
  const orphans = paths
    .filter((p) => p.startsWith('dist/framework/') && p.endsWith('.js'))
    .filter((p) => {
      try {
        statSync(join(PACKAGE_ROOT, p.replace(/^dist\//, '').replace(/\.js$/, '.ts')));
        return false;
      } catch {
        return true;
      }
    });
  expect(orphans).toEqual([]);
});

it('the bin is executable as built, and nothing npm warns about is configured', () => {
  const bin = files().find((f) => f.path === 'dist/framework/cli/main.js')!;
  expect(bin.mode & 0o111).toBe(0o111);
  expect(statSync(join(PACKAGE_ROOT, 'dist/framework/cli/main.js')).mode & 0o111).toBe(0o111);
  expect(readFileSync(join(PACKAGE_ROOT, 'dist/framework/cli/main.js'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  expect(pack.stderr).not.toMatch(/Unknown (project|env) config/);
});

it('onnxruntime-node is optional (its install may fail without breaking the install) and its CUDA fetch is denied here', () => {
  const pkg = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, unknown>>;
  expect(pkg.dependencies!['onnxruntime-node']).toBeUndefined();
  expect(pkg.optionalDependencies!['onnxruntime-node']).toBeDefined();
  expect(pkg.dependencies!['onnxruntime-web']).toBeDefined();
  expect(pkg.allowScripts!['onnxruntime-node']).toBe(false);
});
