/**
 * `bnx ui [STUDY] [--tracking-uri U]`: the study's file store in MLflow's own web UI, when MLflow is
 * installed (bnx itself needs no Python). MLflow 3.x reads a file store only when
 * MLFLOW_ALLOW_FILE_STORE=true (its default store is a sqlite mlflow.db), 2.x reads it as is; both
 * take `mlflow ui --backend-store-uri`. Without MLflow it says how to get it and where the offline
 * report is.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_TRACKING_URI } from '../track/index.js';
import { EXIT, UserError } from '../util/errors.js';

export interface UiOptions {
  trackingUri?: string;
  host: string;
  port: number;
}

/** `mlflow --version` prints `mlflow, version 2.12.1` (2.x and 3.x alike). */
export function mlflowVersion(env: NodeJS.ProcessEnv = process.env): { version: string; major: number } | null {
  const r = spawnSync('mlflow', ['--version'], { encoding: 'utf8', env, timeout: 60_000 });
  if (r.error || r.status !== 0) return null;
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(`${r.stdout} ${r.stderr}`);
  return m ? { version: m[0], major: Number(m[1]) } : null;
}

/** The command line and environment that serve a file store in MLflow `major`'s UI. */
export function mlflowUiCommand(storeDir: string, major: number, o: { host: string; port: number }): { args: string[]; env: Record<string, string> } {
  return {
    args: ['ui', '--backend-store-uri', pathToFileURL(storeDir).href, '--host', o.host, '--port', String(o.port)],
    env: major >= 3 ? { MLFLOW_ALLOW_FILE_STORE: 'true' } : {},
  };
}

export async function uiCommand(file: string | undefined, o: UiOptions): Promise<number> {
  const say = (m: string) => process.stderr.write(`${m}\n`);
  let uri = o.trackingUri ?? (process.env.MLFLOW_TRACKING_URI || undefined);
  let reportHint = 'bnx report STUDY.yaml writes reports/<study>/index.html, which opens offline';
  if (file) {
    const { loadStudy } = await import('../config/index.js');
    const { trackingUriFor } = await import('../launch/index.js');
    const study = loadStudy(file, { set: [] });
    uri = trackingUriFor(study, o.trackingUri);
    const page = join('reports', study.config.name, 'index.html');
    reportHint = existsSync(page) ? `the offline report: ${page}` : `bnx report ${file} writes ${page}, which opens offline`;
  }
  uri ??= DEFAULT_TRACKING_URI;
  if (/^https?:\/\//i.test(uri)) {
    // A tracking server serves the UI itself.
    process.stdout.write(`${uri} is an MLflow server: its UI is at ${uri} (open it in a browser)\n`);
    return EXIT.ok;
  }
  const dir = resolve(uri.startsWith('file:') ? new URL(uri).pathname : uri);
  if (!existsSync(dir)) {
    throw new UserError(`No MLflow file store at ${relative(process.cwd(), dir) || dir}`, ['run a study first (bnx run STUDY.yaml), or pass --tracking-uri with the folder it logged to']);
  }
  const mlflow = mlflowVersion();
  if (!mlflow) {
    say('MLflow is not installed here (no `mlflow` command on PATH), so bnx cannot open its UI.');
    say('  get it with: pip install mlflow   (or: pipx install mlflow), then run bnx ui again');
    say(`  meanwhile, ${reportHint}`);
    return EXIT.failed;
  }
  const { args, env } = mlflowUiCommand(dir, mlflow.major, o);
  say(`MLflow ${mlflow.version}: serving ${relative(process.cwd(), dir) || dir} at http://${o.host}:${o.port} (Ctrl-C to stop)`);
  const child = spawn('mlflow', args, { stdio: 'inherit', env: { ...process.env, ...env } });
  // Ctrl-C reaches the whole process group: MLflow stops on its own, bnx waits for it.
  const ignore = (): void => {};
  process.on('SIGINT', ignore);
  try {
    return await new Promise<number>((done) => {
      child.on('error', (err) => {
        say(`could not start mlflow: ${err.message}`);
        done(EXIT.failed);
      });
      child.on('exit', (code, signal) => done(signal === 'SIGINT' ? 130 : code === 0 ? EXIT.ok : EXIT.failed));
    });
  } finally {
    process.off('SIGINT', ignore);
  }
}
