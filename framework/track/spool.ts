/**
 * Write-ahead tracking for a study logged to an MLflow server: every run is written first to a local
 * file store (the spool, in MLflow's own layout), and a drainer copies the study's experiment to the
 * server with syncStore, in the background and at the end. Training never waits on the server and
 * cannot fail because of it; a server that goes away only delays the copy. `bnx sync` is the manual
 * form of the same copy, so a study that ends while the server is still away is uploaded later with
 * exactly the same code.
 */
import { syncStore, type SyncReport } from './sync.js';
import { TrackingConnectionError, type Run, type TrackingStore } from './types.js';

export interface DrainerOptions {
  /** The local file store the study writes to. */
  spool: TrackingStore;
  /** The MLflow server the study belongs on. */
  remote: TrackingStore;
  /** Only this experiment (the study's) is copied: the spool folder may hold others. */
  experimentName: string;
  log: (message: string) => void;
  /** Pause between background drains (default BNX_SYNC_INTERVAL seconds, else 10 s). */
  everyMs?: number;
  env?: NodeJS.ProcessEnv;
  /** The server was already found away (and said so) at this time. */
  downSince?: number;
}

function envSeconds(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n * 1000 : undefined;
}

/** How long `bnx run` waits at the end for a server that is away (BNX_SYNC_WAIT seconds, default 60). */
export function finalWaitMs(env: NodeJS.ProcessEnv = process.env): number {
  return envSeconds(env, 'BNX_SYNC_WAIT') ?? 60_000;
}

const clock = (t: number): string => new Date(t).toISOString().slice(11, 19) + ' UTC';
const seconds = (ms: number): string => (ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${(ms / 60_000).toFixed(1)} min`);

/** A cheap fingerprint of what a run holds, to skip unchanged runs in background drains. */
function fingerprint(r: Run): string {
  return JSON.stringify([r.info.status, r.info.end_time, r.data.params, r.data.tags, r.data.metrics, r.inputs ?? []]);
}

export class Drainer {
  readonly everyMs: number;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  /** Fingerprints of the spool's runs as of the last successful copy. */
  private copied = new Map<string, string>();
  private downSince: number | null = null;
  private lastReport: SyncReport | null = null;
  private stopped = false;

  constructor(private readonly o: DrainerOptions) {
    this.everyMs = o.everyMs ?? envSeconds(o.env ?? process.env, 'BNX_SYNC_INTERVAL') ?? 10_000;
    this.downSince = o.downSince ?? null;
  }

  /** Is the server known to be away right now? */
  get down(): boolean {
    return this.downSince !== null;
  }

  get report(): SyncReport | null {
    return this.lastReport;
  }

  /** Background drains every `everyMs` until stop(); never throws. */
  start(): void {
    if (this.timer || this.stopped) return;
    const tick = (): void => {
      this.timer = setTimeout(() => {
        void this.drain({ full: false }).finally(() => {
          if (!this.stopped) tick();
        });
      }, this.everyMs);
      this.timer.unref();
    };
    tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async spooledRuns(): Promise<Run[]> {
    const exp = (await this.o.spool.listExperiments()).find((e) => e.name === this.o.experimentName);
    return exp ? this.o.spool.searchRuns(exp.experiment_id) : [];
  }

  /**
   * One copy of the study's experiment to the server, serialized with any other. `full: false`
   * skips when nothing changed since the last copy. Resolves true when the server holds everything
   * the spool held at the start; a server that cannot be reached resolves false (and says so once).
   */
  drain(o: { full: boolean }): Promise<boolean> {
    const next = this.chain.then(() => this.drainOnce(o));
    this.chain = next.catch(() => {});
    return next;
  }

  private async drainOnce(o: { full: boolean }): Promise<boolean> {
    let runs: Run[];
    try {
      runs = await this.spooledRuns();
    } catch (err) {
      this.o.log(`tracking spool ${this.o.spool.uri}: could not be read (${(err as Error).message})`);
      return false;
    }
    const now = new Map(runs.map((r) => [r.info.run_id, fingerprint(r)]));
    if (!o.full && !this.down && runs.every((r) => this.copied.get(r.info.run_id) === now.get(r.info.run_id))) return true;
    try {
      this.lastReport = await syncStore(this.o.spool, this.o.remote, { experimentName: this.o.experimentName });
    } catch (err) {
      if (!(err instanceof TrackingConnectionError)) {
        // A refusal (401/403, a 400 on some record) will not heal by waiting: say it every time.
        this.o.log(`tracking server ${this.o.remote.uri} refused the copy: ${(err as Error).message}; the runs stay in ${this.o.spool.uri}`);
        return false;
      }
      if (this.downSince === null) {
        this.downSince = Date.now();
        this.o.log(
          `tracking server ${this.o.remote.uri} unreachable since ${clock(this.downSince)} (${err.reason}); ` +
            `${runs.length} run${runs.length === 1 ? '' : 's'} spooled to ${this.o.spool.uri}, will retry every ${seconds(this.everyMs)}; training goes on`,
        );
      }
      return false;
    }
    if (this.downSince !== null) {
      this.o.log(`tracking server ${this.o.remote.uri} reachable again after ${seconds(Date.now() - this.downSince)}: ${runs.length} spooled run${runs.length === 1 ? '' : 's'} copied`);
      this.downSince = null;
    }
    this.copied = now;
    return true;
  }

  /**
   * The last copy: full, retried until it succeeds or `waitMs` has passed. Resolves true when the
   * server holds the whole study; false leaves it in the spool, with the command that uploads it.
   */
  async finish(o: { waitMs: number }): Promise<boolean> {
    this.stop();
    const deadline = Date.now() + o.waitMs;
    let said = false;
    for (;;) {
      if (await this.drain({ full: true })) return true;
      if (Date.now() >= deadline) break;
      if (!said) {
        said = true;
        this.o.log(`waiting up to ${seconds(deadline - Date.now())} for tracking server ${this.o.remote.uri} (the runs are safe in ${this.o.spool.uri})`);
      }
      await new Promise((r) => setTimeout(r, Math.min(this.everyMs, Math.max(0, deadline - Date.now()))));
    }
    this.o.log(
      `tracking server ${this.o.remote.uri} is still unreachable; the study is complete in ${this.o.spool.uri}. ` +
        `Upload it when the server is back: bnx sync --from ${this.o.spool.uri} --to ${this.o.remote.uri} --experiment ${this.o.experimentName}`,
    );
    return false;
  }
}
