/**
 * BnxSubsample: keep every `stride`-th row and column starting at 0 (x[:, ::s, ::s, :]) and pad the
 * channels with zeros (`padBefore`, `padAfter`). Two uses in a ResNet (model/resnet.ts):
 *   - after a stride-1 'same' 3x3 conv it makes PyTorch's stride-2 conv with padding 1 (the output
 *     rows 0, 2, 4, ... of the stride-1 conv), so the conv family keeps its one training path;
 *   - with channel padding it is He et al.'s option A shortcut (identity, subsampled, zero-padded).
 * Serializable as 'BnxSubsample'. Training node and ONNX converter (Slice with steps, then Pad) here.
 */
import * as tf from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { Converter, Node } from '../family.js';
import { outShape } from '../onnx.js';

export interface SubsampleArgs {
  stride: number;
  padBefore?: number;
  padAfter?: number;
  name?: string;
  trainable?: boolean;
}

export class Subsample extends layers.Layer {
  static readonly className = 'BnxSubsample';
  readonly stride: number;
  readonly padBefore: number;
  readonly padAfter: number;

  constructor(args: SubsampleArgs) {
    super({ ...args, trainable: false });
    this.stride = args.stride;
    this.padBefore = args.padBefore ?? 0;
    this.padAfter = args.padAfter ?? 0;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => subsample(Array.isArray(inputs) ? inputs[0]! : inputs, this.stride, this.padBefore, this.padAfter));
  }

  override computeOutputShape(inputShape: (number | null)[] | (number | null)[][]): (number | null)[] {
    const [n, h, w, c] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
    const down = (d: number | null) => (d == null ? null : Math.ceil(d / this.stride));
    return [n ?? null, down(h!), down(w!), c == null ? null : c + this.padBefore + this.padAfter];
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), stride: this.stride, padBefore: this.padBefore, padAfter: this.padAfter };
  }
}
tf.serialization.registerClass(Subsample);

export function subsampleLayer(name: string, stride: number, padBefore = 0, padAfter = 0): Layer {
  return new Subsample({ name, stride, padBefore, padAfter }) as unknown as Layer;
}

/** x[:, ::s, ::s, :] with the channels zero-padded; plain ops only (pad, reshape, slice: every backend). */
export function subsample(x: tf.Tensor, s: number, before: number, after: number): tf.Tensor {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const [oh, ow] = [Math.ceil(h / s), Math.ceil(w / s)];
  let y = x;
  if (s > 1) {
    // Pad to a multiple of s, split each spatial axis into (out, s) and keep phase 0.
    if (oh * s !== h || ow * s !== w) y = tf.pad(y, [[0, 0], [0, oh * s - h], [0, ow * s - w], [0, 0]]);
    y = tf.reshape(tf.slice(tf.reshape(y, [n, oh, s, ow, s, c]), [0, 0, 0, 0, 0, 0], [n, oh, 1, ow, 1, c]), [n, oh, ow, c]);
  }
  return before || after ? tf.pad(y, [[0, 0], [0, 0], [0, 0], [before, after]]) : y;
}

export class SubsampleNode implements Node {
  readonly params: tf.Variable[] = [];
  private inShape: number[] = [];
  constructor(readonly layer: Layer) {}
  private get cfg(): Subsample {
    return this.layer as unknown as Subsample;
  }
  forward(x: tf.Tensor): tf.Tensor {
    this.inShape = x.shape;
    return subsample(x, this.cfg.stride, this.cfg.padBefore, this.cfg.padAfter);
  }
  /** The adjoint: drop the padded channels, put each value back at its phase-0 place, zeros elsewhere. */
  backward(dy: tf.Tensor, needDx: boolean): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    if (!needDx) return { dx: null, grads: [] };
    const { stride: s, padBefore } = this.cfg;
    const [n, h, w, c] = this.inShape as [number, number, number, number];
    const [, oh, ow] = dy.shape as [number, number, number, number];
    let d = padBefore || this.cfg.padAfter ? tf.slice(dy, [0, 0, 0, padBefore], [n, oh, ow, c]) : dy;
    if (s > 1) {
      d = tf.reshape(tf.pad(tf.reshape(d, [n, oh, 1, ow, 1, c]), [[0, 0], [0, 0], [0, s - 1], [0, 0], [0, s - 1], [0, 0]]), [n, oh * s, ow * s, c]);
      if (oh * s !== h || ow * s !== w) d = tf.slice(d, [0, 0, 0, 0], [n, h, w, c]);
    }
    return { dx: d, grads: [] };
  }
}

/** Slice with steps on the spatial axes, then Pad on the channel axis, in whatever layout x is. */
export const subsampleOnnx: Converter = (layer, x, g) => {
  const { stride: s, padBefore, padAfter } = layer as unknown as Subsample;
  if (x.shape.length !== 3) throw new Error(`ONNX export: ${layer.name} needs an image input [H, W, C]`);
  const [hAxis, wAxis, cAxis] = x.layout === 'first' ? [2, 3, 1] : [1, 2, 3];
  let name = x.name;
  if (s > 1) {
    const big = 2 ** 31 - 1;
    name = g.node('Slice', [name, g.int64s([0, 0]), g.int64s([big, big]), g.int64s([hAxis, wAxis]), g.int64s([s, s])], {}, layer.name);
  }
  if (padBefore || padAfter) {
    const pads = [0, 0, 0, 0, 0, 0, 0, 0];
    pads[cAxis] = padBefore;
    pads[4 + cAxis] = padAfter;
    name = g.node('Pad', [name, g.int64s(pads)], { mode: { s: 'constant' } }, `${layer.name}_pad`);
  }
  return { name, shape: outShape(layer), layout: x.layout };
};
