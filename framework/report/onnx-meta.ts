/**
 * What the report needs from an exported model (its metadata and the input's shape). onnxruntime
 * exposes neither the custom metadata_props nor a stable input-shape API in both node and web, so
 * the report reads the file itself, with the exporter's protobuf descriptor.
 */
import type protobuf from 'protobufjs';
import { modelProtoType } from '../export/onnx-proto.js';

/** The ModelProto message type: the exporter's onnx.proto descriptor, one for the whole project. */
export function onnxModelType(): protobuf.Type {
  return modelProtoType();
}

/** How pixels become model input, as written by the exporter into metadata_props. */
export interface Preprocessing {
  scale: number;
  mean?: number[];
  std?: number[];
}

export interface OnnxInfo {
  inputName: string;
  outputName: string;
  /** Input dims; a symbolic (batch) dim is -1. */
  inputShape: number[];
  layout: 'flat' | 'nchw';
  preprocessing: Preprocessing;
  metadata: Record<string, string>;
}

interface DecodedDim {
  dimValue?: number | { toNumber(): number };
  dimParam?: string;
}

/**
 * Read input/output names, input shape, layout and preprocessing of an ONNX model. Metadata keys
 * 'preprocessing' (JSON {scale, mean?, std?}) and 'input_layout' ('flat' | 'nchw') win; without
 * them the layout comes from the input's rank and the scale defaults to 255.
 */
export function readOnnxInfo(bytes: Uint8Array, where = 'ONNX model'): OnnxInfo {
  let model: Record<string, unknown>;
  try {
    model = onnxModelType().toObject(onnxModelType().decode(bytes), { longs: Number, defaults: false }) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${where}: not a readable ONNX model (${(err as Error).message})`);
  }
  const graph = model.graph as { input?: { name: string; type?: { tensorType?: { shape?: { dim?: DecodedDim[] } } } }[]; output?: { name: string }[]; initializer?: { name: string }[] } | undefined;
  if (!graph?.input?.length || !graph.output?.length) throw new Error(`${where}: the graph has no inputs or outputs`);
  // Initializers may be listed among inputs in older IR versions; the data input is the first that is not one.
  const inits = new Set((graph.initializer ?? []).map((t) => t.name));
  const input = graph.input.find((i) => !inits.has(i.name)) ?? graph.input[0]!;
  const dims = input.type?.tensorType?.shape?.dim ?? [];
  const inputShape = dims.map((d) => (d.dimValue === undefined ? -1 : Number(d.dimValue)));
  const metadata: Record<string, string> = {};
  for (const e of (model.metadataProps as { key: string; value: string }[] | undefined) ?? []) metadata[e.key] = e.value;

  let layout: 'flat' | 'nchw' = inputShape.length === 4 ? 'nchw' : 'flat';
  if (metadata.input_layout === 'flat' || metadata.input_layout === 'nchw') layout = metadata.input_layout;
  let preprocessing: Preprocessing = { scale: 255 };
  if (metadata.preprocessing) {
    try {
      const p = JSON.parse(metadata.preprocessing) as Partial<Preprocessing>;
      if (typeof p.scale === 'number' && p.scale > 0) preprocessing = { scale: p.scale };
      if (Array.isArray(p.mean) && Array.isArray(p.std)) preprocessing = { ...preprocessing, mean: p.mean, std: p.std };
    } catch {
      throw new Error(`${where}: metadata 'preprocessing' is not JSON: ${metadata.preprocessing.slice(0, 80)}`);
    }
  }
  // bnx exports 'logits' and 'probabilities'; the demo wants logits (they compare exactly across runtimes).
  const output = graph.output.find((o) => o.name === 'logits') ?? graph.output[0]!;
  return { inputName: input.name, outputName: output.name, inputShape, layout, preprocessing, metadata };
}

/** Pixels (uint8) of one image to model input floats, exactly as the exporter says training saw them. */
export function preprocessPixels(pixels: Uint8Array, p: Preprocessing): Float32Array {
  const out = new Float32Array(pixels.length);
  const mean = p.mean?.[0] ?? 0;
  const std = p.std?.[0] ?? 1;
  for (let i = 0; i < pixels.length; i++) out[i] = (pixels[i]! / p.scale - mean) / std;
  return out;
}
