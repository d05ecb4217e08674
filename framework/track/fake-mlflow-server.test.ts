/**
 * The fake server must answer like the real MLflow 2.12 server did: every recorded exchange is sent
 * to it in order, and the status and body must equal the recording. The REST client's tests run
 * against this fake, so this is what ties them to the real server's behaviour.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeMlflowServer, parseFilter, recordedExchanges } from './fake-mlflow-server.js';

const exchanges = recordedExchanges();

describe('fake MLflow server replays the recorded MLflow 2.12 exchanges', () => {
  const fake = new FakeMlflowServer({ now: () => 1795531740459, runIds: ['de4f2ce0a98c4482894b752996b751ce', '300344f5296e41c9824079f97ee40c97'] });
  beforeAll(async () => {
    await fake.start();
  });
  afterAll(async () => {
    await fake.stop();
  });

  it('has the 32 recorded exchanges, with 400 and 404 cases', () => {
    expect(exchanges).toHaveLength(32);
    expect(exchanges.filter((e) => e.status === 400).length).toBeGreaterThanOrEqual(8);
    expect(exchanges.filter((e) => e.status === 404).length).toBe(3);
  });

  it('answers every exchange with the recorded status and body', async () => {
    for (const ex of exchanges) {
      const init: RequestInit = { method: ex.method };
      if (ex.method === 'PUT') init.body = new Uint8Array([0x08, 0x08, 0x12, 0x00]);
      else if (ex.request !== null) {
        init.body = JSON.stringify(ex.request);
        init.headers = { 'Content-Type': 'application/json' };
      }
      const res = await fetch(fake.url + ex.path, init);
      const body = (await res.json()) as unknown;
      expect({ name: ex.name, status: res.status, body }).toEqual({ name: ex.name, status: ex.status, body: ex.response });
    }
  });

  it('parses the recorded filters, backticked or not', () => {
    expect(parseFilter("tags.mlflow.parentRunId = 'de4f'")).toEqual([{ kind: 'tags', key: 'mlflow.parentRunId', op: '=', value: 'de4f' }]);
    expect(parseFilter("metrics.test_accuracy > 0.5 and params.`model.norm` = 'batch'")).toEqual([
      { kind: 'metrics', key: 'test_accuracy', op: '>', value: 0.5 },
      { kind: 'params', key: 'model.norm', op: '=', value: 'batch' },
    ]);
  });
});
