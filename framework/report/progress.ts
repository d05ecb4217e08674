/**
 * Live progress of a study in the terminal. On a TTY: a cli-progress multibar with an overall bar
 * and one bar per running run, each with an ETA. Otherwise (CI logs, pipes): one plain line per
 * event, never carriage returns or escape codes.
 *
 * The overall ETA is wall-clock based: elapsed time per completed epoch (across all runs, so parallel
 * workers are accounted for) times the epochs left; runs not started yet are assumed as long as the
 * average started one. Skipped (already finished) runs count as done and cost no time.
 */
import cliProgress from 'cli-progress';
import type { EpochRecord } from './summary.js';
import { count } from '../util/plural.js';

export interface ProgressOptions {
  /** Runs in the study, skipped ones included. */
  total: number;
  /** Bars (true) or plain lines (false); default: whether the stream is a TTY. */
  tty?: boolean;
  /** Where to write; default process.stdout. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

export type EpochMetrics = Partial<Omit<EpochRecord, 'epoch'>>;

export interface Progress {
  /** `number` is the run's 1-based place in the plan (a resumed study keeps the plan's numbering). */
  runStarted(key: string, name: string, epochs: number, number?: number): void;
  epochDone(key: string, epoch: number, metrics: EpochMetrics): void;
  runDone(key: string, status: string): void;
  runSkipped(key: string, number?: number): void;
  /** A line of its own above the bars (bars would draw over a plain write to the stream). */
  log(message: string): void;
  /**
   * Ctrl-C: the bars stop for good and `message` is written below them; later events print plain
   * lines, so nothing is drawn over the message.
   */
  halt(message: string): void;
  stop(): void;
}

/** 75 -> "1m15s", 3700 -> "1h01m". */
export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function metricsText(m: EpochMetrics): string {
  const parts: string[] = [];
  if (m.test_accuracy !== undefined) parts.push(`test_acc ${(m.test_accuracy * 100).toFixed(2)}%`);
  if (m.test_loss !== undefined) parts.push(`test_loss ${m.test_loss.toFixed(4)}`);
  if (m.train_loss !== undefined) parts.push(`train_loss ${m.train_loss.toFixed(4)}`);
  if (m.seconds !== undefined) parts.push(`${m.seconds.toFixed(1)}s`);
  return parts.join(' ');
}

/** Bar labels share one width so the bars line up. */
const LABEL = 30;
const fit = (s: string) => (s.length > LABEL ? `${s.slice(0, LABEL - 1)}…` : s.padEnd(LABEL));

interface RunState {
  index: number;
  name: string;
  epochs: number;
  done: number;
  started: number;
  closed: boolean;
  bar?: cliProgress.SingleBar;
}

export function createProgress(o: ProgressOptions): Progress {
  const stream = o.stream ?? process.stdout;
  const tty = o.tty ?? Boolean(stream.isTTY);
  const now = o.now ?? Date.now;
  const runs = new Map<string, RunState>();
  let counter = 0;
  let finished = 0; // done or skipped
  let epochsDone = 0;
  let firstStart: number | null = null;

  const pad = String(o.total).length;
  const tag = (i: number) => `[run ${String(i).padStart(pad)}/${o.total}]`;
  let halted = false;
  const line = (s: string) => {
    if (tty && !halted) multibar!.log(`${s}\n`);
    else stream.write(`${s}\n`);
  };

  /** Seconds left for the whole study, or null before the first epoch. */
  const eta = (): number | null => {
    if (firstStart === null || epochsDone === 0) return null;
    const perEpoch = (now() - firstStart) / 1000 / epochsDone;
    const started = [...runs.values()];
    const active = started.filter((r) => !r.closed);
    const avgEpochs = started.length ? started.reduce((s, r) => s + r.epochs, 0) / started.length : 0;
    const notStarted = Math.max(0, o.total - finished - active.length);
    const left = active.reduce((s, r) => s + Math.max(0, r.epochs - r.done), 0) + notStarted * avgEpochs;
    return left * perEpoch;
  };

  const multibar = tty
    ? new cliProgress.MultiBar(
        {
          stream: stream as NodeJS.WritableStream,
          clearOnComplete: false,
          hideCursor: true,
          autopadding: true,
          // Render even when the stream does not say it is a TTY but the caller asked for bars.
          noTTYOutput: true,
          format: '{name} |{bar}| {value}/{total} {unit} | {info} | ETA {eta_text}',
          barsize: 24,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const overall = multibar?.create(o.total, 0, { name: fit('study'), unit: 'runs', info: '', eta_text: '--' });
  const refreshOverall = () => {
    if (!halted) overall?.update(finished, { eta_text: formatDuration(eta()) });
  };

  return {
    runStarted(key, name, epochs, number) {
      const now0 = now();
      firstStart ??= now0;
      const r: RunState = { index: number ?? ++counter, name, epochs, done: 0, started: now0, closed: false };
      runs.set(key, r);
      if (multibar && !halted) r.bar = multibar.create(epochs, 0, { name: fit(`${r.index}. ${name}`), unit: 'epochs', info: 'starting', eta_text: '--' });
      else line(`${tag(r.index)} start ${name} (${key}), ${count(epochs, 'epoch')}`);
    },
    epochDone(key, epoch, metrics) {
      const r = runs.get(key);
      if (!r) return;
      r.done = Math.max(r.done, epoch);
      epochsDone++;
      const runEta = ((now() - r.started) / 1000 / r.done) * (r.epochs - r.done);
      if (r.bar && !halted) {
        r.bar.update(r.done, { info: metricsText(metrics), eta_text: formatDuration(runEta) });
        refreshOverall();
      } else {
        const total = eta();
        line(
          `${tag(r.index)} ${r.name} epoch ${epoch}/${r.epochs}: ${metricsText(metrics)} | run ETA ${formatDuration(runEta)}, study ETA ${formatDuration(total)}`,
        );
      }
    },
    runDone(key, status) {
      const r = runs.get(key);
      finished++;
      const secs = r ? (now() - r.started) / 1000 : null;
      if (r) {
        // Unfinished epochs of a failed run are not work left.
        r.closed = true;
        if (r.bar && !halted) {
          multibar!.remove(r.bar);
          r.bar = undefined;
        }
      }
      const label = r ? `${tag(r.index)} ${r.name}` : `[run ?/${o.total}] ${key}`;
      line(`${label} ${status} in ${formatDuration(secs)} (${finished}/${o.total} done, study ETA ${formatDuration(eta())})`);
      refreshOverall();
    },
    runSkipped(key, number) {
      finished++;
      line(`${tag(number ?? ++counter)} ${key} skipped (already finished)`);
      refreshOverall();
    },
    log(message) {
      line(message);
    },
    halt(message) {
      if (tty && !halted) {
        if (multibar?.isActive) multibar.update();
        multibar?.stop();
      }
      halted = true;
      stream.write(`${message}\n`);
    },
    stop() {
      if (halted) return;
      // stop() does not flush lines logged since the last redraw; one redraw does.
      if (multibar?.isActive) multibar.update();
      multibar?.stop();
    },
  };
}
