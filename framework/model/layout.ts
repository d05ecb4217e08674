/**
 * How a model takes its input, derived once from the model config: a CNN or ResNet takes images
 * (NHWC in tfjs, exported as NCHW), an MLP flat vectors. The data stage, the exporter and evaluation all ask here.
 */
import type { ModelConfig } from '../config/index.js';

export interface InputLayout {
  /** What prepareData() hands the model: images [H, W, C] or flat vectors. */
  data: 'image' | 'flat';
  /** How the tfjs model is exported (framework/export ExportMeta.inputLayout). */
  onnx: 'nhwc' | 'flat';
}

export function inputLayout(model: Pick<ModelConfig, 'type'>): InputLayout {
  return model.type === 'mlp' ? { data: 'flat', onnx: 'flat' } : { data: 'image', onnx: 'nhwc' };
}
