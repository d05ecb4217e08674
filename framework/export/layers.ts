/**
 * tfjs-layers layers -> ONNX nodes, one converter per layer class.
 *
 * Layout: tfjs is channels-last (NHWC); ONNX's Conv/Pool/BatchNormalization/InstanceNormalization are
 * channels-first (NCHW). Each tensor carries its logical tfjs shape and its physical layout, and a
 * converter asks for the layout it needs (a Transpose is inserted only on a change). A CNN therefore
 * runs NCHW from the input through the conv blocks; LayerNormalization (last axis) and Flatten (tfjs
 * flattens in NHWC order) switch to NHWC, so the dense head sees features in tfjs' order and the
 * Dense kernels are used unchanged.
 */
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { emitActivation } from './activations.js';
import type { GraphBuilder } from './graph.js';

export interface TensorRef {
  name: string;
  /** Logical tfjs shape without the batch dim (channels last), e.g. [28, 28, 16] or [64]. */
  shape: number[];
  /** Physical order in the ONNX graph; only meaningful for rank > 2. */
  layout: 'last' | 'first';
}

export type Converter = (layer: Layer, x: TensorRef, g: GraphBuilder) => TensorRef;

type Config = Record<string, unknown>;

function config(layer: Layer): Config {
  return layer.getConfig() as Config;
}

function outShape(layer: Layer): number[] {
  const s = layer.outputShape;
  if (!Array.isArray(s) || Array.isArray(s[0])) throw new Error(`ONNX export: layer ${layer.name} has several outputs`);
  const dims = (s as (number | null)[]).slice(1);
  if (dims.some((d) => d == null)) throw new Error(`ONNX export: layer ${layer.name} has an unknown output dimension [${dims.join(', ')}]`);
  return dims as number[];
}

/** The layer's weights by their short name (kernel, bias, gamma, beta, moving_mean, ...). */
function weights(layer: Layer): Map<string, { shape: number[]; values: Float32Array }> {
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const w of layer.weights) {
    const short = w.originalName.split('/').pop()!.replace(/_\d+$/, '');
    const t = w.read();
    out.set(short, { shape: t.shape, values: Float32Array.from(t.dataSync() as Float32Array) });
  }
  return out;
}

function need(ws: ReturnType<typeof weights>, key: string, layer: Layer) {
  const w = ws.get(key);
  if (!w) throw new Error(`ONNX export: layer ${layer.name} (${layer.getClassName()}) has no '${key}' weight`);
  return w;
}

function pair(v: unknown, what: string, layer: Layer): [number, number] {
  const a = Array.isArray(v) ? v : [v, v];
  if (a.length !== 2 || !a.every((n) => Number.isInteger(n))) throw new Error(`ONNX export: layer ${layer.name}: ${what} ${JSON.stringify(v)} is not 2 integers`);
  return [a[0] as number, a[1] as number];
}

function channelsLastOnly(layer: Layer): void {
  const f = config(layer).dataFormat;
  if (f !== undefined && f !== 'channelsLast') {
    throw new Error(`ONNX export: layer ${layer.name} (${layer.getClassName()}) uses dataFormat ${String(f)}; only channelsLast is supported`);
  }
}

const spatialRank = (t: TensorRef) => t.shape.length - 1;

/** Physical channels-first permutation helpers for rank r = shape.length + 1. */
export function toFirst(g: GraphBuilder, t: TensorRef): TensorRef {
  if (t.shape.length < 2 || t.layout === 'first') return t;
  const r = t.shape.length + 1;
  const perm = [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)];
  return { ...t, layout: 'first', name: g.node('Transpose', [t.name], { perm: { ints: perm } }, 'to_nchw') };
}

export function toLast(g: GraphBuilder, t: TensorRef): TensorRef {
  if (t.shape.length < 2 || t.layout === 'last') return t;
  const r = t.shape.length + 1;
  const perm = [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1];
  return { ...t, layout: 'last', name: g.node('Transpose', [t.name], { perm: { ints: perm } }, 'to_nhwc') };
}

/** Per-channel vector shaped to broadcast against the tensor's physical layout. */
function channelDims(t: TensorRef, c: number): number[] {
  return t.layout === 'first' && t.shape.length >= 2 ? [c, ...Array(spatialRank(t)).fill(1)] : [c];
}

