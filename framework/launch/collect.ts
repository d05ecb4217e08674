/**
 * Reads a study's runs back from the tracking store into the report's input. The store is the record
 * of truth: a resumed study, `bnx report`, and a queue-driven study all report the same way.
 */
import { mkdtempSync } from 'node:fs';
import { cpus, platform, arch, tmpdir } from 'node:os';
import { join, relative, isAbsolute } from 'node:path';
import { ARTIFACT, BNX_TAG, EPOCH_METRICS, PROBE_PREFIX, REPORT_FILES, probeMetricNames, readRunRecord, type Run } from '../track/index.js';
import type { StudyContext } from './orchestrate.js';
import type { DemoInput, RunRecord, StudyInput, EpochRecord, ProbeSeries } from '../report/index.js';

/** Finished beats anything else; among equals the newest attempt wins. */
function pick(runs: Run[]): Run | undefined {
  const rank = (r: Run) => (r.info.status === 'FINISHED' ? 1 : 0);
  return [...runs].sort((a, b) => rank(b) - rank(a) || b.info.start_time - a.info.start_time)[0];
}

/**
 * A run's artifact on this machine, or null when the store is remote. A file store resolves it (in a
 * moved or copied store the recorded absolute URI points at the old place).
 */
function localArtifactPath(ctx: StudyContext, run: Run, rel: string): string | null {
  const store = ctx.store as Partial<{ localArtifactPath(runId: string, rel: string): string }>;
  if (ctx.store.kind === 'file' && store.localArtifactPath) return store.localArtifactPath(run.info.run_id, rel);
  const uri = run.info.artifact_uri;
  if (!uri.startsWith('file://')) return null;
  return `${decodeURIComponent(uri.slice('file://'.length))}/${rel}`;
}

const shown = (p: string): string => {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : p;
};

async function epochsOf(ctx: StudyContext, run: Run): Promise<EpochRecord[]> {
  const byStep = new Map<number, Record<string, number>>();
  for (const key of EPOCH_METRICS) {
    for (const m of await ctx.store.getMetricHistory(run.info.run_id, key)) {
      const row = byStep.get(m.step) ?? {};
      row[key === 'epoch_seconds' ? 'seconds' : key] = m.value;
      byStep.set(m.step, row);
    }
  }
  return [...byStep.entries()]
    .sort(([a], [b]) => a - b)
    .map(([epoch, r]) => ({
      epoch,
      train_loss: r.train_loss ?? NaN,
      train_accuracy: r.train_accuracy ?? NaN,
      test_loss: r.test_loss ?? NaN,
      test_accuracy: r.test_accuracy ?? NaN,
      seconds: r.seconds ?? NaN,
      ...(r.lr !== undefined ? { lr: r.lr } : {}),
    }));
}

/** The run's probe series (probe/<layer>/<name>), by name without the prefix; undefined without probes. */
async function probesOf(ctx: StudyContext, run: Run): Promise<ProbeSeries | undefined> {
  const names = probeMetricNames(run);
  if (!names.length) return undefined;
  const out: ProbeSeries = {};
  for (const name of names) {
    const history = await ctx.store.getMetricHistory(run.info.run_id, name);
    out[name.slice(PROBE_PREFIX.length)] = history.map((m) => [m.step, m.value] as [number, number]).sort((a, b) => a[0] - b[0]);
  }
  return out;
}

export interface Collected {
  study: StudyInput;
  demo?: DemoInput;
}

