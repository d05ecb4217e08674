/**
 * `bnx eval MODEL.onnx --dataset NAME|DIR`: accuracy and per-class accuracy through onnxruntime-node,
 * with the preprocessing recorded in the model, so it is evaluated as it was trained.
 */
import type { DatasetConfig } from '../config/index.js';
import { refFromArg, loadDataset, prepareData } from '../data/index.js';
import { EXIT, UserError } from '../util/errors.js';
import { evalOnnx, onnxModelInfo, readOnnxBytes, type EvalResult } from '../export/index.js';

const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);

function formatEval(modelPath: string, dataset: string, r: EvalResult, runKey?: string): string {
  const width = Math.max(5, ...r.per_class.map((c) => c.class.length));
  const pct = (a: number) => `${(a * 100).toFixed(2).padStart(6)}%`;
  return [
    `${modelPath}${runKey ? ` (run ${runKey})` : ''} on ${dataset} test set: accuracy ${pct(r.accuracy).trim()} over ${r.n} images`,
    `  ${'class'.padEnd(width)}  accuracy      n`,
    ...r.per_class.map((c) => `  ${c.class.padEnd(width)}  ${pct(c.accuracy)}  ${String(c.n).padStart(5)}`),
  ].join('\n');
}

export async function evalCommand(modelPath: string, o: { dataset: string; json?: boolean }): Promise<number> {
  const bytes = readOnnxBytes(modelPath);
  const info = onnxModelInfo(bytes, modelPath);
  let pre = info.preprocessing;
  if (!pre || !(typeof pre.scale === 'number' && pre.scale > 0)) {
    err(`${modelPath}: no bnx preprocessing metadata; assuming input = pixel / 255`);
    pre = { scale: 255 };
  }
  const ds = await loadDataset(refFromArg(o.dataset), { log: err });
  const perExample = info.inputDims.reduce((p, q) => p * q, 1);
  if (perExample !== ds.height * ds.width * ds.channels) {
    throw new UserError(
      `${modelPath} takes inputs of [${info.inputDims.join(', ')}] but ${o.dataset} has ${ds.height}x${ds.width}x${ds.channels} images`,
      ['Evaluate the model on the kind of data it was trained on.'],
    );
  }
  const names = info.classNames;
  if (names && names.length !== ds.classNames.length) {
    throw new UserError(`${modelPath} predicts ${names.length} classes but ${o.dataset} has ${ds.classNames.length}`);
  }
  if (names && names.join('\u0000') !== ds.classNames.join('\u0000')) {
    err(`note: the model's classes (${names.slice(0, 3).join(', ')}, ...) differ from ${o.dataset}'s (${ds.classNames.slice(0, 3).join(', ')}, ...)`);
  }
  const cfg = {
    scale: pre.scale,
    ...(pre.mean && pre.std ? { normalize: { mean: pre.mean, std: pre.std } } : {}),
  } as DatasetConfig;
  const data = prepareData(ds, cfg, info.layout === 'nchw' ? 'image' : 'flat');
  const r = await evalOnnx(bytes, data.test, ds.classNames);
  const runKey = info.metadata.run_key;
  if (o.json) {
    out(JSON.stringify({ model: modelPath, run_key: runKey ?? null, dataset: ds.identity.name, preprocessing: pre, ...r }, null, 2));
  } else {
    out(formatEval(modelPath, o.dataset, r, runKey));
  }
  return EXIT.ok;
}
