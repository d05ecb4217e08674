/** `bnx export RUN_KEY`: rebuild a stored run's model from its MLflow artifacts and export it to ONNX again. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { RunConfig } from '../config/index.js';
import { ARTIFACT, BNX_TAG, type Run, type TrackingStore } from '../track/index.js';
import { EXIT, UserError } from '../util/errors.js';

async function findRun(store: TrackingStore, keyOrId: string): Promise<Run> {
  const found: Run[] = [];
  for (const exp of await store.listExperiments()) {
    found.push(...(await store.searchRuns(exp.experiment_id, { tags: { [BNX_TAG.runKey]: keyOrId } })));
  }
  if (!found.length && /^[0-9a-f]{32}$/.test(keyOrId)) {
    try {
      found.push(await store.getRun(keyOrId));
    } catch {
      // not a run id either
    }
  }
  const finished = found.filter((r) => r.info.status === 'FINISHED').sort((a, b) => b.info.start_time - a.info.start_time);
  if (!finished[0]) {
    throw new UserError(
      found.length
        ? `run ${keyOrId} has no FINISHED attempt in ${store.uri} (statuses: ${found.map((r) => r.info.status).join(', ')}); train it with bnx run`
        : `no run with key ${keyOrId} in ${store.uri}; list keys with \`bnx plan STUDY.yaml\`, or pass --tracking-uri`,
    );
  }
  return finished[0];
}

export async function exportCommand(key: string, o: { trackingUri?: string; out?: string; json?: boolean }): Promise<number> {
  const { openStoreForReading } = await import('../track/index.js');
  const store = await openStoreForReading(o.trackingUri ?? (process.env.MLFLOW_TRACKING_URI || undefined) ?? resolve('mlruns'));
  const run = await findRun(store, key);
  const runKey = run.data.tags[BNX_TAG.runKey] ?? key;
  const work = mkdtempSync(join(tmpdir(), 'bnx-export-'));
  try {
    await store.downloadArtifact(run.info.run_id, ARTIFACT.tfjsModel, join(work, 'tfjs', 'model.json'));
    await store.downloadArtifact(run.info.run_id, ARTIFACT.tfjsWeights, join(work, 'tfjs', 'weights.bin'));
    await store.downloadArtifact(run.info.run_id, ARTIFACT.config, join(work, 'config.yaml'));
    const config = parseYaml(readFileSync(join(work, 'config.yaml'), 'utf8')) as RunConfig & { key: string };

    const { initBackend } = await import('../train/index.js');
    await initBackend(config.train.backend);
    const { loadModelArtifacts, inputLayout } = await import('../model/index.js');
    const model = await loadModelArtifacts(join(work, 'tfjs'));
    const { loadDataset, prepareData } = await import('../data/index.js');
    const ds = await loadDataset(config.dataset);
    const data = prepareData(ds, config.dataset, inputLayout(config.model).data);
    const { exportAndVerify } = await import('../export/index.js');
    const out = resolve(o.out ?? `${runKey}.onnx`);
    const r = await exportAndVerify(model, data, {
      runKey,
      classNames: ds.classNames,
      dataset: config.dataset,
      layout: inputLayout(config.model).onnx,
      outPath: out,
    });
    model.dispose();
    if (o.json) process.stdout.write(`${JSON.stringify({ run_key: runKey, mlflow_run_id: run.info.run_id, path: out, ...r.figures, error: r.error ?? null }, null, 2)}\n`);
    else {
      process.stdout.write(
        `${out}: ONNX accuracy ${(r.figures.test_accuracy * 100).toFixed(2)}% (TensorFlow.js ${(r.figures.tfjs_accuracy * 100).toFixed(2)}%), ` +
          `max |logit diff| ${r.figures.max_abs_diff.toExponential(2)}, predictions agree on ${(r.figures.prediction_agreement * 100).toFixed(2)}% of ${r.figures.n}\n`,
      );
    }
    if (r.error) {
      process.stderr.write(`export is not faithful: ${r.error}\n`);
      return EXIT.failed;
    }
    return EXIT.ok;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
