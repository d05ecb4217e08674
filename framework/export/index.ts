/** ONNX export of trained models, parity verification with onnxruntime (node, else web), and evaluation. */
export { exportOnnx, OPSET, IR_VERSION, INPUT_NAME, LOGITS_NAME, PROBABILITIES_NAME, type ExportMeta, type Preprocessing } from './export.js';
export { verifyOnnx, assertParity, PARITY_TOLERANCE, type ParityResult, type VerifyOptions } from './verify.js';
export { evalOnnx, type EvalResult, type ClassAccuracy } from './eval.js';
export { exportAndVerify, type ExportFigures, type ExportStepOptions } from './pipeline.js';
export { onnxModelInfo, readOnnxBytes, createSession, onnxLogits, type OnnxModelInfo, type Session } from './runtime.js';
export { loadOrt, type LoadedOrt } from './ort.js';
export { readOnnxMeta, type OnnxMeta } from './onnx-meta.js';
export { modelProtoType, decodeModel } from './onnx-proto.js';
