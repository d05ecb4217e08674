/**
 * Tracking URIs a user can get wrong, through the real CLI: each ends with exit 2, one clear message
 * (no stack trace), and nothing written — no store created by a read-only command, no folder named `s3:`.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../util/paths.js';

const BIN = join(PACKAGE_ROOT, 'dist/framework/cli/main.js');

function bnx(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, MLFLOW_TRACKING_URI: '' }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A port nothing listens on: bound by us, then released. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const noStack = (stderr: string) => expect(stderr).not.toMatch(/\n\s+at |TypeError|TrackingConnectionError/);

describe('tracking URIs', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'bnx-uri-'));
  writeFileSync(join(cwd, 's.yaml'), 'name: s\ndataset: { name: fashion-mnist, subset: { train: 100, test: 50 } }\ntrain: { epochs: 1 }\n');

  it('http:// without a host is a message, not TypeError: Invalid URL', () => {
    for (const cmd of ['report', 'run']) {
      const r = bnx(cwd, [cmd, 's.yaml', '--tracking-uri', 'http://']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain("tracking URI 'http://' is not a server address: an MLflow server URI is http(s)://HOST[:PORT], e.g. http://127.0.0.1:5000");
      noStack(r.stderr);
    }
  });

  it('refuses unknown schemes instead of making folders named s3: or ftp:', () => {
    for (const uri of ['s3://bucket/runs', 'ftp://host/runs']) {
      for (const cmd of ['run', 'report']) {
        const r = bnx(cwd, [cmd, 's.yaml', '--tracking-uri', uri]);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(`Unsupported tracking URI '${uri}'`);
        noStack(r.stderr);
      }
      const e = bnx(cwd, ['export', '0123456789abcdef', '--tracking-uri', uri]);
      expect(e.code).toBe(2);
    }
    expect(readdirSync(cwd)).toEqual(['s.yaml']);
  });

  it('report and export never create a store where none exists', () => {
    const r = bnx(cwd, ['report', 's.yaml', '--tracking-uri', './newstore']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no MLflow store at ${join(cwd, 'newstore')}: nothing has been tracked there`);
    const e = bnx(cwd, ['export', '0123456789abcdef']);
    expect(e.code).toBe(2);
    expect(e.stderr).toContain(`no MLflow store at ${join(cwd, 'mlruns')}`);
    expect(readdirSync(cwd)).toEqual(['s.yaml']);
  });

  it('an unreachable server fails report and export after one probe, with what to do', async () => {
    const uri = `http://127.0.0.1:${await closedPort()}`;
    for (const args of [['report', 's.yaml'], ['export', '0123456789abcdef']]) {
      const r = bnx(cwd, [...args, '--tracking-uri', uri]);
      expect(r.code, r.stderr).toBe(2);
      // One attempt, not six with backoff (the old path took about 18 s).
      expect(r.stderr).toMatch(new RegExp(`^MLflow server ${uri} is unreachable \\(.*\\) after 1 attempt\\n {2}start the server`));
      noStack(r.stderr);
    }
    expect(readdirSync(cwd)).toEqual(['s.yaml']);
  });
});
