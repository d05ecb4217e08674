/** `bnx worker --queue URI [--concurrency N]`: the terminal edge of queue/worker.ts. */
import { EXIT } from '../util/errors.js';
import { startWorker, type StartWorkerOptions } from '../queue/index.js';

const say = (m: string): void => {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);
};

/**
 * Runs until stopped. Ctrl-C once: take no new runs, finish the ones under way, exit 0. Ctrl-C
 * again, or SIGTERM (what `docker stop` and systemd send): stop training now, record the runs
 * KILLED and hand their jobs back to the queue for another worker, exit 0. One more signal
 * exits at once (130), for when Redis is gone and nothing can be handed back.
 */
export async function workerCommand(o: { queue: string; concurrency?: number } & Pick<StartWorkerOptions, 'trainer' | 'ledger'>): Promise<number> {
  const worker = await startWorker({ ...o, log: say });
  // 0 running, 1 finishing the runs under way, 2 handing them back; a signal beyond that exits at once.
  let stage = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stage === 0 && signal === 'SIGINT') {
      stage = 1;
      say('finishing the run(s) under way, then exiting; press Ctrl-C again to stop now and hand them back to the queue');
      void worker.close();
    } else if (stage < 2) {
      stage = 2;
      say('stopping now: the runs under way are recorded KILLED and handed back to the queue (Ctrl-C again to quit at once)');
      void worker.stopNow();
    } else {
      // Redis unreachable, say: nothing can be handed back. The runs' locks expire and other
      // workers take them over.
      say('quitting at once; runs under way go back to the queue when their locks expire');
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await worker.closed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  say('worker stopped');
  return EXIT.ok;
}
