/**
 * `--queue redis://[user:pass@]host:port[/db]` parsed into connection options, with credentials
 * that never reach a log line: everything printed goes through `display`.
 */
import { UserError } from '../util/errors.js';

export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** The URI with any password replaced by `***`: the only form bnx prints. */
  display: string;
  /** 127.0.0.0/8, ::1 or localhost: only processes on this machine can reach the queue. */
  loopback: boolean;
}

const HINT = 'expected redis://[user:password@]host[:port][/db], e.g. redis://127.0.0.1:6379';

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Replace the password (or a lone user, which Redis treats as a password) in any redis URI. */
export function redactRedisUri(uri: string): string {
  return uri.replace(/^(rediss?:\/\/)([^@/]*)@/i, (_m, scheme: string, auth: string) => {
    const colon = auth.indexOf(':');
    return colon > 0 ? `${scheme}${auth.slice(0, colon)}:***@` : `${scheme}***@`;
  });
}

/**
 * Credentials come from the URI first, then REDIS_USERNAME / REDIS_PASSWORD, so a password need not
 * sit in shell history or in `ps` output.
 */
export function parseRedisUri(uri: string, env: NodeJS.ProcessEnv = process.env): RedisTarget {
  const shown = redactRedisUri(uri);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new UserError(`--queue ${shown}: not a Redis URI; ${HINT}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new UserError(`--queue ${shown}: unsupported scheme '${url.protocol.replace(/:$/, '')}'; ${HINT} (rediss:// for TLS)`);
  }
  if (!url.hostname) throw new UserError(`--queue ${shown}: no host; ${HINT}`);
  const port = url.port ? Number(url.port) : 6379;
  const dbText = url.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d+$/.test(dbText)) throw new UserError(`--queue ${shown}: database '${dbText}' is not a number; ${HINT}`);
  if (url.search || url.hash) throw new UserError(`--queue ${shown}: query strings and fragments are not supported; ${HINT}`);
  const db = dbText === '' ? 0 : Number(dbText);

  // redis://:pass@host (password only) and redis://user:pass@host (ACL user) are both common.
  let username = url.username ? decodeURIComponent(url.username) : undefined;
  let password = url.password ? decodeURIComponent(url.password) : undefined;
  if (username && password === undefined && !uri.includes(`${url.username}:`)) {
    // redis://secret@host: Redis clients read a lone userinfo as the password.
    password = username;
    username = undefined;
  }
  username ??= env.REDIS_USERNAME || undefined;
  password ??= env.REDIS_PASSWORD || undefined;

  const host = url.hostname.replace(/^\[|\]$/g, '');
  return {
    host,
    port,
    db,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    tls: url.protocol === 'rediss:',
    display: `${url.protocol}//${url.username || url.password ? (url.password ? `${url.username}:***@` : '***@') : ''}${url.host}${db ? `/${db}` : ''}`,
    loopback: isLoopbackHost(host),
  };
}

/** Options for ioredis / BullMQ. `blocking` connections must retry forever (BullMQ requires it). */
export function connectionOptions(t: RedisTarget, o: { blocking: boolean }) {
  return {
    host: t.host,
    port: t.port,
    db: t.db,
    ...(t.username ? { username: t.username } : {}),
    ...(t.password ? { password: t.password } : {}),
    ...(t.tls ? { tls: {} } : {}),
    ...(o.blocking ? { maxRetriesPerRequest: null } : {}),
  };
}
