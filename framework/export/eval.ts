/** Accuracy and per-class accuracy of an ONNX model on a labelled set, through onnxruntime (node, else web: see ort.ts). */
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

/**
 * x holds n examples in tfjs order (flat vectors or NHWC images), already preprocessed as the model
 * expects; y their labels. An NCHW model gets its input transposed.
 */
export async function evalOnnx(path: string | Uint8Array, x: Float32Array, y: Uint8Array, classNames: string[]): Promise<EvalResult> {
  const bytes = readOnnxBytes(path);
  const info = onnxModelInfo(bytes, typeof path === 'string' ? path : 'ONNX model');
  const session = await createSession(bytes);
  let out: Awaited<ReturnType<typeof onnxLogits>>;
  try {
    out = await onnxLogits(session, info, x);
  } finally {
    await session.session.release();
  }
  if (out.n !== y.length) throw new Error(`evalOnnx: ${out.n} examples but ${y.length} labels`);
  if (out.classes !== classNames.length) {
    throw new Error(`evalOnnx: the model has ${out.classes} outputs but ${classNames.length} class names were given`);
  }
  const pred = argmaxRows(out.logits, out.classes);
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
