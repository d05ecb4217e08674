/**
 * The one reader of what bnx writes into an exported model: input/output names and shapes, layout,
 * class names and preprocessing (export.ts writes them). Used by parity checks and `bnx eval`
 * (runtime.ts) and by the report (framework/report). Reads the file with the exporter's protobuf
 * descriptor: onnxruntime exposes neither the custom metadata_props nor a stable input-shape API in
 * both node and web.
 */
import { UserError } from '../util/errors.js';
import { LOGITS_NAME, type Preprocessing } from './export.js';
import { decodeModel, ONNX_FILE_HINT } from './onnx-proto.js';

export interface OnnxMeta {
  inputName: string;
  /** 'logits' when present (it compares exactly across runtimes), else the first output. */
  outputName: string;
  /** Input dims with the batch dim; a symbolic (batch) dim is -1. */
  inputShape: number[];
  /** Dims of the chosen output, the same way. */
  outputShape: number[];
  /** Metadata 'input_layout' when it is flat or nchw, else from the input's rank. */
  layout: 'flat' | 'nchw';
  classNames?: string[];
  /** Metadata 'preprocessing' when it holds a positive scale (mean/std kept when both are lists). */
  preprocessing?: Preprocessing;
  metadata: Record<string, string>;
}

function parseJson<T>(text: string | undefined, key: string, where: string): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new UserError(`${where}: metadata '${key}' is not valid JSON: ${text.slice(0, 80)}`);
  }
}

export function readOnnxMeta(bytes: Uint8Array, where = 'ONNX model'): OnnxMeta {
  const model = decodeModel(bytes, where);
  const graph = model.graph;
  if (!graph?.input?.length || !graph.output?.length) throw new UserError(`${where}: the graph has no inputs or outputs (not a model bnx exported)`, [ONNX_FILE_HINT]);
  // Initializers may be listed among inputs in older IR versions; the data input is the first that is not one.
  const inits = new Set((graph.initializer ?? []).map((t) => t.name));
  const input = graph.input.find((i) => !inits.has(i.name)) ?? graph.input[0]!;
  const output = graph.output.find((o) => o.name === LOGITS_NAME) ?? graph.output[0]!;
  const dims = (d: { dimValue?: unknown }[] | undefined) => (d ?? []).map((x) => (x.dimValue === undefined ? -1 : Number(x.dimValue)));
  const inputShape = dims(input.type?.tensorType?.shape?.dim);
  const metadata: Record<string, string> = {};
  for (const e of model.metadataProps ?? []) metadata[e.key] = e.value;
  const layout = metadata.input_layout === 'flat' || metadata.input_layout === 'nchw' ? metadata.input_layout : inputShape.length === 4 ? 'nchw' : 'flat';
  const classNames = parseJson<string[]>(metadata.class_names, 'class_names', where);
  const p = parseJson<Partial<Preprocessing>>(metadata.preprocessing, 'preprocessing', where);
  let preprocessing: Preprocessing | undefined;
  if (p && typeof p.scale === 'number' && p.scale > 0) {
    preprocessing = { scale: p.scale, ...(Array.isArray(p.mean) && Array.isArray(p.std) ? { mean: p.mean, std: p.std } : {}) };
  }
  return {
    inputName: input.name,
    outputName: output.name,
    inputShape,
    outputShape: dims(output.type?.tensorType?.shape?.dim),
    layout,
    ...(classNames ? { classNames } : {}),
    ...(preprocessing ? { preprocessing } : {}),
    metadata,
  };
}
