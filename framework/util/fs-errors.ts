/**
 * The machine said no: a full disk, a read-only or unwritable folder, a path too long. These reach
 * the user as one sentence naming the path, the cause and the fix, never as a stack trace.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, relative } from 'node:path';

type ErrnoError = NodeJS.ErrnoException & { path?: string; dest?: string };

const WRITE_CALLS = new Set(['mkdir', 'open', 'write', 'rename', 'copyfile', 'cp', 'symlink', 'link', 'unlink', 'rmdir', 'rm', 'utime', 'chmod', 'close']);

/** What to do about a folder bnx cannot write: reports/ is always beside the working folder. */
function fix(path: string | undefined): string {
  const rel = path ? relative(process.cwd(), path) : '';
  return rel === 'reports' || rel.startsWith('reports/')
    ? 'bnx writes reports/<study>/ in the working folder: run it from a folder you can write'
    : 'run bnx from a folder you can write, or pass --tracking-uri to a writable store';
}

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

/** Why a folder cannot be written: a read-only file system, no permission, or it does not exist. */
function whyUnwritable(path: string): string {
  let dir = path;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const code = (err as ErrnoError).code;
    if (code === 'EROFS') return `${shown(dir)} is on a read-only file system`;
    if (code === 'EACCES' || code === 'EPERM') return `${shown(dir)} is not writable by this user`;
  }
  return `${shown(dir)} cannot hold it`;
}

/** A sentence for a file-system error, or undefined when `err` is not one bnx can explain. */
export function describeFsError(err: unknown): string | undefined {
  const e = err as ErrnoError;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string') return undefined;
  // copyFile names its source as `path` and its target as `dest`: the target is what could not be written.
  const target = e.dest ?? e.path;
  const path = target ? shown(target) : 'a file';
  switch (e.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `no space left on the disk${target ? ` holding ${path}` : ''} (${e.code}): free some space, or work on a disk with room (another folder, --tracking-uri), then run the same command again; finished runs are kept`;
    case 'EROFS':
      return `cannot write ${path}: read-only file system (EROFS); ${fix(target)}`;
    case 'EACCES':
    case 'EPERM':
      return `cannot write ${path}: permission denied (${e.code}); ${fix(target)}`;
    case 'ENAMETOOLONG':
      return `path too long: ${path} (ENAMETOOLONG); use shorter study and variant names, or a shorter working folder`;
    case 'ENOENT':
      // A write into a folder that could not be made (mkdir on a read-only mount says ENOENT).
      if (target && e.syscall && WRITE_CALLS.has(e.syscall)) {
        return `cannot write ${path}: ${whyUnwritable(dirname(target))} (ENOENT from ${e.syscall}); ${fix(target)}`;
      }
      return undefined;
    default:
      return undefined;
  }
}
