/**
 * The local executor: a pool of `--jobs` child processes (wasm TensorFlow.js is single-threaded, so
 * one process per core is how a study uses the machine). Each process trains one run at a time;
 * results are identical to a serial run because every random draw comes from the run's seed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Executor, ExecutorEvents } from './executor.js';
import type { JobFeed } from './job-feed.js';
import { diedOutcome, type EpochEvent, type RunJob, type RunOutcome } from './job.js';
import { STOP_GRACE_MS, stopChild } from './stop-child.js';

export type ParentMessage = { type: 'run'; job: RunJob } | { type: 'stop' };
export type ChildMessage =
  | { type: 'ready'; pid: number }
  | { type: 'epoch'; event: EpochEvent }
  | { type: 'log'; message: string }
  | { type: 'done'; outcome: RunOutcome };

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));

export class LocalExecutor implements Executor {
  private children = new Set<ChildProcess>();
  private interrupted = false;

  constructor(private readonly jobs: number) {}

  /** First call: SIGINT, and SIGKILL after a grace period for a process that cannot react. Again: SIGKILL now. */
  interrupt(): void {
    const grace = this.interrupted ? 0 : STOP_GRACE_MS;
    this.interrupted = true;
    for (const c of this.children) void stopChild(c, 'SIGINT', grace);
  }

  async execute(feed: JobFeed<RunJob>, events: ExecutorEvents): Promise<RunOutcome[]> {
    const outcomes: RunOutcome[] = [];
    await Promise.all(Array.from({ length: this.jobs }, () => this.lane(feed, outcomes, events)));
    return outcomes;
  }

  /**
   * One child process draining the shared feed, forked when its first job arrives (a lane with no
   * job never starts a process). A child that dies fails its run and is replaced for the next.
   */
  private async lane(feed: JobFeed<RunJob>, outcomes: RunOutcome[], events: ExecutorEvents): Promise<void> {
    let child: ChildProcess | undefined;
    try {
      for (let job = await feed.next(); job !== undefined && !this.interrupted; job = await feed.next()) {
        if (!child) {
          child = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
          this.children.add(child);
        }
        events.started?.(job);
        const outcome = await this.runOn(child, job, events);
        outcomes.push(outcome);
        events.done?.(outcome);
        // A dead process cannot take the next run: a fresh one is forked for it.
        if (outcome.kind === 'died' || outcome.kind === 'stopped') {
          await this.release(child);
          child = undefined;
        }
      }
    } finally {
      if (child) await this.release(child);
    }
  }

  private async release(child: ChildProcess): Promise<void> {
    this.children.delete(child);
    if (child.connected) child.send({ type: 'stop' } satisfies ParentMessage);
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
  }

  private runOn(child: ChildProcess, job: RunJob, events: ExecutorEvents): Promise<RunOutcome> {
    return new Promise((resolve) => {
      const onMessage = (m: ChildMessage): void => {
        if (m.type === 'epoch') events.epoch?.(m.event);
        else if (m.type === 'log') events.log?.(m.message);
        else if (m.type === 'done') {
          cleanup();
          resolve(m.outcome);
        }
      };
      const onExit = (code: number | null, signal: string | null): void => {
        cleanup();
        // Killed because it did not stop when interrupted (SIGKILL), or interrupted before it had
        // installed its handlers (a fresh process dies of SIGINT): the run was interrupted, not broken.
        const stopped = this.interrupted && (signal === 'SIGKILL' || signal === 'SIGINT' || signal === 'SIGTERM');
        resolve(
          stopped
            ? diedOutcome(
                job,
                signal === 'SIGKILL' ? `training process killed: it did not stop within ${STOP_GRACE_MS / 1000} s of the interrupt` : 'interrupted while its training process was starting',
                'stopped',
              )
            : diedOutcome(job, `training process died (${signal ?? `exit code ${code}`})`),
        );
      };
      const cleanup = (): void => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.send({ type: 'run', job } satisfies ParentMessage);
    });
  }
}
