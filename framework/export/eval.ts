/** Accuracy and per-class accuracy of an ONNX model on a labelled set, through onnxruntime (node, else web: see ort.ts). */
import { rowFloats, type Rows } from '../data/index.js';
import { argmaxRows, createSession, onnxLogits, onnxModelInfo, readOnnxBytes } from './runtime.js';

export interface ClassAccuracy {
  class: string;
  accuracy: number;
  n: number;
}

export interface EvalResult {
  accuracy: number;
  per_class: ClassAccuracy[];
  n: number;
}

/** Examples per onnxruntime call, and per chunk of rows turned into floats. */
const CHUNK = 1000;

/**
 * The rows are the labelled examples, preprocessed as the model expects (in tfjs order: flat vectors
 * or NHWC images; an NCHW model gets its input transposed), made floats one chunk at a time.
 */
export async function evalOnnx(path: string | Uint8Array, rows: Rows, classNames: string[]): Promise<EvalResult> {
  const bytes = readOnnxBytes(path);
  const info = onnxModelInfo(bytes, typeof path === 'string' ? path : 'ONNX model');
  const session = await createSession(bytes);
  const y = rows.labels;
  const pred = new Int32Array(rows.n);
  const buf = new Float32Array(Math.min(CHUNK, rows.n) * rows.features);
  try {
    for (let s = 0; s < rows.n; s += CHUNK) {
      const m = Math.min(CHUNK, rows.n - s);
      const out = await onnxLogits(session, info, rowFloats(rows, s, s + m, buf.subarray(0, m * rows.features)), CHUNK);
      if (out.classes !== classNames.length) {
        throw new Error(`evalOnnx: the model has ${out.classes} outputs but ${classNames.length} class names were given`);
      }
      pred.set(argmaxRows(out.logits, out.classes), s);
    }
  } finally {
    await session.session.release();
  }
  const hits = new Array<number>(classNames.length).fill(0);
  const counts = new Array<number>(classNames.length).fill(0);
  let ok = 0;
  for (let i = 0; i < pred.length; i++) {
    const label = y[i]!;
    if (label >= classNames.length) throw new Error(`evalOnnx: label ${label} at example ${i} is out of range for ${classNames.length} classes`);
    counts[label]!++;
    if (pred[i] === label) {
      hits[label]!++;
      ok++;
    }
  }
  return {
    accuracy: pred.length ? ok / pred.length : 0,
    per_class: classNames.map((name, k) => ({ class: name, accuracy: counts[k] ? hits[k]! / counts[k]! : 0, n: counts[k]! })),
    n: pred.length,
  };
}
