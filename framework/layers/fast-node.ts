/**
 * A layer on the wasm fast path (train/fast-graph.ts): the whole training step runs in the layer
 * families' own WebAssembly SIMD kernels on one KernelMemory per run. A family offers one through
 * LayerFamily.fast; a model whose every layer has one trains on the fast path when the backend is
 * wasm, any other model (or backend) on the tf engine (train/engine.ts), unchanged.
 *
 * Activations are row-major [rows, stride] with `width` real features and stride a multiple of 8
 * (padding columns hold zeros; the kernels' tiles need no edge cases). Rows: a capacity fixed when the
 * graph is compiled (the larger of the batch and the evaluation chunk, a multiple of 4).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { StepContext } from './family.js';
import type { KernelMemory, ParamRegion, Region } from './kernel-memory.js';

export interface Act {
  buf: Region;
  width: number;
  stride: number;
}

export interface FastBuild {
  mem: KernelMemory;
  input: Act;
  /** Row capacity of every buffer (a multiple of 4). */
  rows: number;
  /** The most rows a training step (forward + backward) has: buffers only backward uses need no more. */
  batch: number;
  /** Whether backward may be asked for dx (a weighted layer comes before this one). */
  needDx: boolean;
}

/** A tf variable [rows, cols] (a vector: rows 1) held in the memory as [rows, stride]. */
export interface FastParam {
  variable: tf.Variable;
  region: ParamRegion;
  rows: number;
  cols: number;
  stride: number;
}

export interface FastNode {
  readonly layer: Layer;
  /** Where the output is. It may be the input's buffer (in-place layers); a node must not need its
   * output in backward, since the next layer may overwrite it in place. */
  readonly out: Act;
  /** Trainable parameters in the layer's order (as the tf engine's Node.params). */
  readonly params: FastParam[];
  /** After the memory is committed: instantiate kernels, write constants. */
  init(): void;
  forward(rows: number, ctx: StepContext): void;
  /**
   * Parameter gradients into the params' g regions, and dx when asked: returns the region holding
   * dL/dx (stride of the input), which may be dOut itself (in place), or null.
   */
  backward(rows: number, dOut: Region, needDx: boolean): Region | null;
  /** Write state kept outside the layer's variables (running statistics) into them. */
  syncState?(): void;
}

/** A parameter vector [cols] padded to `stride`. */
export function vectorParam(mem: KernelMemory, variable: tf.Variable, stride: number): FastParam {
  return { variable, region: mem.param(stride), rows: 1, cols: variable.size, stride };
}

/** The per-example shape of a layer's input ([H, W, C] for images). */
export const inputShapeOf = (layer: Layer): number[] => ((layer.input as unknown as { shape: (number | null)[] }).shape.slice(1) as number[]);

/**
 * A node over image pixels: `make` builds a node on [rows*H*W, C] rows (BatchNorm over channels), run
 * here on [rows, H*W*C] images, the same memory (an image row is NHWC). Null unless C % 4 == 0 and the
 * image rows are unpadded.
 */
export function overPixels(b: FastBuild, hwc: readonly number[], make: (pixels: FastBuild) => FastNode | null): FastNode | null {
  const C = hwc[hwc.length - 1]!;
  const hw = b.input.width / C;
  if (C % 4 !== 0 || b.input.stride !== b.input.width) return null;
  const inner = make({ ...b, input: { buf: b.input.buf, width: C, stride: C }, rows: b.rows * hw, batch: b.batch * hw });
  if (!inner) return null;
  const out: Act = { buf: inner.out.buf, width: b.input.width, stride: b.input.stride };
  return {
    layer: inner.layer,
    out,
    params: inner.params,
    init: () => inner.init(),
    forward: (rows, ctx) => inner.forward(rows * hw, ctx),
    backward: (rows, dOut, needDx) => inner.backward(rows * hw, dOut, needDx),
    syncState: () => inner.syncState?.(),
  };
}

/** Byte offset of a region (kernels take bytes). */
export const at = (r: Region): number => r.off * 4;