/** TF "same" padding: pad total split with the extra at the end ([begins..., ends...]). */
function samePads(inSize: number[], kernel: number[], strides: number[], dilations: number[]): number[] {
  const begins: number[] = [];
  const ends: number[] = [];
  inSize.forEach((n, i) => {
    const out = Math.ceil(n / strides[i]!);
    const total = Math.max((out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - n, 0);
    begins.push(Math.floor(total / 2));
    ends.push(total - Math.floor(total / 2));
  });
  return [...begins, ...ends];
}

function pads(layer: Layer, x: TensorRef, kernel: number[], strides: number[], dilations: number[]): number[] {
  const padding = config(layer).padding;
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') return samePads(x.shape.slice(0, 2), kernel, strides, dilations);
  throw new Error(`ONNX export: layer ${layer.name}: padding ${String(padding)} is not supported (same, valid)`);
}

function activationOf(layer: Layer, g: GraphBuilder, y: TensorRef): TensorRef {
  const act = config(layer).activation;
  if (act === undefined || act === null) return y;
  return { ...y, name: emitActivation(g, String(act), y.name, `${layer.name}_act`, layer.name) };
}

const identity: Converter = (layer, x) => ({ ...x, shape: outShape(layer) });

const dense: Converter = (layer, x, g) => {
  const ws = weights(layer);
  const k = need(ws, 'kernel', layer);
  const b = ws.get('bias');
  const units = k.shape[1]!;
  let y: string;
  if (x.shape.length === 1) {
    const inputs = [x.name, g.weight(`${layer.name}.weight`, k.shape, k.values)];
    if (b) inputs.push(g.weight(`${layer.name}.bias`, b.shape, b.values));
    y = g.node('Gemm', inputs, {}, layer.name);
  } else {
    // tfjs applies Dense to the last axis of a higher-rank input.
    x = toLast(g, x);
    y = g.node('MatMul', [x.name, g.weight(`${layer.name}.weight`, k.shape, k.values)], {}, `${layer.name}_matmul`);
    if (b) y = g.node('Add', [y, g.weight(`${layer.name}.bias`, b.shape, b.values)], {}, layer.name);
  }
  return activationOf(layer, g, { name: y, shape: [...x.shape.slice(0, -1), units], layout: x.layout });
};

const conv2d: Converter = (layer, x, g) => {
  channelsLastOnly(layer);
  if (x.shape.length !== 3) throw new Error(`ONNX export: Conv2D ${layer.name} needs an image input [H, W, C], got [${x.shape.join(', ')}]`);
  const c = config(layer);
  const ws = weights(layer);
  const k = need(ws, 'kernel', layer);
  const b = ws.get('bias');
  const [kh, kw, cin, cout] = k.shape as [number, number, number, number];
  // HWIO -> OIHW
  const w = new Float32Array(k.values.length);
  for (let h = 0; h < kh; h++)
    for (let v = 0; v < kw; v++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) w[((o * cin + i) * kh + h) * kw + v] = k.values[((h * kw + v) * cin + i) * cout + o]!;
  const strides = pair(c.strides ?? 1, 'strides', layer);
  const dilations = pair(c.dilationRate ?? 1, 'dilationRate', layer);
  x = toFirst(g, x);
  const inputs = [x.name, g.weight(`${layer.name}.weight`, [cout, cin, kh, kw], w)];
  if (b) inputs.push(g.weight(`${layer.name}.bias`, b.shape, b.values));
  const y = g.node(
    'Conv',
    inputs,
    {
      kernel_shape: { ints: [kh, kw] },
      strides: { ints: strides },
      dilations: { ints: dilations },
      pads: { ints: pads(layer, x, [kh, kw], strides, dilations) },
      group: { i: 1 },
    },
    layer.name,
  );
  return activationOf(layer, g, { name: y, shape: outShape(layer), layout: 'first' });
};

const pool =
  (op: 'MaxPool' | 'AveragePool'): Converter =>
  (layer, x, g) => {
    channelsLastOnly(layer);
    if (x.shape.length !== 3) throw new Error(`ONNX export: ${layer.getClassName()} ${layer.name} needs an image input [H, W, C]`);
    const c = config(layer);
    const size = pair(c.poolSize, 'poolSize', layer);
    const strides = pair(c.strides ?? c.poolSize, 'strides', layer);
    x = toFirst(g, x);
    // AveragePool's count_include_pad defaults to 0: padded cells are not counted, as in tfjs.
    const y = g.node(op, [x.name], { kernel_shape: { ints: size }, strides: { ints: strides }, pads: { ints: pads(layer, x, size, strides, [1, 1]) } }, layer.name);
    return { name: y, shape: outShape(layer), layout: 'first' };
  };

const flatten: Converter = (layer, x, g) => {
  if (x.shape.length === 1) return x;
  // tfjs flattens in NHWC order, so the following Dense kernel rows are in that order.
  x = toLast(g, x);
  return { name: g.node('Flatten', [x.name], { axis: { i: 1 } }, layer.name), shape: outShape(layer), layout: 'last' };
};

/** True if the tfjs `axis` config means "the last axis" for an input of this rank (batch included). */
function isLastAxis(axis: unknown, rank: number): boolean {
  const a = Array.isArray(axis) ? axis : [axis];
  return a.length === 1 && (a[0] === -1 || a[0] === rank - 1);
}

const batchNorm: Converter = (layer, x, g) => {
  const c = config(layer);
  if (!isLastAxis(c.axis, x.shape.length + 1)) throw new Error(`ONNX export: BatchNormalization ${layer.name} normalizes axis ${JSON.stringify(c.axis)}; only the last (channel) axis is supported`);
  const ws = weights(layer);
  const ch = x.shape[x.shape.length - 1]!;
  const mean = need(ws, 'moving_mean', layer);
  const variance = need(ws, 'moving_variance', layer);
  const gamma = ws.get('gamma')?.values ?? new Float32Array(ch).fill(1);
  const beta = ws.get('beta')?.values ?? new Float32Array(ch);
  x = toFirst(g, x);
  const y = g.node(
    'BatchNormalization',
    [
      x.name,
      g.weight(`${layer.name}.weight`, [ch], gamma),
      g.weight(`${layer.name}.bias`, [ch], beta),
      g.weight(`${layer.name}.running_mean`, [ch], mean.values),
      g.weight(`${layer.name}.running_var`, [ch], variance.values),
    ],
    { epsilon: { f: Number(c.epsilon ?? 1e-3) } },
    layer.name,
  );
  return { ...x, name: y };
};

const layerNorm: Converter = (layer, x, g) => {
  const c = config(layer);
  if (!isLastAxis(c.axis, x.shape.length + 1)) throw new Error(`ONNX export: LayerNormalization ${layer.name} normalizes axes ${JSON.stringify(c.axis)}; only the last axis is supported`);
  const ws = weights(layer);
  const ch = x.shape[x.shape.length - 1]!;
  x = toLast(g, x);
  const inputs = [x.name, g.weight(`${layer.name}.weight`, [ch], ws.get('gamma')?.values ?? new Float32Array(ch).fill(1))];
  const beta = ws.get('beta');
  if (beta) inputs.push(g.weight(`${layer.name}.bias`, [ch], beta.values));
  const y = g.node('LayerNormalization', inputs, { axis: { i: -1 }, epsilon: { f: Number(c.epsilon ?? 1e-3) } }, layer.name);
  return { ...x, name: y };
};

/** Optional per-channel affine after a normalization: y * gamma + beta, shaped for the layout. */
function affine(g: GraphBuilder, layer: Layer, y: TensorRef, ws: ReturnType<typeof weights>): TensorRef {
  const ch = y.shape[y.shape.length - 1]!;
  const dims = channelDims(y, ch);
  let name = y.name;
  const gamma = ws.get('gamma');
  const beta = ws.get('beta');
  if (gamma) name = g.node('Mul', [name, g.weight(`${layer.name}.weight`, dims, gamma.values)], {}, `${layer.name}_scale`);
  if (beta) name = g.node('Add', [name, g.weight(`${layer.name}.bias`, dims, beta.values)], {}, `${layer.name}_shift`);
  return { ...y, name };
}

/**
 * GroupNorm as PyTorch exports it: Reshape [N, G, -1] -> InstanceNormalization (unit scale, zero
 * bias) -> Reshape back -> Mul gamma -> Add beta. Channels-first makes each group's channels and all
 * their spatial positions contiguous, exactly the set tfjs normalizes together.
 */
const groupNorm: Converter = (layer, x, g) => {
  const c = config(layer);
  const groups = Number(c.groups);
  const ch = x.shape[x.shape.length - 1]!;
  if (!Number.isInteger(groups) || groups < 1 || ch % groups !== 0) throw new Error(`ONNX export: ${layer.name}: ${String(c.groups)} groups do not divide ${ch} channels`);
  x = toFirst(g, x);
  const physical = x.layout === 'first' && x.shape.length >= 2 ? [ch, ...x.shape.slice(0, -1)] : x.shape;
  const grouped = g.node('Reshape', [x.name, g.int64s([0, groups, -1])], {}, `${layer.name}_group`);
  const normed = g.node(
    'InstanceNormalization',
    [grouped, g.weight(`${layer.name}.unit_scale`, [groups], new Float32Array(groups).fill(1)), g.weight(`${layer.name}.zero_bias`, [groups], new Float32Array(groups))],
    { epsilon: { f: Number(c.epsilon ?? 1e-5) } },
    `${layer.name}_instnorm`,
  );
  const back = g.node('Reshape', [normed, g.int64s([0, ...physical])], {}, `${layer.name}_ungroup`);
  return affine(g, layer, { ...x, name: back }, weights(layer));
};

/** RMSNorm over the channel axis, decomposed: x / sqrt(mean(x^2) + eps) * gamma. */
const rmsNorm: Converter = (layer, x, g) => {
  const c = config(layer);
  const axis = x.layout === 'first' && x.shape.length >= 2 ? 1 : -1;
  const sq = g.node('Pow', [x.name, g.scalar(2)], {}, `${layer.name}_sq`);
  const ms = g.node('ReduceMean', [sq], { axes: { ints: [axis] }, keepdims: { i: 1 } }, `${layer.name}_meansq`);
  const rms = g.node('Sqrt', [g.node('Add', [ms, g.scalar(Number(c.epsilon ?? 1e-5))], {}, `${layer.name}_eps`)], {}, `${layer.name}_rms`);
  const y = g.node('Div', [x.name, rms], {}, layer.name);
  return affine(g, layer, { ...x, name: y }, weights(layer));
};

const activationLayer: Converter = (layer, x, g) => ({
  ...x,
  name: emitActivation(g, String(config(layer).activation), x.name, layer.name, layer.name),
});

const leakyRelu: Converter = (layer, x, g) => ({
  ...x,
  name: g.node('LeakyRelu', [x.name], { alpha: { f: Number(config(layer).alpha ?? 0.3) } }, layer.name),
});

const eluLayer: Converter = (layer, x, g) => ({
  ...x,
  name: g.node('Elu', [x.name], { alpha: { f: Number(config(layer).alpha ?? 1) } }, layer.name),
});

const reluLayer: Converter = (layer, x, g) => {
  const max = config(layer).maxValue;
  const name = max == null ? g.node('Relu', [x.name], {}, layer.name) : g.node('Clip', [x.name, g.scalar(0), g.scalar(Number(max))], {}, layer.name);
  return { ...x, name };
};

/**
 * Converters by tfjs className. Dropout-like layers are the identity at inference time and are
 * dropped; any custom layer whose className ends in "Dropout" is treated the same way.
 */
export const CONVERTERS: Record<string, Converter> = {
  Dense: dense,
  Conv2D: conv2d,
  MaxPooling2D: pool('MaxPool'),
  AveragePooling2D: pool('AveragePool'),
  Flatten: flatten,
  BatchNormalization: batchNorm,
  LayerNormalization: layerNorm,
  BnxGroupNormalization: groupNorm,
  BnxRMSNormalization: rmsNorm,
  Activation: activationLayer,
  LeakyReLU: leakyRelu,
  ELU: eluLayer,
  ReLU: reluLayer,
  Dropout: identity,
  SpatialDropout1D: identity,
  GaussianNoise: identity,
  GaussianDropout: identity,
  AlphaDropout: identity,
};

export function converterFor(layer: Layer): Converter {
  const cls = layer.getClassName();
  const conv = CONVERTERS[cls] ?? (/Dropout$/.test(cls) ? identity : undefined);
  if (!conv) {
    throw new Error(
      `ONNX export: layer ${layer.name} of class ${cls} is not supported. Supported layer classes: ${Object.keys(CONVERTERS).join(', ')} (and *Dropout, dropped).`,
    );
  }
  return conv;
}
