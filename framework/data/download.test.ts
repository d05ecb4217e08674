/**
 * The online path against a real local HTTP server: mirrors that refuse, 404, serve wrong bytes or
 * stall, and one that serves valid gzipped IDX files with matching MD5 sums.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN } from './catalog.js';
import { DownloadError, downloadOfficial, offline } from './download.js';
import { IDX_FILES, makeSet, setDigest, setFiles, type IdxFileName } from './idx-set.js';
import { loadBuiltin } from './load.js';

const tmp = mkdtempSync(join(tmpdir(), 'bnx-download-'));
const set = makeSet(
  28,
  28,
  { images: new Uint8Array(30 * 784).map((_, k) => k % 251), labels: new Uint8Array(30).map((_, i) => i % 10) },
  { images: new Uint8Array(10 * 784).map((_, k) => (k * 3) % 256), labels: new Uint8Array(10).map((_, i) => i) },
);
const gz = Object.fromEntries(setFiles(set).map(([f, a]) => [`${f}.gz`, gzipSync(a.raw)])) as Record<string, Buffer>;
const md5 = Object.fromEntries(IDX_FILES.map((f) => [f, createHash('md5').update(gz[`${f}.gz`]!).digest('hex')])) as Record<IdxFileName, string>;

let server: Server;
let base = '';
let closedBase = '';
const hits: string[] = [];
const savedOffline = process.env.BNX_OFFLINE;

beforeAll(async () => {
  delete process.env.BNX_OFFLINE;
  server = createServer((req, res) => {
    hits.push(req.url!);
    const [, mirror, file] = req.url!.split('/');
    const body = gz[file!];
    if (!body || mirror === 'missing') return void res.writeHead(404, 'Not Found').end();
    if (mirror === 'stall') return void res.writeHead(200, { 'content-length': String(body.length) }).write(body.subarray(0, 10));
    if (mirror === 'wrong') return void res.writeHead(200).end(Buffer.concat([body, Buffer.from([0])]));
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  closedBase = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise((r) => closed.close(r));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(tmp, { recursive: true, force: true });
  if (savedOffline !== undefined) process.env.BNX_OFFLINE = savedOffline;
});

/** How long a mirror may send nothing before it counts as stalled. */
const STALL_MS = 5000;

describe('official download', () => {
  it('skips failing mirrors (refused, 404, wrong MD5, stalled) and takes the first good one', async () => {
    const logs: string[] = [];
    const mirrors = [`${closedBase}/`, `${base}/missing/`, `${base}/wrong/`, `${base}/stall/`, `${base}/good/`];
    // The stalled mirror never answers and is left by the stall timeout. The timeout is generous:
    // on a busy machine even a refused connection or a local answer can take a second to arrive.
    const got = await downloadOfficial(mirrors, md5, { log: (m) => logs.push(m), timeoutMs: STALL_MS, progress: false });
    expect(got.mirror).toBe(`${base}/good/`);
    for (const f of IDX_FILES) expect(Buffer.from(got.files[f]).equals(gz[`${f}.gz`]!)).toBe(true);
    const failures = logs.filter((l) => l.startsWith('mirror '));
    expect(failures).toHaveLength(4);
    expect(failures[0]).toMatch(/^mirror http:\/\/127\.0\.0\.1:\d+\/ failed: fetch failed \(ECONNREFUSED\)$/);
    expect(failures[1]).toMatch(/\/missing\/ failed: HTTP 404 Not Found$/);
    expect(failures[2]).toBe(`mirror ${base}/wrong/ failed: train-images-idx3-ubyte.gz has MD5 ${createHash('md5').update(Buffer.concat([gz['train-images-idx3-ubyte.gz']!, Buffer.from([0])])).digest('hex')}, the published sum is ${md5['train-images-idx3-ubyte']}`);
    expect(failures[3]).toBe(`mirror ${base}/stall/ failed: no data for ${STALL_MS / 1000} s`);
  });

  it('fails with every mirror and its reason when none works', async () => {
    const err = await downloadOfficial([`${closedBase}/`, `${base}/missing/`], md5, { log: () => {}, timeoutMs: STALL_MS, progress: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as Error).message).toMatch(/^could not download the official files \(offline\?\):\n {2}http:\/\/127\.0\.0\.1:\d+\/: fetch failed \(ECONNREFUSED\)\n {2}http:.*\/missing\/: HTTP 404 Not Found$/);
  });

  it('fills the cache from a mirror (source official, exact split), then serves it from the cache', async () => {
    expect(offline()).toBe(false);
    const ds = { ...BUILTIN.mnist, mirrors: [`${closedBase}/`, `${base}/good/`], md5, official: { train: 30, test: 10 } };
    const logs: string[] = [];
    const first = await loadBuiltin(ds, { dataDir: tmp, log: (m) => logs.push(m), progress: false });
    expect(first.loadedFrom).toBe('official');
    expect(first.identity).toMatchObject({ name: 'mnist', source: 'official', approximate_split: false, train_count: 30, test_count: 10, digest: setDigest(set) });
    expect(logs).toContain(`mnist: downloaded the official files from ${base}/good/ (MD5 verified)`);
    const before = hits.length;
    const second = await loadBuiltin(ds, { dataDir: tmp });
    expect(second.loadedFrom).toBe('cache');
    expect(hits.length).toBe(before); // no network on a cache hit
    expect(second.identity.digest).toBe(first.identity.digest);
  });

  it('BNX_OFFLINE=1 never touches the network', async () => {
    process.env.BNX_OFFLINE = '1';
    try {
      const before = hits.length;
      const ds = { ...BUILTIN.mnist, mirrors: [`${base}/good/`], md5 };
      const got = await loadBuiltin(ds, { dataDir: join(tmp, 'offline'), progress: false });
      expect(got.loadedFrom).toBe('npm');
      expect(hits.length).toBe(before);
    } finally {
      delete process.env.BNX_OFFLINE;
    }
  });
});
