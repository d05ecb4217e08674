/** `bnx run` and `bnx report`: the edges where a study meets the disk, the store and the terminal. */
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { BackendName } from '../config/index.js';
import { type Claimed, type Executor, JobFeed, type RunJob, type RunOutcome, claimAll, defaultJobs, executeAll, jobsFor, trackingUriFor, waitForOthers, type StudyContext } from '../launch/index.js';
import type { Progress, Summary } from '../report/index.js';
import type { Drainer } from '../track/index.js';
import { EXIT, UserError } from '../util/errors.js';
import { count } from '../util/plural.js';
import { loadStudyChecked, planWithData, resolveDatasetPath } from './study-commands.js';

export interface RunOptions {
  set: string[];
  jobs?: number;
  backend?: BackendName;
  trackingUri?: string;
  force?: boolean;
  queue?: string;
  json?: boolean;
  check?: boolean;
  /** Messages and progress lines (default: stderr, with bars on a TTY). The programmatic API passes its own. */
  log?: (m: string) => void;
  /** The verdict text or JSON (default: stdout). */
  print?: (text: string) => void;
  /** The report once written (the programmatic API returns it). */
  onReport?: (r: WrittenReport) => void;
}

export interface WrittenReport {
  summary: Summary;
  text: string;
  /** Absolute path of reports/<study>/. */
  dir: string;
  /** reports/<study>/index.html, relative to the working directory. */
  reportPath: string;
}

const stderrSay = (m: string): void => {
  process.stderr.write(`${m}\n`);
};
/** A reader that left early (`| head -1`) is not an error: output to it is dropped (see cli/main.ts). */
const stdoutPrint = (t: string): void => {
  if (!process.stdout.destroyed) process.stdout.write(`${t}\n`);
};

/** Ctrl-C during claiming: unwinds to the cleanup that ends the claimed runs. */
class Interrupted extends Error {}

/**
 * Validate, plan (with the data's digest in every key) and open the study's MLflow records. A study
 * trained here (`spool`) into a server writes ahead into the local spool; the drainer copies it.
 */
export async function openContext(
  file: string,
  o: { set: string[]; trackingUri?: string; forWriting: boolean; spool?: boolean; log?: (m: string) => void },
): Promise<StudyContext & { drainer?: Drainer }> {
  const say = o.log ?? stderrSay;
  const study = loadStudyChecked(file, o.set);
  const plan = await planWithData(study, say);
  const { openStoreWithFallback, openSpooledStore, openStoreForReading, openStudy } = await import('../track/index.js');
  const uri = trackingUriFor(study, o.trackingUri);
  const experimentName = study.config.tracking.experiment ?? study.config.name;
  let store;
  let drainer: Drainer | undefined;
  if (o.forWriting && o.spool) ({ store, drainer } = await openSpooledStore(uri, { experimentName, log: say }));
  else store = o.forWriting ? await openStoreWithFallback(uri, say) : await openStoreForReading(uri);
  const { experimentId, parentRunId } = await openStudy(store, {
    experimentName,
    studyName: study.config.name,
    configSha256: plan.configSha256,
    studyYaml: study.text,
    create: o.forWriting,
    markRunning: o.forWriting,
    // `bnx report` of a config whose runs exist under other parents (more seeds, another reference).
    parentOptional: !o.forWriting,
  });
  return { study, plan, store, experimentId, parentRunId, dataset: resolveDatasetPath(study), drainer };
}

