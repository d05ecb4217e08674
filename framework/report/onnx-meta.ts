/** What the report needs from an exported model: framework/export's metadata reader, report defaults. */
import type protobuf from 'protobufjs';
import { preprocessPixels, type Preprocessing } from '../data/index.js';
import { modelProtoType, readOnnxMeta } from '../export/index.js';

/** The ModelProto message type: the exporter's onnx.proto descriptor, one for the whole project. */
export function onnxModelType(): protobuf.Type {
  return modelProtoType();
}

export { preprocessPixels, type Preprocessing };

export interface OnnxInfo {
  inputName: string;
  outputName: string;
  /** Input dims; a symbolic (batch) dim is -1. */
  inputShape: number[];
  layout: 'flat' | 'nchw';
  preprocessing: Preprocessing;
  metadata: Record<string, string>;
}

/**
 * Input/output names, input shape, layout and preprocessing of an ONNX model (framework/export's
 * reader); without preprocessing metadata the scale defaults to 255.
 */
export function readOnnxInfo(bytes: Uint8Array, where = 'ONNX model'): OnnxInfo {
  const m = readOnnxMeta(bytes, where);
  return { inputName: m.inputName, outputName: m.outputName, inputShape: m.inputShape, layout: m.layout, preprocessing: m.preprocessing ?? { scale: 255 }, metadata: m.metadata };
}
