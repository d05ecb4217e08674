/**
 * Online source: the official `.gz` IDX files, checked against their published MD5 sums. A mirror
 * that fails on any file is abandoned for the next; the error names every mirror and why it failed.
 */
import { createHash } from 'node:crypto';
import cliProgress from 'cli-progress';
import { IDX_FILES, type IdxFileName } from './idx-set.js';

export interface DownloadOptions {
  log: (msg: string) => void;
  /** Give up when no byte arrives for this long (connecting included). */
  timeoutMs?: number;
  /** Draw a progress bar on stderr (default: when stderr is a terminal). */
  progress?: boolean;
}

export class DownloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadError';
  }
}

/** BNX_OFFLINE=1 (or true/yes) skips the network entirely. */
export function offline(): boolean {
  return /^(1|true|yes)$/i.test(process.env.BNX_OFFLINE ?? '');
}

function reason(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return e.message;
  const cause = e.cause?.code ?? e.cause?.message;
  return cause ? `${e.message} (${cause})` : e.message;
}

async function fetchBytes(url: string, timeoutMs: number, onProgress: (got: number, total: number) => void): Promise<Uint8Array> {
  const ctl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => ctl.abort(new DownloadError(`no data for ${timeoutMs / 1000} s`)), timeoutMs);
  };
  arm();
  try {
    const res = await fetch(url, { signal: ctl.signal, redirect: 'follow' });
    if (!res.ok || !res.body) throw new DownloadError(`HTTP ${res.status} ${res.statusText}`);
    const total = Number(res.headers.get('content-length') ?? 0);
    const chunks: Uint8Array[] = [];
    let got = 0;
    const reader = res.body.getReader();
    for (;;) {
      arm();
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      got += value.length;
      onProgress(got, total);
    }
    if (total && got !== total) throw new DownloadError(`got ${got} of ${total} bytes`);
    return Buffer.concat(chunks);
  } catch (err) {
    // An abort rejects with the reason we gave it; anything else is the network's own error.
    throw ctl.signal.aborted && ctl.signal.reason instanceof Error ? ctl.signal.reason : err;
  } finally {
    clearTimeout(timer);
  }
}

function progressBar(progress: boolean | undefined): cliProgress.SingleBar | undefined {
  return (progress ?? process.stderr.isTTY)
    ? new cliProgress.SingleBar(
        { format: '  {file} [{bar}] {percentage}% {value}/{total} KB', hideCursor: true, clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
}

/** One URL with a progress bar (started once the size is known) and the no-data timeout. */
async function fetchWithBar(url: string, label: string, timeoutMs: number, bar: cliProgress.SingleBar | undefined): Promise<Uint8Array> {
  let started = false;
  const bytes = await fetchBytes(url, timeoutMs, (got, total) => {
    if (!bar) return;
    if (!started) {
      bar.start(Math.max(1, Math.round(total / 1024)), 0, { file: label });
      started = true;
    }
    bar.update(Math.round(got / 1024));
  });
  if (started) bar?.stop();
  return bytes;
}

/**
 * Download `<mirror><file>.gz` for the four files, verifying each MD5. Returns the compressed bytes
 * and the mirror that served them; throws DownloadError listing each mirror's failure.
 */
export async function downloadOfficial(
  mirrors: string[],
  md5: Record<IdxFileName, string>,
  opts: DownloadOptions,
): Promise<{ files: Record<IdxFileName, Uint8Array>; mirror: string }> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const failures: string[] = [];
  for (const mirror of mirrors) {
    const bar = progressBar(opts.progress);
    try {
      const files = {} as Record<IdxFileName, Uint8Array>;
      for (const name of IDX_FILES) {
        const url = `${mirror}${name}.gz`;
        opts.log(`downloading ${url}`);
        const bytes = await fetchWithBar(url, `${name}.gz`, timeoutMs, bar);
        const sum = createHash('md5').update(bytes).digest('hex');
        if (sum !== md5[name]) throw new DownloadError(`${name}.gz has MD5 ${sum}, the published sum is ${md5[name]}`);
        files[name] = bytes;
      }
      return { files, mirror };
    } catch (err) {
      bar?.stop();
      failures.push(`${mirror}: ${reason(err)}`);
      opts.log(`mirror ${mirror} failed: ${reason(err)}`);
    }
  }
  throw new DownloadError(`could not download the official files (offline?):\n  ${failures.join('\n  ')}`);
}

export const md5Hex = (bytes: Uint8Array): string => createHash('md5').update(bytes).digest('hex');

/**
 * Download one archive (CIFAR-10) from the first URL that serves it with the published MD5; throws
 * DownloadError listing each URL's failure.
 */
export async function downloadArchive(urls: readonly string[], md5: string, file: string, opts: DownloadOptions): Promise<{ bytes: Uint8Array; url: string }> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const failures: string[] = [];
  for (const url of urls) {
    const bar = progressBar(opts.progress);
    try {
      opts.log(`downloading ${url}`);
      const bytes = await fetchWithBar(url, file, timeoutMs, bar);
      const sum = md5Hex(bytes);
      if (sum !== md5) throw new DownloadError(`${file} has MD5 ${sum}, the published sum is ${md5}`);
      return { bytes, url };
    } catch (err) {
      bar?.stop();
      failures.push(`${url}: ${reason(err)}`);
      opts.log(`${url} failed: ${reason(err)}`);
    }
  }
  throw new DownloadError(`could not download ${file} (offline?):\n  ${failures.join('\n  ')}`);
}
