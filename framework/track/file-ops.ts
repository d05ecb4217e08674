/**
 * The file operations behind the file store's crash safety: writes by rename from a temp file in a
 * folder MLflow never lists, folders published by one rename, metric appends that first cut off a
 * torn line, and a lock file for the rare store-wide critical section.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { atomicWriteFile } from '../util/fs.js';
import { pidAlive } from '../util/pid.js';
import { dirname, join } from 'node:path';
import { TrackingError } from './types.js';

/** bnx's temp files and folders: dot-names MLflow's UI and this reader skip. */
export const TEMP_NAME = /^\.bnx-.*\.tmp$/;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Files under `dir`, recursively, as `/`-joined paths relative to it (MLflow's _get_resource_files). */
export function walkFiles(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string, prefix: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (TEMP_NAME.test(e.name)) continue;
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) visit(join(d, e.name), rel);
      else if (e.isFile()) out.push(rel);
    }
  };
  visit(dir, '');
  return out.sort();
}

export function tempName(): string {
  return `.bnx-${process.pid}-${randomBytes(6).toString('hex')}.tmp`;
}

/** Write via a temp file in `tmpDir` (same filesystem; a folder MLflow does not list) and a rename onto `target`. */
export function writeViaTemp(target: string, data: string | Uint8Array, tmpDir: string): void {
  atomicWriteFile(target, data, { tmp: join(tmpDir, tempName()) });
}

/** Append whole lines; first cut off a torn last line a killed writer may have left. */
export function appendMetricLines(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  repairTornTail(path);
  appendFileSync(path, text);
}

export function repairTornTail(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch {
    return;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    if (last[0] === 0x0a) return;
    const chunk = Buffer.alloc(Math.min(size, 64 * 1024));
    readSync(fd, chunk, 0, chunk.length, size - chunk.length);
    const nl = chunk.lastIndexOf(0x0a);
    ftruncateSync(fd, nl < 0 ? Math.max(0, size - chunk.length) : size - chunk.length + nl + 1);
  } finally {
    closeSync(fd);
  }
}

/** Build `<parent>/.tmp/meta.yaml` and rename the folder to `target`; a concurrent identical publish wins harmlessly. */
export function publishFolder(tmpParent: string, target: string, metaYaml: string): void {
  mkdirSync(tmpParent, { recursive: true });
  const tmp = join(tmpParent, tempName());
  mkdirSync(tmp);
  try {
    writeFileSync(join(tmp, 'meta.yaml'), metaYaml);
    mkdirSync(dirname(target), { recursive: true });
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    if (existsSync(join(target, 'meta.yaml'))) return;
    throw err;
  }
}

function lockIsStale(lock: string): boolean {
  try {
    const pid = Number(readFileSync(lock, 'utf8').trim());
    const age = Date.now() - statSync(lock).mtimeMs;
    if (age > 60_000) return true;
    if (!Number.isInteger(pid) || pid <= 0) return age > 2_000;
    return !pidAlive(pid);
  } catch {
    return false;
  }
}

/** Run `fn` holding a lock file (MLflow lists only folders at a store root). A holder that died is detected by pid. */
export async function withLockFile<T>(lock: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (lockIsStale(lock)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new TrackingError('INVALID_STATE', `Timed out waiting for the lock ${lock}; delete it if no bnx process is running`);
      await sleep(25);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}
