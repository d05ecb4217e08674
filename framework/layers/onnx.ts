/**
 * What layer converters share: the graph interface they write to, the tensor they pass along, and the
 * layout helpers.
 *
 * Layout: tfjs is channels-last (NHWC); ONNX's Conv/Pool/BatchNormalization/InstanceNormalization are
 * channels-first (NCHW). Each tensor carries its logical tfjs shape and its physical layout, and a
 * converter asks for the layout it needs (a Transpose is inserted only on a change). A CNN therefore
 * runs NCHW from the input through the conv blocks; LayerNormalization (last axis) and Flatten (tfjs
 * flattens in NHWC order) switch to NHWC, so the dense head sees features in tfjs' order and the
 * Dense kernels are used unchanged.
 */
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';

/** An attribute value with its ONNX type made explicit (1 and 1.0 are the same number in JS). */
export type Attr = { i: number } | { f: number } | { ints: number[] } | { floats: number[] } | { s: string };

/** The graph a converter writes to (framework/export's GraphBuilder implements it). */
export interface OnnxGraph {
  /** Add one node; returns the name of its (first) output. */
  node(opType: string, inputs: string[], attrs?: Record<string, Attr>, base?: string): string;
  /** A float32 weight tensor. */
  weight(base: string, dims: number[], values: ArrayLike<number>): string;
  /** A float32 scalar constant, shared by value. */
  scalar(value: number): string;
  /** An int64 vector constant, shared by value. */
  int64s(values: number[], base?: string): string;
}

export interface TensorRef {
  name: string;
  /** Logical tfjs shape without the batch dim (channels last), e.g. [28, 28, 16] or [64]. */
  shape: number[];
  /** Physical order in the ONNX graph; only meaningful for rank > 2. */
  layout: 'last' | 'first';
}

type Config = Record<string, unknown>;

export function config(layer: Layer): Config {
  return layer.getConfig() as Config;
}

export function outShape(layer: Layer): number[] {
  const s = layer.outputShape;
  if (!Array.isArray(s) || Array.isArray(s[0])) throw new Error(`ONNX export: layer ${layer.name} has several outputs`);
  const dims = (s as (number | null)[]).slice(1);
  if (dims.some((d) => d == null)) throw new Error(`ONNX export: layer ${layer.name} has an unknown output dimension [${dims.join(', ')}]`);
  return dims as number[];
}

export type Weights = Map<string, { shape: number[]; values: Float32Array }>;

/** The layer's weights by their short name (kernel, bias, gamma, beta, moving_mean, ...). */
export function weights(layer: Layer): Weights {
  const out: Weights = new Map();
  for (const w of layer.weights) {
    const short = w.originalName.split('/').pop()!.replace(/_\d+$/, '');
    const t = w.read();
    out.set(short, { shape: t.shape, values: Float32Array.from(t.dataSync() as Float32Array) });
  }
  return out;
}

export function need(ws: Weights, key: string, layer: Layer) {
  const w = ws.get(key);
  if (!w) throw new Error(`ONNX export: layer ${layer.name} (${layer.getClassName()}) has no '${key}' weight`);
  return w;
}

export function pair(v: unknown, what: string, layer: Layer): [number, number] {
  const a = Array.isArray(v) ? v : [v, v];
  if (a.length !== 2 || !a.every((n) => Number.isInteger(n))) throw new Error(`ONNX export: layer ${layer.name}: ${what} ${JSON.stringify(v)} is not 2 integers`);
  return [a[0] as number, a[1] as number];
}

export function channelsLastOnly(layer: Layer): void {
  const f = config(layer).dataFormat;
  if (f !== undefined && f !== 'channelsLast') {
    throw new Error(`ONNX export: layer ${layer.name} (${layer.getClassName()}) uses dataFormat ${String(f)}; only channelsLast is supported`);
  }
}

const spatialRank = (t: TensorRef) => t.shape.length - 1;

/** Physical channels-first permutation helpers for rank r = shape.length + 1. */
export function toFirst(g: OnnxGraph, t: TensorRef): TensorRef {
  if (t.shape.length < 2 || t.layout === 'first') return t;
  const r = t.shape.length + 1;
  const perm = [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)];
  return { ...t, layout: 'first', name: g.node('Transpose', [t.name], { perm: { ints: perm } }, 'to_nchw') };
}

export function toLast(g: OnnxGraph, t: TensorRef): TensorRef {
  if (t.shape.length < 2 || t.layout === 'last') return t;
  const r = t.shape.length + 1;
  const perm = [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1];
  return { ...t, layout: 'last', name: g.node('Transpose', [t.name], { perm: { ints: perm } }, 'to_nhwc') };
}

/** Per-channel vector shaped to broadcast against the tensor's physical layout. */
export function channelDims(t: TensorRef, c: number): number[] {
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

export function pads(layer: Layer, x: TensorRef, kernel: number[], strides: number[], dilations: number[]): number[] {
  const padding = config(layer).padding;
  if (padding === 'valid') return [0, 0, 0, 0];
  if (padding === 'same') return samePads(x.shape.slice(0, 2), kernel, strides, dilations);
  throw new Error(`ONNX export: layer ${layer.name}: padding ${String(padding)} is not supported (same, valid)`);
}

/** True if the tfjs `axis` config means "the last axis" for an input of this rank (batch included). */
export function isLastAxis(axis: unknown, rank: number): boolean {
  const a = Array.isArray(axis) ? axis : [axis];
  return a.length === 1 && (a[0] === -1 || a[0] === rank - 1);
}

/** Optional per-channel affine after a normalization: y * gamma + beta, shaped for the layout. */
export function affine(g: OnnxGraph, layer: Layer, y: TensorRef, ws: Weights): TensorRef {
  const ch = y.shape[y.shape.length - 1]!;
  const dims = channelDims(y, ch);
  let name = y.name;
  const gamma = ws.get('gamma');
  const beta = ws.get('beta');
  if (gamma) name = g.node('Mul', [name, g.weight(`${layer.name}.weight`, dims, gamma.values)], {}, `${layer.name}_scale`);
  if (beta) name = g.node('Add', [name, g.weight(`${layer.name}.bias`, dims, beta.values)], {}, `${layer.name}_shift`);
  return { ...y, name };
}