export async function runCommand(file: string, o: RunOptions): Promise<number> {
  const say = o.log ?? stderrSay;
  const print = o.print ?? stdoutPrint;
  // Queue workers on other machines write to the tracking URI itself; only local training spools.
  const ctx = await openContext(file, { set: o.set, trackingUri: o.trackingUri, forWriting: true, spool: !o.queue, log: say });
  const drainer = ctx.drainer;
  drainer?.start();
  // The executor first: a refused or unreachable queue must not leave claimed runs RUNNING.
  let executor: Executor;
  if (o.queue) {
    const { QueueExecutor } = await import('../queue/index.js');
    executor = await QueueExecutor.open(o.queue, { study: ctx.plan.study, trackingUri: ctx.store.uri, log: say });
  } else {
    const { LocalExecutor } = await import('../launch/index.js');
    executor = new LocalExecutor(o.jobs ?? defaultJobs());
  }
  // Ctrl-C from here on: stop claiming or training, and leave no run RUNNING or SCHEDULED behind.
  const abort = new AbortController();
  let interrupted = false;
  let progress: Progress | undefined;
  const notice = o.queue
    ? '\ninterrupted: no longer waiting; the queued runs stay with the workers. Run the same command again to follow them and write the report'
    : '\ninterrupted: recording the runs under way as KILLED; run the same command again to resume';
  const onSigint = (): void => {
    // A second Ctrl-C stops the training processes at once instead of after their grace period.
    if (interrupted) return executor.interrupt();
    interrupted = true;
    if (progress) progress.halt(notice);
    else say(notice);
    abort.abort();
    executor.interrupt();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  // Claimed runs not started yet (SCHEDULED); they still need a heartbeat, or another host would take them over.
  const pending = new Set<string>();
  const { keepAlive, finishRun } = await import('../track/index.js');
  const stopKeepAlive = keepAlive(ctx.store, () => [...pending]);
  let outcomes: RunOutcome[] = [];
  let claimed: Claimed | undefined;
  try {
    const distinct = ctx.plan.runs.filter((r) => r.sameAs === undefined).length;
    const { createProgress } = await import('../report/index.js');
    const numbers = new Map(ctx.plan.runs.filter((r) => r.sameAs === undefined).map((r, i) => [r.key, i + 1]));
    const feed = new JobFeed<RunJob>();
    const lanes = o.jobs ?? defaultJobs();
    let lastShown = Date.now();
    const claiming = claimAll(ctx, {
      force: o.force,
      signal: abort.signal,
      // Locally, training starts once the first runs are claimed; the rest are claimed meanwhile.
      // A queue gets the whole plan at once (its workers are elsewhere).
      firstBatch: o.queue ? undefined : 2 * lanes,
      batchSize: o.queue ? undefined : 100,
      onCreated: (id) => pending.add(id),
      onProgress: (done, total) => {
        // A large plan claimed before training takes a while: say how far it got, about once a second.
        if (progress || (done < total && Date.now() - lastShown < 1000)) return;
        if (total >= 200 || Date.now() - lastShown >= 1000) say(`claiming runs: ${done}/${total}`);
        lastShown = Date.now();
      },
      onDecided: (c) => {
        const repeats = ctx.plan.runs.length - distinct;
        say(
          `${ctx.plan.study}: ${count(ctx.plan.runs.length, 'run')} planned` +
            (repeats ? ` (${distinct} distinct: ${repeats} repeat${repeats === 1 ? 's' : ''} an identical config)` : '') +
            `, ${c.skip} already finished, ${c.train} to train` +
            (c.busy ? `, ${c.busy} being trained by another process (waiting for them)` : '') +
            ` -> ${ctx.store.uri}`,
        );
      },
      onBatch: (part) => {
        progress ??= o.log
          ? createProgress({ total: distinct, tty: false, stream: lineStream(o.log) })
          : createProgress({ total: distinct, tty: process.stderr.isTTY === true, stream: process.stderr });
        for (const s of part.skipped) progress.runSkipped(s.run.key, numbers.get(s.run.key));
        feed.push(...jobsFor(ctx, part.toTrain, { backend: o.backend }));
      },
    }).finally(() => feed.close());
    let backendShown = false;
    const executing = executeAll(ctx, executor, feed, {
      started: (job) => progress!.runStarted(job.run.key, job.run.name, job.run.config.train.epochs, numbers.get(job.run.key)),
      epoch: (e) => progress!.epochDone(e.key, e.epoch, e.metrics),
      done: (out) => {
        pending.delete(out.runId);
        progress!.runDone(out.key, out.status);
        if (!backendShown && out.backend) {
          backendShown = true;
          if (out.backend !== 'tensorflow' && out.backend !== 'tensorflow-gpu') {
            progress!.log(`backend: ${out.backend} (install @tensorflow/tfjs-node for native speed: npm install @tensorflow/tfjs-node)`);
          }
        }
        if (out.status !== 'FINISHED' && !interrupted) progress!.log(`${out.key}: ${out.status}${out.reason ? ` — ${out.reason}` : ''}`);
      },
      log: (m) => (progress ? progress.log(m) : say(m)),
    });
    // Training goes on while the rest is claimed; a claiming error is raised once the runs under way end.
    const [claimedResult, executed] = await Promise.allSettled([claiming, executing]);
    if (claimedResult.status === 'rejected') throw claimedResult.reason;
    if (executed.status === 'rejected') throw executed.reason;
    claimed = claimedResult.value;
    outcomes = executed.value;
    if (interrupted) throw new Interrupted();
    const bar = progress ?? createProgress({ total: distinct, tty: false, stream: lineStream(say) });
    if (claimed.busy.length && !interrupted) {
      const owners = [...new Set(claimed.busy.map((b) => b.record.data.tags['bnx.owner'] ?? 'unknown'))].join(', ');
      bar.log(`waiting for ${count(claimed.busy.length, 'run')} another process is training (${owners}); Ctrl-C stops waiting, not them`);
      const w = await waitForOthers(ctx, claimed.busy, { signal: abort.signal });
      if (w.abandoned.length) bar.log(`${count(w.abandoned.length, 'run')} lost their process meanwhile; run the same command again to train them`);
    }
  } catch (err) {
    if (!(err instanceof Interrupted)) throw err;
  } finally {
    stopKeepAlive();
    await executor.close?.();
    progress?.stop();
    // Interrupted, the handlers stay until the claimed runs are closed: another Ctrl-C meanwhile
    // must not kill bnx by default and leave them SCHEDULED.
    if (!interrupted) {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
  }
  if (interrupted) {
    try {
      if (!o.queue) {
        // Claimed runs that never started would otherwise sit SCHEDULED until a later claim finds their owner gone.
        for (const id of pending) await finishRun(ctx.store, id, 'KILLED', { note: 'interrupted before it started' });
        await finishRun(ctx.store, ctx.parentRunId, 'KILLED');
      }
      // The server should not show KILLED runs as RUNNING; one quick copy, no waiting.
      await drainer?.finish({ waitMs: 0 });
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
    return 130;
  }

  const failed = outcomes.filter((x) => x.status !== 'FINISHED');
  let written;
  try {
    await finishRun(ctx.store, ctx.parentRunId, failed.length ? 'FAILED' : 'FINISHED');
    written = await writeStudyReport(ctx);
    const { logSummaryMetrics } = await import('../launch/index.js');
    await logSummaryMetrics(ctx.store, ctx.parentRunId, written.summary);
  } finally {
    // Whatever happened above, the server gets what the spool holds (or the command to upload it).
    if (drainer) {
      const { finalWaitMs } = await import('../track/index.js');
      await drainer.finish({ waitMs: finalWaitMs() });
    }
  }
  o.onReport?.(written);
  print(o.json ? JSON.stringify(written.summary, null, 2) : written.text);
  if (failed.length) say(failureSummary(failed, outcomes.length, written.reportPath));
  const checked = o.check ? checkClaims(written.summary, say) : EXIT.ok;
  return failed.length ? EXIT.failed : checked;
}

/**
 * `--check`: a refuted claim fails the command (exit 1), so a study's claims can guard a paper's
 * numbers in CI. Inconclusive claims pass: too few seeds is not evidence against a claim.
 */
export function checkClaims(summary: Summary, say: (m: string) => void = stderrSay): number {
  const claims = summary.claims ?? [];
  if (!claims.length) {
    say('check: the study states no hypotheses; nothing to check');
    return EXIT.ok;
  }
  const refuted = claims.filter((c) => c.verdict === 'refuted');
  const counts = (['supported', 'inconclusive', 'refuted'] as const).map((v) => `${claims.filter((c) => c.verdict === v).length} ${v}`).join(', ');
  if (!refuted.length) {
    say(`check: passed (${counts})`);
    return EXIT.ok;
  }
  say(`check: FAILED, ${refuted.length} of ${claims.length} claim${claims.length === 1 ? '' : 's'} refuted (${counts}): ${refuted.map((c) => c.name).join(', ')}`);
  return EXIT.failed;
}

export async function reportCommand(file: string, o: { set: string[]; trackingUri?: string; json?: boolean; check?: boolean }): Promise<number> {
  const ctx = await openContext(file, { set: o.set, trackingUri: o.trackingUri, forWriting: false });
  const written = await writeStudyReport(ctx);
  if (o.json) process.stdout.write(`${JSON.stringify(written.summary, null, 2)}\n`);
  else process.stdout.write(`${written.text}\n`);
  return o.check ? checkClaims(written.summary) : EXIT.ok;
}

/** The failures of a study in a few lines: how many, and each distinct reason once (with its runs). */
export function failureSummary(failed: { key: string; status: string; reason?: string }[], total: number, reportPath: string): string {
  const byReason = new Map<string, string[]>();
  for (const f of failed) {
    // Numbers (steps, losses) differ between runs that failed for the same reason.
    const reason = `${f.status}: ${(f.reason ?? 'no reason recorded').replace(/step \d+/, 'step N')}`;
    byReason.set(reason, [...(byReason.get(reason) ?? []), f.key]);
  }
  const lines = [`${failed.length} of ${count(total, 'run')} did not finish${failed.length === total ? ' (none finished)' : ''}; the report lists each: ${reportPath}`];
  for (const [reason, keys] of byReason) lines.push(`  ${count(keys.length, 'run')} ${reason}`);
  return lines.join('\n');
}

/** Reads every planned run back from the store and writes reports/<study>/. */
export async function writeStudyReport(ctx: StudyContext): Promise<WrittenReport> {
  const { collectStudy } = await import('../launch/index.js');
  const { buildSummary, writeReport, verdictLines } = await import('../report/index.js');
  const input = await collectStudy(ctx);
  // A study whose runs all failed still gets a report: it is where the reasons are.
  if (!input.study.runs.some((r) => r.status !== 'PLANNED')) {
    throw new UserError(`${ctx.plan.study}: no runs in ${ctx.store.uri} yet; run \`bnx run ${ctx.study.file}\` first`);
  }
  const summary = buildSummary(input.study);
  const outDir = resolve('reports', ctx.plan.study);
  const res = await writeReport(summary, { outDir, demo: input.demo });
  const { logReport } = await import('../launch/index.js');
  await logReport(ctx, res.dir, res.files);
  const reportPath = join('reports', ctx.plan.study, 'index.html');
  return { summary, dir: res.dir, text: [...verdictLines(summary), `report: ${reportPath}`].join('\n'), reportPath };
}

/** A writable that hands each line to `log` (progress lines for a caller-supplied logger). */
function lineStream(log: (m: string) => void): NodeJS.WritableStream {
  let buf = '';
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      buf += chunk.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        log(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
      done();
    },
  });
}
