/**
 * Stopping a training process. A process busy in synchronous math (a long kernel, a spin) cannot run
 * its signal handlers, so a polite signal alone may never be obeyed: after a grace period it is
 * killed. Every executor stops its children through here, so Ctrl-C always ends a study in seconds.
 */
import type { ChildProcess } from 'node:child_process';

/** Seconds a training process gets to record its run KILLED after SIGINT/SIGTERM. */
export const STOP_GRACE_MS = 5000;

/** Send `signal`; SIGKILL the process if it has not exited after `graceMs`. Resolves on exit. */
export function stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs = STOP_GRACE_MS): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}
