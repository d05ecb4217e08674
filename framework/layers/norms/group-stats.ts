/**
 * The training node of per-example normalization (LayerNorm over the last axis, GroupNorm over groups
 * of channels and all positions) with the backward written out, as BatchNorm's but with statistics
 * per example/group:
 *   dx = invstd * (g - mean(g) - xhat * mean(g * xhat)),  g = dy * gamma, means over the normalized set.
 * x [B, ...spatial, C] is viewed as [B, S, G, C/G]: LayerNorm is G = 1 with S folded into the batch
 * (each position normalized over its channels), GroupNorm reduces over S and C/G.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { Node } from '../family.js';
import { nonNull } from '../node-util.js';

export class GroupStatsNode implements Node {
  readonly params: tf.Variable[];
  private cache: { xhat: tf.Tensor; invstd: tf.Tensor; view: number[]; shape: number[] } | null = null;
  constructor(
    readonly layer: Layer,
    private readonly gamma: tf.Variable | null,
    private readonly beta: tf.Variable | null,
    private readonly epsilon: number,
    /** null: LayerNorm (last axis only); n: GroupNorm with n groups. */
    private readonly groups: number | null,
  ) {
    this.params = nonNull([gamma, beta]);
  }
  private view(shape: number[]): { view: number[]; axes: number[] } {
    const c = shape[shape.length - 1]!;
    const b = shape[0]!;
    const s = shape.slice(1, -1).reduce((p, q) => p * q, 1);
    if (this.groups === null) return { view: [b * s, 1, 1, c], axes: [3] };
    return { view: [b, s, this.groups, c / this.groups], axes: [1, 3] };
  }
  forward(x: tf.Tensor): tf.Tensor {
    const { view, axes } = this.view(x.shape);
    const xr = tf.reshape(x, view);
    const mean = tf.mean(xr, axes, true);
    const xc = tf.sub(xr, mean);
    const invstd = tf.rsqrt(tf.add(tf.mean(tf.square(xc), axes, true), this.epsilon));
    const xhat = tf.mul(xc, invstd);
    this.cache = { xhat, invstd, view, shape: x.shape };
    let y = tf.reshape(xhat, x.shape);
    if (this.gamma) y = tf.mul(y, this.gamma);
    if (this.beta) y = tf.add(y, this.beta);
    return y;
  }
  backward(dy: tf.Tensor, needDx: boolean): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    const { xhat, invstd, view, shape } = this.cache!;
    const { axes } = this.view(shape);
    const outer = shape.slice(0, -1).map((_, i) => i);
    const grads: tf.Tensor[] = [];
    if (this.gamma) grads.push(tf.sum(tf.mul(dy, tf.reshape(xhat, shape)), outer));
    if (this.beta) grads.push(tf.sum(dy, outer));
    let dx: tf.Tensor | null = null;
    if (needDx) {
      const g = tf.reshape(this.gamma ? tf.mul(dy, this.gamma) : dy, view);
      const inner = tf.sub(tf.sub(g, tf.mean(g, axes, true)), tf.mul(xhat, tf.mean(tf.mul(g, xhat), axes, true)));
      dx = tf.reshape(tf.mul(inner, invstd), shape);
    }
    return { dx, grads };
  }
}
