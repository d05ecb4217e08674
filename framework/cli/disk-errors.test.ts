/**
 * The machine says no: a read-only working folder, a read-only reports/ folder, a full disk (in the
 * study's process and in a training process). Real file systems: small tmpfs mounts (needs root, as in
 * CI's container; skipped where mounting is not permitted). Each case: exit 1, one sentence naming the
 * path, the cause and the fix, no stack trace, and finished runs kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStore } from '../track/index.js';
import { PACKAGE_ROOT } from '../util/paths.js';

const BIN = join(PACKAGE_ROOT, 'dist/framework/cli/main.js');
const STUDY = 'name: one\ndataset: { name: fashion-mnist, subset: { train: 200, test: 100 } }\ntrain: { epochs: 1 }\n';

function bnx(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, MLFLOW_TRACKING_URI: '' }, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const root = mkdtempSync(join(tmpdir(), 'bnx-disk-'));
const mounts: string[] = [];
function tmpfs(name: string, size: string, o: { ro?: boolean; files?: Record<string, string> } = {}): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounts.push(dir);
  for (const [f, text] of Object.entries(o.files ?? {})) writeFileSync(join(dir, f), text);
  if (o.ro) execFileSync('mount', ['-o', 'remount,ro', dir]);
  return dir;
}

let canMount = false;
beforeAll(() => {
  try {
    tmpfs('probe', '16k');
    canMount = true;
  } catch {
    canMount = false;
  }
});
afterAll(() => {
  for (const m of mounts.reverse()) spawnSync('umount', [m]);
  rmSync(root, { recursive: true, force: true });
});

const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at |Error: E[A-Z]+:/);

describe('file-system refusals are messages', () => {
  it('a read-only working folder', (ctx) => {
    if (!canMount) return ctx.skip();
    const cwd = tmpfs('ro-cwd', '1m', { ro: true, files: { 'one.yaml': STUDY } });
    const r = bnx(cwd, ['run', 'one.yaml']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain(`bnx: cannot write mlruns: ${cwd} is on a read-only file system`);
    expect(r.stderr).toContain('run bnx from a folder you can write, or pass --tracking-uri to a writable store');
    noStack(r.stderr);
  });

  it('a read-only reports/ folder: the trained run is kept, the report refused with the reason', async (ctx) => {
    if (!canMount) return ctx.skip();
    const cwd = tmpfs('ro-reports', '20m', { files: { 'one.yaml': STUDY } });
    mkdirSync(join(cwd, 'reports'));
    tmpfs('ro-reports/reports', '16k', { ro: true });
    const r = bnx(cwd, ['run', 'one.yaml']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/bnx: cannot write reports\/\.one\.tmp-[^ ]+: reports is on a read-only file system \(ENOENT from mkdir\); bnx writes reports\/<study>\/ in the working folder/);
    noStack(r.stderr);
    const store = new FileStore(join(cwd, 'mlruns'));
    const [exp] = (await store.listExperiments()).filter((e) => e.name === 'one');
    const runs = await store.searchRuns(exp!.experiment_id, {});
    expect(runs.filter((x) => x.data.tags['mlflow.parentRunId']).map((x) => x.info.status)).toEqual(['FINISHED']);
  });

  it('a full disk in the study process (the store cannot take its first records)', (ctx) => {
    if (!canMount) return ctx.skip();
    const cwd = tmpfs('full-parent', '64k', { files: { 'one.yaml': STUDY } });
    const r = bnx(cwd, ['run', 'one.yaml']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/bnx: no space left on the disk.* \(ENOSPC\): free some space, or work on a disk with room/);
    noStack(r.stderr);
  });

  it('a full disk in the training process: the run FAILED with the reason, then the report is refused', (ctx) => {
    if (!canMount) return ctx.skip();
    const cwd = tmpfs('full-child', '600k', { files: { 'one.yaml': STUDY } });
    const r = bnx(cwd, ['run', 'one.yaml', '--jobs', '1']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/: FAILED — no space left on the disk holding mlruns\/.* \(ENOSPC\)/);
    noStack(r.stderr);
  });
});
