/**
 * One planned run, start to finish, in whatever process is given it: load the cached data, train,
 * save the model, export and verify ONNX, and log all of it to the run's MLflow record. Every
 * executor (local child processes, queue workers) calls this and nothing else.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { RunConfig } from '../config/index.js';
import { describeFsError } from '../util/fs-errors.js';
import { BNX_VERSION } from '../util/version.js';
import { runParams } from './run-params.js';
import type { EpochEvent, OnnxFigures, RunJob, RunOutcome } from './job.js';
import { ARTIFACT, BNX_TAG as RUN_TAG, RUN_METRIC, epochMetrics, identityTags, outcomeTags, probeMetrics, statusOfKind, type OutcomeKind } from '../track/index.js';

export interface ExecuteOptions {
  onEpoch?: (e: EpochEvent) => void;
  signal?: AbortSignal;
  log?: (message: string) => void;
}

function note(job: RunJob, status: string, epochs: Record<string, number>[], onnx: OnnxFigures | null, reason?: string): string {
  const last = epochs[epochs.length - 1];
  const lines = [
    `**${job.run.name}** of study \`${job.study}\` — ${status}${reason ? `: ${reason}` : ''}`,
    '',
    `run key \`${job.run.key}\`, seed ${job.run.seed}, variant \`${job.run.variant}\``,
  ];
  if (last) lines.push('', `final test accuracy ${(last.test_accuracy! * 100).toFixed(2)}%, test loss ${last.test_loss!.toFixed(4)} after ${epochs.length} epochs`);
  if (onnx) lines.push('', `ONNX: accuracy ${(onnx.test_accuracy * 100).toFixed(2)}%, max |logit diff| ${onnx.max_abs_diff.toExponential(2)} vs TensorFlow.js`);
  return lines.join('\n');
}

export async function executeRun(job: RunJob, o: ExecuteOptions = {}): Promise<RunOutcome> {
  const log = o.log ?? (() => {});
  const started = performance.now();
  const { openStore } = await import('../track/index.js');
  const { logRunRecord, logEpoch, heartbeat, finishRun, adoptRun } = await import('../track/index.js');
  const store = openStore(job.trackingUri);
  // This process owns the run now: if it dies, the next claim sees its pid gone and retrains.
  await adoptRun(store, job.runId);
  const config: RunConfig = structuredClone(job.run.config);
  const runId = job.runId;
  const work = mkdtempSync(join(tmpdir(), `bnx-${job.run.key}-`));
  const epochs: Record<string, number>[] = [];
  let backendName: string | null = null;
  let onnx: OnnxFigures | null = null;

  const finish = async (kind: Exclude<OutcomeKind, 'died'>, reason?: string): Promise<RunOutcome> => {
    const status = statusOfKind(kind);
    const seconds = (performance.now() - started) / 1000;
    const summary = { key: job.run.key, name: job.run.name, status, reason, backend: backendName, seconds, epochs, onnx };
    try {
      writeFileSync(join(work, ARTIFACT.metrics), `${JSON.stringify(summary, null, 2)}\n`);
      await store.logArtifact(runId, join(work, ARTIFACT.metrics), ARTIFACT.metrics);
      await store.logBatch(runId, { tags: outcomeTags(kind, reason), metrics: [{ key: RUN_METRIC.seconds, value: seconds, timestamp: Date.now(), step: 0 }] });
      await finishRun(store, runId, status, { note: note(job, status, epochs, onnx, reason) });
    } finally {
      // also when the store refuses the last writes: nothing reads this folder once the run ends
      rmSync(work, { recursive: true, force: true });
    }
    return { key: job.run.key, runId, kind, status, reason, backend: backendName, seconds, epochs, onnx };
  };

  try {
    const { loadDataset, prepareData } = await import('../data/index.js');
    const { inputLayout } = await import('../model/index.js');
    const ds = await loadDataset(job.dataset, { log });
    if (job.dataDigest && ds.identity.digest !== job.dataDigest) {
      const planned = `${job.dataSource ? `${job.dataSource}, ` : ''}digest ${job.dataDigest.slice(0, 12)}`;
      return await finish(
        'failed',
        `the dataset changed since the study was planned (here: ${ds.identity.source}, digest ${ds.identity.digest.slice(0, 12)}; planned: ${planned}); run the study again to re-plan`,
      );
    }
    const { initBackend, trainModel } = await import('../train/index.js');
    const backend = await initBackend(job.backend ?? config.train.backend);
    backendName = backend.name;
    // auto falling through to wasm is the normal case without tfjs-node; only an explicit request that
    // could not be honoured deserves a line per run.
    if (backend.fallback_reason && backend.requested !== 'auto') log(`${job.run.name}: ${backend.fallback_reason}`);
    const data = prepareData(ds, config.dataset, inputLayout(config.model).data);

    const params = runParams(job.run);
    await logRunRecord(store, runId, {
      params,
      tags: identityTags({
        runKey: job.run.key,
        variant: job.run.variant,
        seed: job.run.seed,
        matrix: job.run.matrix,
        configSha256: job.configSha256,
        study: job.study,
        backend: backend.name,
        backendRequested: backend.requested,
        bnxVersion: BNX_VERSION,
        host: hostname(),
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        versions: Object.fromEntries(Object.entries(backend.versions ?? {}).map(([k, v]) => [k, String(v)])),
        gitCommit: job.gitCommit,
        sourceName: job.studyFile,
      }),
      dataset: {
        name: ds.identity.name,
        digest: ds.identity.digest.slice(0, 36),
        source_type: 'bnx',
        source: JSON.stringify({ source: ds.identity.source, location: ds.identity.location, approximate_split: ds.identity.approximate_split }),
        profile: JSON.stringify({ train: ds.identity.train_count, test: ds.identity.test_count, digest_sha256: ds.identity.digest }),
        context: 'training',
      },
    });
    writeFileSync(join(work, ARTIFACT.config), toYaml({ key: job.run.key, name: job.run.name, variant: job.run.variant, matrix: job.run.matrix, ...config }));
    await store.logArtifact(runId, join(work, ARTIFACT.config), ARTIFACT.config);

    // Tracking writes are chained so the training loop never waits on I/O between epochs.
    let logging: Promise<void> = Promise.resolve();
    const outcome = await trainModel(config, data, {
      backend,
      signal: o.signal,
      ...(job.probes ? { probes: job.probes } : {}),
      onProbe: (p) => {
        logging = logging.then(() => store.logBatch(runId, { metrics: probeMetrics(p.step, p.values) }));
      },
      onEpoch: (m) => {
        const metrics = epochMetrics(m as unknown as Record<string, number>);
        epochs.push({ epoch: m.epoch, ...metrics, seconds: m.seconds });
        logging = logging.then(async () => {
          await logEpoch(store, runId, m.epoch, metrics);
          await heartbeat(store, runId);
        });
        o.onEpoch?.({ key: job.run.key, epoch: m.epoch, epochs: config.train.epochs, metrics });
      },
    });
    await logging;
    if (outcome.status !== 'FINISHED') {
      outcome.model.dispose();
      return await finish(outcome.status === 'KILLED' ? 'killed' : 'failed', outcome.reason ?? (outcome.status === 'KILLED' ? 'interrupted' : 'training failed'));
    }

    const { saveModelArtifacts } = await import('../model/index.js');
    const tfjsDir = join(work, 'tfjs');
    await saveModelArtifacts(outcome.model, tfjsDir);
    await store.logArtifact(runId, join(tfjsDir, 'model.json'), ARTIFACT.tfjsModel);
    await store.logArtifact(runId, join(tfjsDir, 'weights.bin'), ARTIFACT.tfjsWeights);

    if (job.exportOnnx) {
      const { exportAndVerify } = await import('../export/index.js');
      const result = await exportAndVerify(outcome.model, data, {
        runKey: job.run.key,
        classNames: ds.classNames,
        dataset: config.dataset,
        layout: inputLayout(config.model).onnx,
        outPath: join(work, 'model.onnx'),
      });
      await store.logArtifact(runId, join(work, 'model.onnx'), ARTIFACT.onnx);
      const artifactUri = (await store.getRun(runId)).info.artifact_uri;
      onnx = { path: `${artifactUri.replace(/^file:\/\//, '')}/${ARTIFACT.onnx}`, ...result.figures };
      const now = Date.now();
      await store.logBatch(runId, {
        metrics: [
          { key: RUN_METRIC.onnxTestAccuracy, value: result.figures.test_accuracy, timestamp: now, step: 0 },
          { key: RUN_METRIC.onnxMaxAbsDiff, value: result.figures.max_abs_diff, timestamp: now, step: 0 },
          { key: RUN_METRIC.onnxPredictionAgreement, value: result.figures.prediction_agreement, timestamp: now, step: 0 },
        ],
        tags: { [RUN_TAG.onnxParity]: result.error ? 'FAILED' : 'OK', [RUN_TAG.onnxRuntime]: result.figures.runtime },
      });
      if (result.error) {
        outcome.model.dispose();
        return await finish('failed', `ONNX export is not faithful: ${result.error}`);
      }
    }
    outcome.model.dispose();
    return await finish('finished');
  } catch (err) {
    const reason = explainFailure(err, config);
    log(`${job.run.name}: ${reason}`);
    return await finish('failed', reason);
  }
}

/** A failure's message, with the cause and the fix where the raw one names neither. */
export function explainFailure(err: unknown, config: RunConfig): string {
  const fs = describeFsError(err);
  if (fs) return fs;
  const message = err instanceof Error ? err.message : String(err);
  // V8 and wasm say this when one weight matrix or activation buffer is too large to allocate.
  if (/Invalid typed array length|Array buffer allocation failed|out of memory|Cannot allocate/i.test(message)) {
    const widths = [...(config.model.conv?.filters ?? []), ...config.model.hidden]; // conv is set only on a CNN
    return `the model does not fit in memory (${message}); layer widths ${widths.join(', ')}: use smaller model.hidden${config.model.type === 'cnn' ? ' / model.conv.filters' : ''} or a smaller train.batch_size`;
  }
  return message;
}
