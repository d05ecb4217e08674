/**
 * The real `bnx` command started as a user starts it, for tests that watch or signal it while it
 * runs: tracking goes to ./mlruns of `cwd` whatever the developer's environment says.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../framework/util/paths.js';

export const BIN = join(PACKAGE_ROOT, 'dist/framework/cli/main.js');

export interface BnxProcess {
  proc: ChildProcess;
  /** All it wrote to stderr so far. */
  stderr(): string;
  /** Its exit code (null when a signal ended it). */
  exited: Promise<number | null>;
}

export function startBnx(cwd: string, args: string[]): BnxProcess {
  const proc = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, MLFLOW_TRACKING_URI: '' } });
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, stderr: () => err, exited };
}

/** The pids of a process's children (its training processes), from ps. */
export function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split('\n').map((s) => Number(s.trim())).filter((n) => n > 0);
  } catch {
    return [];
  }
}
