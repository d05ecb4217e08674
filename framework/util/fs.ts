import { copyFileSync, mkdirSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Where the temp file goes; default: a hidden name beside the target (same filesystem, so the rename is atomic). */
export interface AtomicOptions {
  /** Full temp path (must be on the target's filesystem). */
  tmp?: string;
}

/** The one write-then-rename: fill a temp file, rename it onto `path`; on failure remove the temp. */
function replaceVia(path: string, o: AtomicOptions, fill: (tmp: string) => void): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = o.tmp ?? join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    fill(tmp);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Write a file so that readers see the old content or the new, never a torn one: a crash or
 * SIGKILL mid-write leaves at most a stray temp file.
 */
export function atomicWriteFile(path: string, data: string | Uint8Array, o: AtomicOptions = {}): void {
  replaceVia(path, o, (tmp) => writeFileSync(tmp, data));
}

/** Copy `src` onto `path` with the same guarantee as atomicWriteFile. */
export function atomicCopyFile(src: string, path: string, o: AtomicOptions = {}): void {
  replaceVia(path, o, (tmp) => copyFileSync(src, tmp));
}
