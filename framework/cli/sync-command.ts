/** `bnx sync`: upload a local file store to an MLflow server (or any store to any other), idempotently. */
import { existsSync } from 'node:fs';
import { EXIT, UserError } from '../util/errors.js';
import { DEFAULT_TRACKING_URI, FileStore, openStore, syncStore, TrackingConnectionError, type SyncReport } from '../track/index.js';

export async function syncCommand(o: { from?: string; to: string; json?: boolean; experiment?: string }): Promise<number> {
  const say = (m: string) => process.stderr.write(`${m}\n`);
  const from = openStore(o.from ?? DEFAULT_TRACKING_URI);
  const to = openStore(o.to);
  if (from instanceof FileStore && !existsSync(from.root)) {
    throw new UserError(`Nothing to sync: there is no MLflow file store at ${from.root}`, ['pass the folder bnx logged to with --from (default ./mlruns)']);
  }
  if (from.uri === to.uri) throw new UserError(`--from and --to are the same store (${from.uri})`);
  let report: SyncReport;
  try {
    report = await syncStore(from, to, { experimentName: o.experiment, log: o.json ? undefined : say });
  } catch (err) {
    if (err instanceof TrackingConnectionError) {
      say(`bnx sync: ${err.message}`);
      say('nothing is lost: run the same command again when the server is reachable (sync is idempotent)');
      return EXIT.failed;
    }
    throw err;
  }
  if (o.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const runs = report.experiments.reduce((n, e) => n + e.runs, 0);
    process.stdout.write(
      `synced ${runs} runs in ${report.experiments.length} experiment${report.experiments.length === 1 ? '' : 's'} from ${report.from} to ${report.to}: ` +
        `${report.created} new, ${report.updated} updated, ${report.unchanged} already there, ${report.merged} merged with existing runs ` +
        `(${report.metric_points} metric points, ${report.artifacts} artifacts uploaded)\n`,
    );
    for (const c of report.conflicts) say(`warning: ${c}`);
  }
  return EXIT.ok;
}
