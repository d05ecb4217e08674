/** Helpers the families' training nodes share: the layer's variables by name, and a VJP. */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerVariable } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { heapView, wasmHeapAvailable } from '../tfjs/index.js';
import type { Node } from './family.js';

export type Config = Record<string, unknown>;

const variable = (lv: LayerVariable | null | undefined): tf.Variable | null => (lv ? (lv.read() as tf.Variable) : null);

/** The layer's variables by short name (kernel, bias, gamma, ...); null where the layer has none. */
export function weightsOf(layer: Layer, ...names: string[]): (tf.Variable | null)[] {
  const byName = new Map<string, LayerVariable>();
  for (const w of layer.weights) byName.set(w.originalName.split('/').pop()!, w);
  return names.map((n) => variable(byName.get(n)));
}

export const nonNull = (vs: (tf.Variable | null)[]): tf.Variable[] => vs.filter((v): v is tf.Variable => v !== null);

/** A training node with a kernel and an optional bias (Dense, Conv2D), and the ReLU the engine may fuse into it. */
export abstract class KernelNode implements Node {
  readonly params: tf.Variable[];
  /** Set by the engine when a ReLU follows: the forward applies it in the fused kernel. */
  fuseRelu = false;
  constructor(
    readonly layer: Layer,
    protected readonly kernel: tf.Variable,
    protected readonly bias: tf.Variable | null,
  ) {
    this.params = nonNull([kernel, bias]);
  }
  abstract forward(x: tf.Tensor): tf.Tensor;
  abstract backward(dy: tf.Tensor, needDx: boolean): { dx: tf.Tensor | null; grads: tf.Tensor[] };
}

/** Vector-Jacobian product through `f` (recomputes the forward under a tape). */
export function vjp(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  return tf.grads(f)(inputs, dy);
}

export const configOf = (layer: Layer): Config => layer.getConfig() as Config;

/**
 * A float32 tensor's values for a kernel written in JavaScript: in place on the tfjs-wasm heap (valid
 * until the next tf op), else tf's own copy (dataSync). Read it before creating the next tensor.
 */
export const tensorData = (t: tf.Tensor): Float32Array => (wasmHeapAvailable() ? heapView(t) : (t.dataSync() as Float32Array));
