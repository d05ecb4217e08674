/**
 * One planned run, start to finish, in whatever process is given it: load the cached data, train,
 * save the model, export and verify ONNX, and log all of it to the run's MLflow record. Every
 * executor (local child processes, queue workers) calls this and nothing else.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { matrixValueText } from '../config/resolve.js';
import type { RunConfig } from '../config/schema.js';
import { describeFsError } from '../util/fs-errors.js';
import { BNX_VERSION } from '../util/version.js';
import type { EpochEvent, OnnxFigures, RunJob, RunOutcome } from './job.js';

export interface ExecuteOptions {
  onEpoch?: (e: EpochEvent) => void;
  signal?: AbortSignal;
  log?: (message: string) => void;
}

const EPOCH_METRICS = ['train_loss', 'train_accuracy', 'test_loss', 'test_accuracy', 'val_loss', 'val_accuracy', 'lr'] as const;

/** The metrics logged per epoch (step = epoch); `seconds` is logged as epoch_seconds. */
export function epochMetrics(m: Record<string, number | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of EPOCH_METRICS) if (typeof m[k] === 'number') out[k] = m[k]!;
  if (typeof m.seconds === 'number') out.epoch_seconds = m.seconds;
  return out;
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
  const { logRunRecord, logEpoch, heartbeat, finishRun, flattenParams, adoptRun } = await import('../track/index.js');
  const store = openStore(job.trackingUri);
  // This process owns the run now: if it dies, the next claim sees its pid gone and retrains.
  await adoptRun(store, job.runId);
  const config: RunConfig = structuredClone(job.run.config);
  const runId = job.runId;
  const work = mkdtempSync(join(tmpdir(), `bnx-${job.run.key}-`));
  const epochs: Record<string, number>[] = [];
  let backendName: string | null = null;
  let onnx: OnnxFigures | null = null;

  const finish = async (status: RunOutcome['status'], reason?: string): Promise<RunOutcome> => {
    const seconds = (performance.now() - started) / 1000;
    const summary = { key: job.run.key, name: job.run.name, status, reason, backend: backendName, seconds, epochs, onnx };
    writeFileSync(join(work, 'metrics.json'), `${JSON.stringify(summary, null, 2)}\n`);
    await store.logArtifact(runId, join(work, 'metrics.json'), 'metrics.json');
    if (reason) await store.setTag(runId, 'bnx.failure_reason', reason.slice(0, 4000));
    await store.logBatch(runId, { metrics: [{ key: 'run_seconds', value: seconds, timestamp: Date.now(), step: 0 }] });
    await finishRun(store, runId, status, { note: note(job, status, epochs, onnx, reason) });
    rmSync(work, { recursive: true, force: true });
    return { key: job.run.key, runId, status, reason, backend: backendName, seconds, epochs, onnx };
  };

  try {
    const { loadDataset, prepareData } = await import('../data/index.js');
    const ds = await loadDataset(job.dataset, { log });
    if (job.dataDigest && ds.identity.digest !== job.dataDigest) {
      return await finish('FAILED', `the dataset changed since the study was planned (digest ${ds.identity.digest.slice(0, 12)}, planned ${job.dataDigest.slice(0, 12)}); run the study again to re-plan`);
    }
    const { initBackend, trainModel } = await import('../train/index.js');
    const backend = await initBackend(job.backend ?? config.train.backend);
    backendName = backend.name;
    // auto falling through to wasm is the normal case without tfjs-node; only an explicit request that
    // could not be honoured deserves a line per run.
    if (backend.fallback_reason && backend.requested !== 'auto') log(`${job.run.name}: ${backend.fallback_reason}`);
    const data = prepareData(ds, config.dataset, config.model.type === 'cnn' ? 'image' : 'flat');

    const params: Record<string, string> = {
      ...flattenParams({ dataset: config.dataset, model: config.model, train: config.train }),
      seed: String(job.run.seed),
      variant: job.run.variant,
      ...Object.fromEntries(Object.entries(job.run.matrix).map(([k, v]) => [`matrix.${k}`, matrixValueText(v)])),
    };
    const versions = Object.entries(backend.versions ?? {}).map(([k, v]) => [`bnx.version.${k}`, String(v)]);
    await logRunRecord(store, runId, {
      params,
      tags: {
        'bnx.run_key': job.run.key,
        'bnx.variant': job.run.variant,
        'bnx.seed': String(job.run.seed),
        'bnx.matrix': JSON.stringify(job.run.matrix),
        'bnx.config_sha256': job.configSha256,
        'bnx.study': job.study,
        'bnx.backend': backend.name,
        'bnx.backend_requested': backend.requested,
        'bnx.version': BNX_VERSION,
        'bnx.host': hostname(),
        'bnx.cpu': cpus()[0]?.model ?? 'unknown',
        'bnx.cores': String(cpus().length),
        ...Object.fromEntries(versions),
        ...(job.gitCommit ? { 'mlflow.source.git.commit': job.gitCommit } : {}),
        'mlflow.source.name': job.studyFile,
      },
      dataset: {
        name: ds.identity.name,
        digest: ds.identity.digest.slice(0, 36),
        source_type: 'bnx',
        source: JSON.stringify({ source: ds.identity.source, location: ds.identity.location, approximate_split: ds.identity.approximate_split }),
        profile: JSON.stringify({ train: ds.identity.train_count, test: ds.identity.test_count, digest_sha256: ds.identity.digest }),
        context: 'training',
      },
    });
    writeFileSync(join(work, 'config.yaml'), toYaml({ key: job.run.key, name: job.run.name, variant: job.run.variant, matrix: job.run.matrix, ...config }));
    await store.logArtifact(runId, join(work, 'config.yaml'), 'config.yaml');

    // Tracking writes are chained so the training loop never waits on I/O between epochs.
    let logging: Promise<void> = Promise.resolve();
    const outcome = await trainModel(config, data, {
      backend,
      signal: o.signal,
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
      return await finish(outcome.status, outcome.reason ?? (outcome.status === 'KILLED' ? 'interrupted' : 'training failed'));
    }

    const { saveModelArtifacts } = await import('../model/index.js');
    const tfjsDir = join(work, 'tfjs');
    await saveModelArtifacts(outcome.model, tfjsDir);
    await store.logArtifact(runId, join(tfjsDir, 'model.json'), 'model/tfjs/model.json');
    await store.logArtifact(runId, join(tfjsDir, 'weights.bin'), 'model/tfjs/weights.bin');

    if (job.exportOnnx) {
      const { exportAndVerify } = await import('../export/index.js');
      const result = await exportAndVerify(outcome.model, data, {
        runKey: job.run.key,
        classNames: ds.classNames,
        dataset: config.dataset,
        layout: config.model.type === 'cnn' ? 'nhwc' : 'flat',
        outPath: join(work, 'model.onnx'),
      });
      await store.logArtifact(runId, join(work, 'model.onnx'), 'model/model.onnx');
      const artifactUri = (await store.getRun(runId)).info.artifact_uri;
      onnx = { path: `${artifactUri.replace(/^file:\/\//, '')}/model/model.onnx`, ...result.figures };
      const now = Date.now();
      await store.logBatch(runId, {
        metrics: [
          { key: 'onnx_test_accuracy', value: result.figures.test_accuracy, timestamp: now, step: 0 },
          { key: 'onnx_max_abs_diff', value: result.figures.max_abs_diff, timestamp: now, step: 0 },
          { key: 'onnx_prediction_agreement', value: result.figures.prediction_agreement, timestamp: now, step: 0 },
        ],
        tags: { 'bnx.onnx.parity': result.error ? 'FAILED' : 'OK', 'bnx.onnx.runtime': result.figures.runtime },
      });
      if (result.error) {
        outcome.model.dispose();
        return await finish('FAILED', `ONNX export is not faithful: ${result.error}`);
      }
    }
    outcome.model.dispose();
    return await finish('FINISHED');
  } catch (err) {
    const reason = explainFailure(err, config);
    log(`${job.run.name}: ${reason}`);
    return await finish('FAILED', reason);
  }
}

/** A failure's message, with the cause and the fix where the raw one names neither. */
export function explainFailure(err: unknown, config: RunConfig): string {
  const fs = describeFsError(err);
  if (fs) return fs;
  const message = err instanceof Error ? err.message : String(err);
  // V8 and wasm say this when one weight matrix or activation buffer is too large to allocate.
  if (/Invalid typed array length|Array buffer allocation failed|out of memory|Cannot allocate/i.test(message)) {
    const widths = config.model.type === 'cnn' ? [...config.model.conv.filters, ...config.model.hidden] : config.model.hidden;
    return `the model does not fit in memory (${message}); layer widths ${widths.join(', ')}: use smaller model.hidden${config.model.type === 'cnn' ? ' / model.conv.filters' : ''} or a smaller train.batch_size`;
  }
  return message;
}
