/**
 * Running an exported model with onnxruntime (onnxruntime-node, else onnxruntime-web's wasm: see
 * ort.ts): read the bnx metadata from the file, turn tfjs-ordered inputs (flat or NHWC) into the
 * model's input layout, and collect logits in batches.
 */
import { readFileSync } from 'node:fs';
import { loadOrt, type Ort, type OrtSession } from './ort.js';
import { UserError } from '../util/errors.js';
import { INPUT_NAME, type Preprocessing } from './export.js';
import { readOnnxMeta } from './onnx-meta.js';
import { ONNX_FILE_HINT } from './onnx-proto.js';

export interface OnnxModelInfo {
  /** Input dims without the batch dim: [features] or [C, H, W]. */
  inputDims: number[];
  layout: 'flat' | 'nchw';
  inputName: string;
  outputName: string;
  classes: number;
  classNames?: string[];
  preprocessing?: Preprocessing;
  metadata: Record<string, string>;
}

export function readOnnxBytes(bytesOrPath: Uint8Array | string): Uint8Array {
  if (typeof bytesOrPath !== 'string') return bytesOrPath;
  try {
    return readFileSync(bytesOrPath);
  } catch (err) {
    throw new UserError(`cannot read ONNX model ${bytesOrPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, [ONNX_FILE_HINT]);
  }
}

/** Input/output names and shapes plus the bnx metadata of an ONNX model, for running it. */
export function onnxModelInfo(bytes: Uint8Array, where = 'ONNX model'): OnnxModelInfo {
  const m = readOnnxMeta(bytes, where);
  const dims = m.inputShape.slice(1);
  if (dims.some((d) => !(d > 0))) throw new UserError(`${where}: input ${m.inputName} needs fixed dims after the batch dim, got [${dims.join(', ')}]`);
  return {
    inputDims: dims,
    layout: m.layout,
    inputName: m.inputName || INPUT_NAME,
    outputName: m.outputName,
    classes: m.outputShape[1] !== undefined && m.outputShape[1] > 0 ? m.outputShape[1] : (m.classNames?.length ?? 0),
    ...(m.classNames ? { classNames: m.classNames } : {}),
    ...(m.preprocessing ? { preprocessing: m.preprocessing } : {}),
    metadata: m.metadata,
  };
}

/** NHWC (tfjs) -> NCHW for n images of [h, w, c]. A no-op copy-free path for c = 1. */
export function nhwcToNchw(x: Float32Array<ArrayBuffer>, n: number, h: number, w: number, c: number): Float32Array<ArrayBuffer> {
  if (c === 1) return x;
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++) {
    const base = b * h * w * c;
    for (let y = 0; y < h; y++)
      for (let v = 0; v < w; v++)
        for (let k = 0; k < c; k++) out[base + (k * h + y) * w + v] = x[base + (y * w + v) * c + k]!;
  }
  return out;
}

export interface Session {
  session: OrtSession;
  ort: Ort;
  /** Which runtime this is, e.g. "onnxruntime-node 1.22.0". */
  runtime: string;
}

export async function createSession(bytes: Uint8Array, runtime?: string): Promise<Session> {
  const { ort, name, executionProviders } = await loadOrt(runtime);
  return { session: await ort.InferenceSession.create(bytes, { executionProviders }), ort, runtime: name };
}

/**
 * Logits for n examples given in tfjs order (flat vectors, or NHWC images for an NCHW model), run in
 * batches of `batch`. Returns [n * classes] row-major and the class count.
 */
export async function onnxLogits(
  { session, ort }: Session,
  info: OnnxModelInfo,
  x: Float32Array,
  batch = 1000,
): Promise<{ logits: Float32Array; classes: number; n: number }> {
  const per = info.inputDims.reduce((p, q) => p * q, 1);
  if (x.length % per !== 0) throw new UserError(`ONNX model input needs ${per} values per example; got ${x.length} values in all`);
  const n = x.length / per;
  let logits: Float32Array | undefined;
  let classes = 0;
  for (let start = 0; start < n; start += batch) {
    const b = Math.min(batch, n - start);
    // A copy, not a view: the native binding is handed the whole backing buffer.
    let chunk = x.slice(start * per, (start + b) * per);
    if (info.layout === 'nchw') {
      const [c, h, w] = info.inputDims as [number, number, number];
      chunk = nhwcToNchw(chunk, b, h, w, c);
    }
    const feeds = { [info.inputName]: new ort.Tensor('float32', chunk, [b, ...info.inputDims]) };
    const out = (await session.run(feeds, [info.outputName]))[info.outputName]!;
    const data = out.data as Float32Array;
    classes = data.length / b;
    logits ??= new Float32Array(n * classes);
    logits.set(data, start * classes);
    out.dispose();
  }
  return { logits: logits ?? new Float32Array(0), classes, n };
}

export function argmaxRows(logits: Float32Array, classes: number): Int32Array {
  const n = logits.length / classes;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[i * classes + k]! > logits[i * classes + best]!) best = k;
    out[i] = best;
  }
  return out;
}
