/**
 * One quick PING before BullMQ takes over: BullMQ retries a dead Redis forever, which would leave
 * `bnx run --queue` or `bnx worker` hanging silently on a typo'd host.
 */
import { Redis } from 'ioredis';
import { UserError } from '../util/errors.js';
import { connectionOptions, type RedisTarget } from './redis-uri.js';

export async function pingRedis(t: RedisTarget, timeoutMs = 5000): Promise<void> {
  const client = new Redis({
    ...connectionOptions(t, { blocking: false }),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  // connect() rejects with a bare "Connection is closed"; the cause (WRONGPASS, ECONNREFUSED...)
  // arrives as an error event first.
  let cause = '';
  client.on('error', (err: Error) => {
    cause ||= err.message;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    const why = (cause || (err as Error).message).split(t.password ?? '\u0000').join('***');
    const auth = /NOAUTH|WRONGPASS|invalid password|AUTH/i.test(why);
    throw new UserError(`cannot use the Redis queue at ${t.display}: ${why}`, [
      auth
        ? 'give the password in the URI (redis://:PASSWORD@host:port) or in REDIS_PASSWORD (and REDIS_USERNAME for an ACL user)'
        : `is redis-server running there? start one with: redis-server --port ${t.port}`,
    ]);
  } finally {
    client.disconnect();
  }
}
