/**
 * A trained tfjs-layers Sequential -> an ONNX model (opset 17, IR version 8, so Debian's python3-onnx
 * 1.12 checker validates it and every current runtime loads it).
 *
 * Graph contract, the same for every bnx model:
 *   input          'input', float32, [batch, 784] (flat) or [batch, C, H, W] (NCHW, PyTorch's convention)
 *   outputs        'logits' [batch, classes] and 'probabilities' = Softmax(logits, axis -1)
 *   metadata_props bnx_version, run_key, class_names (JSON array), preprocessing (JSON
 *                  {scale, mean?, std?}: input = (pixel / scale - mean) / std), input_layout
 *                  ('flat' | 'nchw'), input_shape (JSON, without batch), producer_name 'bnx'
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { Preprocessing } from '../data/index.js';
import { GraphBuilder } from './graph.js';
import { familyOf, type TensorRef } from '../layers/index.js';
import { DATA_TYPE, encodeModel, type DimObj, type ValueInfoProtoObj } from './onnx-proto.js';

export const OPSET = 17;
export const IR_VERSION = 8;
export const INPUT_NAME = 'input';
export const LOGITS_NAME = 'logits';
export const PROBABILITIES_NAME = 'probabilities';

/** The one Preprocessing type: the data stage's (framework/data/pixels.ts). */
export type { Preprocessing };

export interface ExportMeta {
  bnxVersion: string;
  runKey: string;
  classNames: string[];
  preprocessing: Preprocessing;
  /** How the tfjs model takes its input: flat vectors, or NHWC images (exported as NCHW). */
  inputLayout: 'flat' | 'nhwc';
}

function valueInfo(name: string, dims: (number | string)[], doc?: string): ValueInfoProtoObj {
  const dim: DimObj[] = dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d }));
  return { name, type: { tensorType: { elemType: DATA_TYPE.FLOAT, shape: { dim } } }, ...(doc ? { docString: doc } : {}) };
}

/**
 * The model's layers in graph order (tfjs keeps model.layers topological), each with the layers it
 * reads (-1: the model input). A chain (MLP, CNN) and a ResNet's skip connections both; shared
 * layers (one layer applied twice) are refused.
 */
function graphOrder(model: LayersModel): { layer: Layer; inputs: number[] }[] {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new Error(`ONNX export: the model has ${model.inputs.length} inputs and ${model.outputs.length} outputs; bnx exports single-input, single-output models`);
  }
  const ls = (model.layers as unknown as Layer[]).filter((l) => l.getClassName() !== 'InputLayer');
  const index = new Map(ls.map((l, i) => [l, i]));
  return ls.map((l) => {
    if (l.inboundNodes.length !== 1) throw new Error(`ONNX export: layer ${l.name} is applied ${l.inboundNodes.length} times (shared layers are not supported)`);
    return { layer: l, inputs: (l.inboundNodes[0]!.inboundLayers as Layer[]).map((p) => index.get(p) ?? -1) };
  });
}

export function exportOnnx(model: LayersModel, meta: ExportMeta): Uint8Array {
  const tfShape = model.inputs[0]!.shape.slice(1);
  if (tfShape.some((d) => d == null)) throw new Error(`ONNX export: the model input shape [${tfShape.join(', ')}] has unknown dimensions`);
  const shape = tfShape as number[];
  const g = new GraphBuilder([INPUT_NAME, LOGITS_NAME, PROBABILITIES_NAME]);

  let x: TensorRef;
  let inputDims: number[];
  if (meta.inputLayout === 'nhwc') {
    if (shape.length !== 3) throw new Error(`ONNX export: inputLayout 'nhwc' needs a [H, W, C] model input, got [${shape.join(', ')}]`);
    const [h, w, c] = shape as [number, number, number];
    inputDims = [c, h, w];
    x = { name: INPUT_NAME, shape, layout: 'first' };
  } else {
    const size = shape.reduce((p, q) => p * q, 1);
    inputDims = [size];
    x = { name: INPUT_NAME, shape: [size], layout: 'last' };
    if (shape.length > 1) {
      // A flat ONNX input for a model that takes images (it starts with Flatten): restore the tfjs shape.
      x = { name: g.node('Reshape', [INPUT_NAME, g.int64s([0, ...shape])], {}, 'input_reshape'), shape, layout: 'last' };
    }
  }

  // Every layer's family first, so an unsupported layer is named before any graph is written.
  const steps = graphOrder(model).map((s) => ({ ...s, family: familyOf(s.layer, 'ONNX export') }));
  const input = x;
  const outs: TensorRef[] = [];
  steps.forEach(({ layer, family, inputs }, i) => {
    const [first, ...more] = inputs.map((j) => (j < 0 ? input : outs[j]!));
    outs[i] = family.onnx(layer, first!, g, more);
  });
  x = outs[outs.length - 1] ?? input;

  if (x.shape.length !== 1) throw new Error(`ONNX export: the model ends in shape [${x.shape.join(', ')}]; bnx expects [classes] logits`);
  const classes = x.shape[0]!;
  if (meta.classNames.length !== classes) {
    throw new Error(`ONNX export: ${meta.classNames.length} class names for a model with ${classes} outputs`);
  }
  // The last node's output becomes 'logits' (an Identity only if no node produced it, e.g. a bare input).
  if (g.nodes.some((n) => n.output.includes(x.name))) g.renameOutput(x.name, LOGITS_NAME);
  else g.rawNode('Identity', [x.name], [LOGITS_NAME], {}, 'logits_identity');
  g.rawNode('Softmax', [LOGITS_NAME], [PROBABILITIES_NAME], { axis: { i: -1 } }, 'softmax');

  const layout = meta.inputLayout === 'nhwc' ? 'nchw' : 'flat';
  const metadata: Record<string, string> = {
    bnx_version: meta.bnxVersion,
    run_key: meta.runKey,
    class_names: JSON.stringify(meta.classNames),
    preprocessing: JSON.stringify(meta.preprocessing),
    input_layout: layout,
    input_shape: JSON.stringify(inputDims),
    producer_name: 'bnx',
  };
  const pre = meta.preprocessing;
  const norm = pre.mean && pre.std ? ` - mean ${JSON.stringify(pre.mean)}) / std ${JSON.stringify(pre.std)}` : ')';
  return encodeModel({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'bnx',
    producerVersion: meta.bnxVersion,
    docString: `bnx run ${meta.runKey}: ${classes}-class classifier. Input ${layout === 'nchw' ? 'NCHW images' : 'flat vectors'} = (pixel / ${pre.scale}${norm}.`,
    graph: {
      name: `bnx_${meta.runKey}`.slice(0, 120),
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(INPUT_NAME, ['batch', ...inputDims], `(pixel / ${pre.scale}${norm}`)],
      output: [valueInfo(LOGITS_NAME, ['batch', classes]), valueInfo(PROBABILITIES_NAME, ['batch', classes])],
    },
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  });
}
