/**
 * Workers log straight to the study's tracking store, so every worker must reach the same store.
 * A queue on another host means workers may run anywhere; then a folder on this machine, or an
 * MLflow server on this machine's loopback address, is a store they cannot see.
 */
import { UserError } from '../util/errors.js';
import { isLoopbackHost, type RedisTarget } from './redis-uri.js';

export function isRemoteTrackingUri(uri: string): boolean {
  return /^https?:\/\//i.test(uri);
}

export function assertTrackingReachable(queue: RedisTarget, trackingUri: string, env: NodeJS.ProcessEnv = process.env): void {
  if (queue.loopback) return;
  if (isRemoteTrackingUri(trackingUri)) {
    const host = new URL(trackingUri).hostname;
    if (!isLoopbackHost(host)) return;
    throw new UserError(`the queue ${queue.display} is on another host, but the tracking server ${trackingUri} is this machine's loopback address: workers elsewhere would log to their own ${host}`, [
      `give the server's network address instead, e.g. --tracking-uri http://<this-host>:5000 (start it with mlflow server --host 0.0.0.0)`,
    ]);
  }
  if (env.BNX_SHARED_STORE === '1') return;
  throw new UserError(`the queue ${queue.display} is on another host, but the tracking store ${trackingUri} is a folder on this machine that workers elsewhere cannot reach`, [
    'use an MLflow server every worker can reach: --tracking-uri http://<host>:5000 (or tracking.uri in the study file)',
    'or, if that folder is on a filesystem mounted at the same path on every worker (NFS, SMB...), set BNX_SHARED_STORE=1',
  ]);
}
