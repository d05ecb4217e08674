/**
 * Whether a process id on this host still belongs to a live process. A zombie counts as dead: a
 * process killed with its parent lingers as a zombie until init reaps it, which in containers can
 * take seconds, and its runs must be taken over at once (a resumed study, a stale lock).
 */
import { readFileSync } from 'node:fs';

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** Linux only (/proc/PID/stat field 3 after the parenthesised name); elsewhere nothing is a zombie. */
function isZombie(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    // No /proc (macOS, Windows): trust kill(pid, 0). ENOENT on Linux: reaped between the two calls.
    return (err as NodeJS.ErrnoException).code === 'ENOENT' && process.platform === 'linux';
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}