export async function collectStudy(ctx: StudyContext): Promise<Collected> {
  const all = await ctx.store.searchRuns(ctx.experimentId, {});
  const byKey = new Map<string, Run[]>();
  for (const r of all) {
    const key = r.data.tags[BNX_TAG.runKey];
    if (key) byKey.set(key, [...(byKey.get(key) ?? []), r]);
  }

  const runs: RunRecord[] = [];
  const chosen = new Map<string, Run>();
  for (const p of ctx.plan.runs) {
    const run = pick(byKey.get(p.key) ?? []);
    if (!run) {
      runs.push({ key: p.key, variant: p.variant, matrix: p.matrix, seed: p.seed, status: 'PLANNED', backend: null, seconds: null, mlflow_run_id: null, epochs: [], onnx: null });
      continue;
    }
    chosen.set(p.key, run);
    const rec = readRunRecord(run);
    const probes = await probesOf(ctx, run);
    const onnxPath = localArtifactPath(ctx, run, ARTIFACT.onnx);
    const reason = rec.failureReason ?? rec.killedReason;
    runs.push({
      key: p.key,
      variant: p.variant,
      matrix: p.matrix,
      seed: p.seed,
      status: run.info.status as RunRecord['status'],
      ...(reason ? { reason } : {}),
      backend: rec.backend,
      seconds: rec.seconds,
      mlflow_run_id: run.info.run_id,
      epochs: await epochsOf(ctx, run),
      onnx: rec.onnx ? { path: onnxPath ? shown(onnxPath) : `${run.info.artifact_uri}/${ARTIFACT.onnx}`, ...rec.onnx } : null,
      ...(probes ? { probes } : {}),
    });
  }

  const first = [...chosen.values()].find((r) => r.info.status === 'FINISHED');
  const env = first ? readRunRecord(first) : undefined;
  const { loadDataset } = await import('../data/index.js');
  const ds = await loadDataset(ctx.dataset);
  const study: StudyInput = {
    experiment: ctx.plan.study,
    ...(ctx.study.config.description ? { description: ctx.study.config.description } : {}),
    config_sha256: ctx.plan.configSha256,
    ...(ctx.study.config.report.reference ? { reference: ctx.study.config.report.reference } : {}),
    ...(Object.keys(ctx.study.config.hypotheses ?? {}).length ? { hypotheses: ctx.study.config.hypotheses } : {}),
    variant_order: Object.keys(ctx.study.config.variants),
    runs,
    environment: {
      backend: env?.backend ?? 'unknown',
      versions: { bnx: env?.bnxVersion ?? 'unknown', ...env?.versions },
      cpu: env?.cpu ?? cpus()[0]?.model ?? 'unknown',
      cores: env?.cores ?? cpus().length,
      node: env?.versions.node ?? process.version,
      platform: `${platform()}-${arch()}`,
    },
    dataset: {
      name: ds.identity.name,
      source: ds.identity.source,
      digest: ds.identity.digest,
      approximate_split: ds.identity.approximate_split,
      class_names: ds.classNames,
    },
    tracking_uri: /^https?:/.test(ctx.store.uri) ? ctx.store.uri : shown(ctx.store.uri),
  };

  // The in-browser demo classifies the same test images with a finished model of each variant: the
  // first seed of every matrix cell, labelled with its run so the page says which one it shows.
  const models: DemoInput['models'] = [];
  const { groupLabel } = await import('../report/index.js');
  for (const variant of study.variant_order) {
    const cellsSeen = new Set<string>();
    for (const p of ctx.plan.runs) {
      if (p.variant !== variant || chosen.get(p.key)?.info.status !== 'FINISHED' || !runs[p.index]!.onnx) continue;
      const cell = JSON.stringify(p.matrix);
      if (cellsSeen.has(cell)) continue;
      cellsSeen.add(cell);
      const run = chosen.get(p.key)!;
      let path = localArtifactPath(ctx, run, ARTIFACT.onnx);
      if (!path) {
        path = join(mkdtempSync(join(tmpdir(), 'bnx-demo-')), `${variant}.onnx`);
        await ctx.store.downloadArtifact(run.info.run_id, ARTIFACT.onnx, path);
      }
      models.push({ variant, onnxPath: path, run: `${groupLabel(variant, p.matrix)} seed ${p.seed} (run ${p.key})` });
    }
  }
  const n = Math.min(ctx.study.config.report.demo_images, ds.test.count);
  const px = ds.height * ds.width * ds.channels;
  const demo =
    models.length && n > 0
      ? { models, images: ds.test.images.slice(0, n * px), labels: ds.test.labels.slice(0, n), classNames: ds.classNames, height: ds.height, width: ds.width, channels: ds.channels }
      : undefined;
  return { study, demo };
}

/** The parent run carries the study's report once written. */
export async function logReport(ctx: StudyContext, dir: string, files: string[]): Promise<void> {
  if (!ctx.parentRunId) return; // a report of runs found by key only: no parent run of this config
  for (const name of REPORT_FILES) {
    if (files.includes(name)) await ctx.store.logArtifact(ctx.parentRunId, join(dir, name), ARTIFACT.report(name));
  }
}
