/**
 * Proof that an export is faithful: the tfjs model and the ONNX file (through onnxruntime, see ort.ts) score
 * the same test set, and their logits, predictions and accuracies are compared. `assertParity` turns
 * a mismatch into an error, so a bad export never ships silently.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { rowFloats, type Rows } from '../data/index.js';
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

/** The tfjs model's logits of one chunk of examples (tfjs order), [rows * classes]. */
function tfjsLogits(model: LayersModel, x: Float32Array, rows: number, inputShape: number[]): Float32Array {
  return tf.tidy(() => {
    // predictOnBatch: predict() cuts each chunk into 32-row tf.slices (on wasm 1.39 s for the 10k
    // test set against 0.11 s in whole chunks)
    const out = model.predictOnBatch(tf.tensor(x, [rows, ...inputShape]));
    return (Array.isArray(out) ? out[0]! : out).dataSync() as Float32Array;
  });
}

function accuracy(pred: Int32Array, y: Uint8Array): number {
  let ok = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === y[i]) ok++;
  return pred.length ? ok / pred.length : 0;
}

/**
 * Score the test rows with both models and compare. Rows become floats (tfjs order: flat or NHWC)
 * one chunk of `batch` at a time, so the test set is never held as floats whole.
 */
export async function verifyOnnx(onnx: Uint8Array | string, model: LayersModel, test: Rows, o: VerifyOptions): Promise<ParityResult> {
  const t0 = performance.now();
  const per = o.inputShape.reduce((p, q) => p * q, 1);
  if (test.features !== per) throw new Error(`verifyOnnx: the test rows have ${test.features} values per example, the input shape [${o.inputShape.join(', ')}] ${per}`);
  const batch = o.batch ?? 1000;
  const bytes = readOnnxBytes(onnx);
  const info = onnxModelInfo(bytes, typeof onnx === 'string' ? onnx : 'exported model');
  const onnxPer = info.inputDims.reduce((p, q) => p * q, 1);
  if (onnxPer !== per) throw new Error(`verifyOnnx: the ONNX input takes ${onnxPer} values per example, the tfjs input ${per}`);
  const session = await createSession(bytes);
  const ox = { logits: new Float32Array(0), classes: 0 };
  const tx = { logits: new Float32Array(0), classes: 0 };
  const buf = new Float32Array(Math.min(batch, test.n) * per);
  try {
    for (let s = 0; s < test.n; s += batch) {
      const m = Math.min(batch, test.n - s);
      const x = rowFloats(test, s, s + m, buf.subarray(0, m * per));
      const chunk = await onnxLogits(session, info, x, batch);
      const t = tfjsLogits(model, x, m, o.inputShape);
      if (s === 0) {
        ox.classes = chunk.classes;
        tx.classes = t.length / m;
        ox.logits = new Float32Array(test.n * ox.classes);
        tx.logits = new Float32Array(test.n * tx.classes);
        if (ox.classes !== tx.classes) throw new Error(`verifyOnnx: ONNX gives ${ox.classes} logits per example, tfjs ${tx.classes}`);
      }
      ox.logits.set(chunk.logits, s * ox.classes);
      tx.logits.set(t, s * tx.classes);
    }
  } finally {
    await session.session.release();
  }
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
  const n = test.n;
  return {
    onnx_accuracy: accuracy(po, test.labels),
    tfjs_accuracy: accuracy(pt, test.labels),
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
