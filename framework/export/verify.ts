/**
 * Proof that an export is faithful: the tfjs model and the ONNX file (through onnxruntime, see ort.ts) score
 * the same test set, and their logits, predictions and accuracies are compared. `assertParity` turns
 * a mismatch into an error, so a bad export never ships silently.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { argmaxRows, createSession, onnxLogits, onnxModelInfo, readOnnxBytes } from './runtime.js';

export interface ParityResult {
  onnx_accuracy: number;
  tfjs_accuracy: number;
  /** max |logit_onnx - logit_tfjs| over every example and class. */
  max_abs_diff: number;
  /** Share of examples where both predict the same class (1 = all). */
  prediction_agreement: number;
  n: number;
  seconds: number;
  /** The runtime that scored the ONNX file, e.g. "onnxruntime-node 1.22.0". */
  runtime: string;
}

export interface VerifyOptions {
  /** tfjs input shape without the batch dim, e.g. [784] or [28, 28, 1]. */
  inputShape: number[];
  /** Examples per forward pass (default 1000). */
  batch?: number;
}

export const PARITY_TOLERANCE = 1e-4;

function tfjsLogits(model: LayersModel, x: Float32Array, inputShape: number[], batch: number): { logits: Float32Array; classes: number } {
  const per = inputShape.reduce((p, q) => p * q, 1);
  const n = x.length / per;
  let logits: Float32Array | undefined;
  let classes = 0;
  for (let start = 0; start < n; start += batch) {
    const b = Math.min(batch, n - start);
    const data = tf.tidy(() => {
      // predictOnBatch: predict() cuts each chunk into 32-row tf.slices (on wasm 1.39 s for the 10k
      // test set against 0.11 s in whole chunks)
      const out = model.predictOnBatch(tf.tensor(x.subarray(start * per, (start + b) * per), [b, ...inputShape]));
      return (Array.isArray(out) ? out[0]! : out).dataSync() as Float32Array;
    });
    classes = data.length / b;
    logits ??= new Float32Array(n * classes);
    logits.set(data, start * classes);
  }
  return { logits: logits ?? new Float32Array(0), classes };
}

function accuracy(pred: Int32Array, y: Uint8Array): number {
  let ok = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === y[i]) ok++;
  return pred.length ? ok / pred.length : 0;
}

/** Score the test set with both models and compare. testX is in tfjs order (flat or NHWC). */
export async function verifyOnnx(
  onnx: Uint8Array | string,
  model: LayersModel,
  testX: Float32Array,
  testY: Uint8Array,
  o: VerifyOptions,
): Promise<ParityResult> {
  const t0 = performance.now();
  const per = o.inputShape.reduce((p, q) => p * q, 1);
  if (testX.length !== testY.length * per) {
    throw new Error(`verifyOnnx: testX has ${testX.length} values, expected ${testY.length} examples x ${per}`);
  }
  const batch = o.batch ?? 1000;
  const bytes = readOnnxBytes(onnx);
  const info = onnxModelInfo(bytes, typeof onnx === 'string' ? onnx : 'exported model');
  const onnxPer = info.inputDims.reduce((p, q) => p * q, 1);
  if (onnxPer !== per) throw new Error(`verifyOnnx: the ONNX input takes ${onnxPer} values per example, the tfjs input ${per}`);
  const session = await createSession(bytes);
  let ox: { logits: Float32Array; classes: number };
  try {
    ox = await onnxLogits(session, info, testX, batch);
  } finally {
    await session.session.release();
  }
  const tx = tfjsLogits(model, testX, o.inputShape, batch);
  if (ox.classes !== tx.classes) throw new Error(`verifyOnnx: ONNX gives ${ox.classes} logits per example, tfjs ${tx.classes}`);
  let maxDiff = 0;
  for (let i = 0; i < tx.logits.length; i++) {
    const d = Math.abs(ox.logits[i]! - tx.logits[i]!);
    // NaN must not hide behind `>`: it makes the difference infinite.
    maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d);
  }
  const po = argmaxRows(ox.logits, ox.classes);
  const pt = argmaxRows(tx.logits, tx.classes);
  let same = 0;
  for (let i = 0; i < po.length; i++) if (po[i] === pt[i]) same++;
  const n = testY.length;
  return {
    onnx_accuracy: accuracy(po, testY),
    tfjs_accuracy: accuracy(pt, testY),
    max_abs_diff: maxDiff,
    prediction_agreement: n ? same / n : 1,
    n,
    seconds: (performance.now() - t0) / 1000,
    runtime: session.runtime,
  };
}

/** Throw if the ONNX model does not behave as the tfjs model: any prediction, accuracy or logit off. */
export function assertParity(
  r: Pick<ParityResult, 'onnx_accuracy' | 'tfjs_accuracy' | 'max_abs_diff' | 'prediction_agreement' | 'n'>,
  tol = PARITY_TOLERANCE): void {
  const problems: string[] = [];
  if (r.prediction_agreement !== 1) {
    const k = Math.round((1 - r.prediction_agreement) * r.n);
    problems.push(`${k} of ${r.n} predictions differ (agreement ${r.prediction_agreement})`);
  }
  if (r.onnx_accuracy !== r.tfjs_accuracy) problems.push(`accuracy differs: onnx ${r.onnx_accuracy} vs tfjs ${r.tfjs_accuracy}`);
  if (!(r.max_abs_diff <= tol)) problems.push(`max |logit difference| ${r.max_abs_diff} exceeds ${tol}`);
  if (problems.length) {
    throw new Error(`ONNX export is not faithful to the trained model on ${r.n} test examples: ${problems.join('; ')}. The export was rejected.`);
  }
}
