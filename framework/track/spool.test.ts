/**
 * The drainer copies a spooled study to a server as it changes, says once that the server went
 * away and once that it came back, and carries every status across once a run has started (a SCHEDULED run is copied when it starts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FakeMlflowServer } from './fake-mlflow-server.js';
import { FileStore } from './file-store.js';
import { openSpooledStore } from './open.js';
import { RestStore } from './rest-store.js';
import { Drainer } from './spool.js';
import { claimRun, logEpoch, openStudy } from './index.js';
import type { RunStatus } from './types.js';

async function serverRunStatus(server: FakeMlflowServer, runName: string): Promise<string | undefined> {
  return [...server.runs.values()].find((r) => r.info.run_name === runName)?.info.status;
}

describe('spool drainer', () => {
  it('copies a run once it starts, then every status change (RUNNING -> FINISHED), and reports an outage once, and the recovery once', async () => {
    const server = new FakeMlflowServer();
    const url = await server.start();
    const port = Number(new URL(url).port);
    const spool = new FileStore(mkdtempSync(join(tmpdir(), 'bnx-spool-')));
    const s = await openStudy(spool, { experimentName: 'sp', studyName: 'sp', configSha256: 'c0ffee', studyYaml: 'name: sp\n' });
    const claim = (await claimRun(spool, s, { runKey: 'k1', runName: 'a/seed=1' })) as { runId: string };
    await spool.updateRun(claim.runId, 'SCHEDULED');
    const messages: string[] = [];
    const remote = new RestStore(url, { env: {}, maxRetries: 0, log: () => {} });
    const drainer = new Drainer({ spool, remote, experimentName: 'sp', log: (m) => messages.push(m), everyMs: 60_000 });

    const step = async (status: RunStatus) => {
      await spool.updateRun(claim.runId, status, status === 'FINISHED' ? 1234 : undefined);
      expect(await drainer.drain({ full: false })).toBe(true);
      expect(await serverRunStatus(server, 'a/seed=1')).toBe(status);
    };
    // SCHEDULED: waiting for a process, not copied yet (its start time moves when it starts).
    await spool.updateRun(claim.runId, 'SCHEDULED');
    await drainer.drain({ full: false });
    expect(await serverRunStatus(server, 'a/seed=1')).toBeUndefined();
    await step('RUNNING');
    await logEpoch(spool, claim.runId, 1, { test_accuracy: 0.5 });
    expect(await drainer.drain({ full: false })).toBe(true);

    await server.stop();
    await logEpoch(spool, claim.runId, 2, { test_accuracy: 0.6 });
    expect(await drainer.drain({ full: false })).toBe(false);
    expect(await drainer.drain({ full: false })).toBe(false);
    expect(messages.filter((m) => /unreachable since .* 2 runs spooled to .*, will retry/.test(m))).toHaveLength(1);
    expect(drainer.down).toBe(true);

    await server.start(port);
    await step('FINISHED');
    expect(messages.filter((m) => /reachable again after/.test(m))).toHaveLength(1);
    const copy = [...server.runs.values()].find((r) => r.info.run_name === 'a/seed=1')!;
    expect(copy.metrics.get('test_accuracy')!.map((p) => [p.step, p.value])).toEqual([
      [1, 0.5],
      [2, 0.6],
    ]);
    expect(copy.info.end_time).toBe(1234);
    // Nothing new: a background drain does not even look at the server.
    const before = server.log.length;
    expect(await drainer.drain({ full: false })).toBe(true);
    expect(server.log.length).toBe(before);
    await server.stop();
  });

  it('refuses to train against a server that rejects the credentials, naming them', async () => {
    const server = new FakeMlflowServer({ auth: 'Basic right' });
    const url = await server.start();
    const err = await openSpooledStore(url, {
      experimentName: 'sp',
      log: () => {},
      env: { MLFLOW_TRACKING_USERNAME: 'alice', MLFLOW_TRACKING_PASSWORD: 'wrong' },
      spoolDir: mkdtempSync(join(tmpdir(), 'bnx-spool-')),
    }).catch((e: Error) => e);
    expect(String((err as Error).message)).toMatch(/the server rejected the credentials \(MLFLOW_TRACKING_USERNAME=alice and MLFLOW_TRACKING_PASSWORD\)/);
    expect(String((err as Error).message)).not.toMatch(/wrong/);
    expect((err as unknown as { details: string[] }).details.join(' ')).not.toMatch(/set MLFLOW_TRACKING_USERNAME/);
    await server.stop();
  });

  it('says once when a server it talks to directly starts failing, and once when it answers again', async () => {
    let failing = 2;
    const server = new FakeMlflowServer({ intercept: () => (failing-- > 0 ? { status: 503 } : undefined) });
    const url = await server.start();
    const messages: string[] = [];
    const store = new RestStore(url, { env: {}, backoffMs: 5, log: (m) => messages.push(m) });
    await store.getOrCreateExperiment('x');
    expect(messages).toHaveLength(2);
    expect(messages[0]).toMatch(/HTTP 503 .*; retrying \(up to 5 times/);
    expect(messages[1]).toMatch(/answers again \(after [\d.]+ s of retries\)/);
    await server.stop();
  });
});
