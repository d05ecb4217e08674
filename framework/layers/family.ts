/**
 * What a layer family is: every part bnx needs of one kind of layer, in one module. The registry
 * (registry.ts) holds one LayerFamily per kind and is typed, so a family without a training node, an
 * ONNX converter or its test examples does not compile, and a tfjs layer class that no family owns is
 * refused when the training graph is compiled (before any compute is spent), not after training.
 *
 * The parts, after tfjs-layers (one file per layer family), tinygrad (an op's forward and backward
 * side by side) and Keras 3 (`get(name)` registries):
 *   classNames  the tfjs-layers classes the family owns (getClassName()), for saved models
 *   node        the training engine's forward/backward for one layer (fast kernels live beside it)
 *   onnx        the ONNX converter (tfjs channels-last tensor in, ONNX nodes out)
 *   examples    small models containing the family: the generated tests (families.test.ts) check
 *               gradients against tf autodiff on cpu and wasm, engine forward against tfjs-layers in
 *               training and inference mode, ONNX parity with onnxruntime and save/load round trips
 * Norm families (norms/) add the builder the model stage calls and their YAML options.
 *
 * Nodes take one input and give one output, except those with an `arity` above 1 (the residual Add
 * of a ResNet): their other inputs come in `more` and their gradients go out in `dxMore`. The engine
 * runs a chain as a chain, and any other model in graph order (train/engine.ts); kernels specialised
 * per backend stay inside the family's node.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { ModelConfig } from '../config/index.js';
import type { Rng } from '../util/random.js';
import type { FastBuild, FastNode } from './fast-node.js';
import type { OnnxGraph, TensorRef } from './onnx.js';

/** What one step needs besides the input. */
export interface StepContext {
  training: boolean;
  /** Dropout masks are drawn from this stream (a new mask every step). */
  dropoutRng: Rng;
}

/** One layer of a compiled model: forward with plain tf ops (caching what backward needs), backward by hand. */
export interface Node {
  readonly layer: Layer;
  /** Trainable variables, in the layer's order. */
  readonly params: tf.Variable[];
  /** Inputs the node takes (default 1); inputs after the first arrive in `more`. */
  readonly arity?: number;
  forward(x: tf.Tensor, ctx: StepContext, more?: tf.Tensor[]): tf.Tensor;
  /**
   * dL/dx (null when not needed) and dL/dparams in `params` order, and for a node of arity > 1 the
   * gradients of its other inputs in `dxMore`. Uses state cached by forward.
   */
  backward(dy: tf.Tensor, needDx: boolean): { dx: tf.Tensor | null; grads: tf.Tensor[]; dxMore?: (tf.Tensor | null)[] };
  /** Write state the node keeps outside the layer's variables (running statistics) into them. */
  syncState?(): void;
}

/** A layer's ONNX nodes; `more` holds the inputs after the first (the residual Add). */
export type Converter = (layer: Layer, x: TensorRef, g: OnnxGraph, more?: TensorRef[]) => TensorRef;

/** A model the generated tests build (through the model stage) to exercise a family. */
export interface FamilyExample {
  name: string;
  model: Partial<ModelConfig>;
  /** Per-example input shape: [features] or [H, W, C]. */
  inputShape: number[];
}

export interface LayerFamily {
  /** The family's name (for norms: the YAML name). */
  readonly name: string;
  readonly classNames: readonly string[];
  node(layer: Layer): Node;
  /**
   * The layer on the wasm fast path (fast-node.ts), null for a configuration it does not cover;
   * absent: models with this layer train on the tf engine.
   */
  fast?(layer: Layer, b: FastBuild): FastNode | null;
  readonly onnx: Converter;
  readonly examples: readonly FamilyExample[];
  /**
   * The training-mode forward draws random numbers (dropout), so it is compared with tfjs-layers'
   * training-mode call only in distribution, not value by value.
   */
  readonly stochastic?: boolean;
}
