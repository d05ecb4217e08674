/**
 * From a tracking URI to a store: `http(s)://` is an MLflow server, anything else (a folder, a
 * `file:` URI) is MLflow's file store. With no URI: MLFLOW_TRACKING_URI, else `./mlruns`.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/errors.js';
import { FileStore } from './file-store.js';
import { RestStore, type RestOptions } from './rest-store.js';
import { TrackingConnectionError, type TrackingStore } from './types.js';
import { Drainer } from './spool.js';

export const DEFAULT_STORE_DIR = 'mlruns';
/** Where runs go when neither a flag, MLFLOW_TRACKING_URI nor the study names a store. */
export const DEFAULT_TRACKING_URI = `./${DEFAULT_STORE_DIR}`;

export function openStore(uri?: string, o: RestOptions = {}): TrackingStore {
  const u = (uri ?? (o.env ?? process.env).MLFLOW_TRACKING_URI ?? '').trim() || DEFAULT_TRACKING_URI;
  if (/^https?:/i.test(u)) return new RestStore(checkedHttpUri(u), o);
  if (u.startsWith('file:')) return new FileStore(u.startsWith('file://') ? fileURLToPath(u) : resolve(decodeURIComponent(u.slice('file:'.length))));
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(u);
  // One-letter "schemes" are Windows drive letters.
  if (scheme && scheme[1]!.length > 1) {
    throw new UserError(`Unsupported tracking URI '${u}': bnx logs to an MLflow file store (a folder or file: URI) or an MLflow server (http:// or https://)`, [
      `for a database store, start a server in front of it: mlflow server --backend-store-uri ${u} --port 5000`,
      'then pass --tracking-uri http://127.0.0.1:5000 (or set tracking.uri / MLFLOW_TRACKING_URI)',
    ]);
  }
  return new FileStore(u);
}

/** An http(s) URI with a host, or a message saying how to write one (not `TypeError: Invalid URL`). */
function checkedHttpUri(u: string): string {
  let url: URL | undefined;
  try {
    url = new URL(u);
  } catch {
    url = undefined;
  }
  if (!url || !url.hostname || !/^https?:\/\//i.test(u)) {
    throw new UserError(`tracking URI '${u}' is not a server address: an MLflow server URI is http(s)://HOST[:PORT], e.g. http://127.0.0.1:5000`, [
      'or give a folder for a local file store, e.g. --tracking-uri ./mlruns',
    ]);
  }
  return u;
}

/**
 * The store a read-only command (report, export) reads from. Reading never writes: a folder that
 * does not exist is not created, and a server that does not answer is reported at once (one short
 * probe), not after a long series of retries.
 */
export async function openStoreForReading(uri: string | undefined, o: RestOptions & { probeTimeoutMs?: number } = {}): Promise<TrackingStore> {
  const store = openStore(uri, o);
  if (store instanceof FileStore) {
    if (!existsSync(store.root)) {
      throw new UserError(`no MLflow store at ${store.root}: nothing has been tracked there`, [
        'run the study first (bnx run STUDY.yaml), or pass --tracking-uri (or MLFLOW_TRACKING_URI) where its runs are',
      ]);
    }
    return store;
  }
  if (store instanceof RestStore) {
    try {
      await store.probe({ maxRetries: 0, timeoutMs: o.probeTimeoutMs ?? 5000 });
    } catch (err) {
      if (!(err instanceof TrackingConnectionError)) throw err;
      throw new UserError(err.message, [
        'start the server (mlflow server --port PORT), check the address, or read a local store with --tracking-uri ./mlruns',
      ]);
    }
  }
  return store;
}

/**
 * Open the store a study logs to. A server that cannot be reached (connection refused, timeout,
 * 5xx) does not stop the study: it logs to ./mlruns instead, says so loudly, and says how to upload
 * later. Auth failures (401/403) are raised: falling back would hide a configuration mistake.
 */
export async function openStoreWithFallback(
  uri: string | undefined,
  log: (message: string) => void,
  o: RestOptions & { fallbackDir?: string; probeRetries?: number; probeTimeoutMs?: number } = {},
): Promise<TrackingStore> {
  const store = openStore(uri, o);
  if (!(store instanceof RestStore)) return store;
  try {
    await store.probe({ maxRetries: o.probeRetries ?? 2, timeoutMs: o.probeTimeoutMs ?? 5000 });
    return store;
  } catch (err) {
    if (!(err instanceof TrackingConnectionError)) throw err;
    const local = new FileStore(resolve(o.fallbackDir ?? DEFAULT_STORE_DIR));
    const bar = '!'.repeat(78);
    log(
      [
        bar,
        `!! MLflow server ${store.uri} is unreachable: ${err.message}`,
        `!! This study logs to the local file store ${local.root} instead.`,
        `!! Upload it when the server is back:  bnx sync --from ${local.root} --to ${store.uri}`,
        bar,
      ].join('\n'),
    );
    return local;
  }
}

/** Where a study logged to a server spools its runs (BNX_SPOOL_DIR, else ./mlruns, which `bnx sync` reads by default). */
export function spoolDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.BNX_SPOOL_DIR?.trim() || DEFAULT_STORE_DIR);
}

export interface SpooledStore {
  /** Where the study writes: the spool for a server, else the file store itself. */
  store: TrackingStore;
  /** For a server: copies the study's experiment from the spool to it (call start(), then finish()). */
  drainer?: Drainer;
}

/**
 * Open the store a study trains into. A file store is used as it is. For a server, the study is
 * written ahead into the local spool and copied to the server by a Drainer, so training never
 * depends on the server being up. The server is probed once: credentials it refuses (401/403) stop
 * the study before anything trains; a server that is away is announced once, and training goes on.
 */
export async function openSpooledStore(
  uri: string | undefined,
  o: RestOptions & { experimentName: string; log: (message: string) => void; spoolDir?: string; probeRetries?: number; probeTimeoutMs?: number },
): Promise<SpooledStore> {
  const target = openStore(uri, o);
  if (!(target instanceof RestStore)) return { store: target };
  const env = o.env ?? process.env;
  const spool = new FileStore(o.spoolDir ?? spoolDir(env));
  // The drainer retries on its own schedule and reports outages once; its requests fail fast.
  const remote = new RestStore(target.uri, { ...o, maxRetries: o.maxRetries ?? 1, timeoutMs: o.timeoutMs ?? 30_000, log: () => {} });
  let downSince: number | undefined;
  try {
    await target.probe({ maxRetries: o.probeRetries ?? 1, timeoutMs: o.probeTimeoutMs ?? 5000 });
  } catch (err) {
    if (!(err instanceof TrackingConnectionError)) throw err;
    downSince = Date.now();
    o.log(
      `tracking server ${target.uri} unreachable since ${new Date(downSince).toISOString().slice(11, 19)} UTC (${err.reason}); ` +
        `the study is spooled to ${spool.root} and copied to the server when it answers (bnx sync does the same by hand)`,
    );
  }
  return { store: spool, drainer: new Drainer({ spool, remote, experimentName: o.experimentName, log: o.log, env, downSince }) };
}
