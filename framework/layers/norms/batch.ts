/**
 * BatchNorm: tfjs-layers' BatchNormalization (axis -1; Keras momentum = 1 - PyTorch momentum), a
 * training node with PyTorch's semantics, and ONNX BatchNormalization of the running statistics.
 */
import * as tf from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { Converter, LayerFamily, Node, StepContext } from '../family.js';
import { inputShapeOf, overPixels, type FastBuild } from '../fast-node.js';
import { configOf, nonNull, weightsOf, type Config } from '../node-util.js';
import { config, isLastAxis, need, toFirst, weights } from '../onnx.js';
import { BATCH_OPTIONS } from './batch.options.js';
import { normExamples, type NormFamily } from './family.js';
import { BatchNormFast, updateRunning, type BatchNormState } from './batch-fast.js';

/**
 * BatchNorm over every axis but the last. Training: batch statistics (biased variance) normalize;
 * the running statistics move by the PyTorch momentum m = 1 - keras momentum with the UNBIASED
 * batch variance (as torch.nn.BatchNorm). Eval: running statistics.
 *
 * The running statistics are updated in JavaScript (float64) from two small reads per step, which
 * replaces eight tf ops per layer per step; the step already reads the logits, so on a GPU backend the
 * reads add no extra synchronisation. syncState() writes them into the layer's moving_mean and
 * moving_variance (the loop does so before every evaluation and at the end).
 */
export class BatchNormNode implements Node, BatchNormState {
  readonly params: tf.Variable[];
  readonly momentum: number;
  readonly epsilon: number;
  readonly runMean: Float64Array;
  readonly runVar: Float64Array;
  private dirty = false;
  protected cache: { xhat: tf.Tensor; invstd: tf.Tensor; axes: number[]; n: number } | null = null;
  constructor(
    readonly layer: Layer,
    protected readonly gamma: tf.Variable | null,
    protected readonly beta: tf.Variable | null,
    protected readonly movingMean: tf.Variable,
    protected readonly movingVar: tf.Variable,
    cfg: Config,
  ) {
    this.params = nonNull([gamma, beta]);
    this.momentum = 1 - (cfg.momentum as number);
    this.epsilon = cfg.epsilon as number;
    const axis = cfg.axis;
    if (!(axis === -1 || (Array.isArray(axis) && axis.length === 1 && axis[0] === -1))) {
      throw new Error(`engine: ${layer.getClassName()} over axis ${JSON.stringify(axis)} is not supported (only the last axis, -1)`);
    }
    this.runMean = Float64Array.from(movingMean.dataSync());
    this.runVar = Float64Array.from(movingVar.dataSync());
  }
  forward(x: tf.Tensor, ctx: StepContext): tf.Tensor {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    if (!ctx.training) {
      this.syncState();
      return tf.batchNorm(x, this.movingMean, this.movingVar, this.beta ?? undefined, this.gamma ?? undefined, this.epsilon);
    }
    const n = x.size / x.shape[x.shape.length - 1]!;
    const mean = tf.mean(x, axes);
    const xc = tf.sub(x, mean);
    const variance = tf.mean(tf.square(xc), axes);
    const invstd = tf.rsqrt(tf.add(variance, this.epsilon));
    const xhat = this.normalized(tf.mul(xc, invstd), mean, variance);
    this.cache = { xhat, invstd, axes, n };
    updateRunning(this.runMean, this.runVar, mean.dataSync(), variance.dataSync(), n, this.momentum);
    this.moved();
    let y = xhat;
    if (this.gamma) y = tf.mul(y, this.gamma);
    if (this.beta) y = tf.add(y, this.beta);
    return y;
  }
  /** The normalized batch (Batch Renormalization corrects it here). */
  protected normalized(xhat: tf.Tensor, _mean: tf.Tensor, _variance: tf.Tensor): tf.Tensor {
    return xhat;
  }
  moved(): void {
    this.dirty = true;
  }
  syncState(): void {
    if (!this.dirty) return;
    tf.tidy(() => {
      this.movingMean.assign(tf.tensor(Float32Array.from(this.runMean), this.movingMean.shape));
      this.movingVar.assign(tf.tensor(Float32Array.from(this.runVar), this.movingVar.shape));
    });
    this.dirty = false;
  }
  backward(dy: tf.Tensor, needDx: boolean): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    const { xhat, invstd, axes, n } = this.cache!;
    const dbeta = tf.sum(dy, axes);
    const dgamma = tf.sum(tf.mul(dy, xhat), axes);
    const grads: tf.Tensor[] = [];
    if (this.gamma) grads.push(dgamma);
    if (this.beta) grads.push(dbeta);
    let dx: tf.Tensor | null = null;
    if (needDx) {
      // dx = gamma*invstd * (dy - mean(dy) - xhat * mean(dy*xhat))
      const scale = this.gamma ? tf.mul(this.gamma, invstd) : invstd;
      const inner = tf.sub(tf.sub(dy, tf.div(dbeta, n)), tf.mul(xhat, tf.div(dgamma, n)));
      dx = tf.mul(inner, scale);
    }
    return { dx, grads };
  }
}

/** ONNX BatchNormalization of the running statistics (channels first); used by batch_renorm too. */
export const batchNormOnnx: Converter = (layer, x, g) => {
  const c = config(layer);
  if (!isLastAxis(c.axis, x.shape.length + 1)) throw new Error(`ONNX export: ${layer.getClassName()} ${layer.name} normalizes axis ${JSON.stringify(c.axis)}; only the last (channel) axis is supported`);
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

export const batchNormLayers: LayerFamily = {
  name: 'batch',
  classNames: ['BatchNormalization'],
  node(layer) {
    const [g, b, mm, mv] = weightsOf(layer, 'gamma', 'beta', 'moving_mean', 'moving_variance');
    return new BatchNormNode(layer, g!, b!, mm!, mv!, configOf(layer));
  },
  fast(layer, b) {
    const [g, beta, mm, mv] = weightsOf(layer, 'gamma', 'beta', 'moving_mean', 'moving_variance');
    // the tf node holds the running statistics (and writes them into the layer) for both paths
    const make = (rows: FastBuild) => new BatchNormFast(layer, g!, beta!, new BatchNormNode(layer, g!, beta!, mm!, mv!, configOf(layer)), rows);
    const shape = inputShapeOf(layer);
    // images: statistics per channel over every pixel of the batch, [rows*H*W, C] rows
    return shape.length === 1 ? make(b) : overPixels(b, shape, make);
  },
  onnx: batchNormOnnx,
  examples: [],
};

export const batch: NormFamily = {
  name: 'batch',
  options: BATCH_OPTIONS,
  build: (spec, site) =>
    layers.batchNormalization({
      name: site.name,
      axis: -1,
      momentum: 1 - (spec.options.momentum as number),
      epsilon: spec.options.epsilon as number,
      center: spec.options.affine as boolean,
      scale: spec.options.affine as boolean,
    }),
  layers: batchNormLayers,
  // (no affine: false example: tfjs-layers' BatchNormalization cannot run without gamma in training
  // mode, so there is no autodiff reference; engine.test.ts checks that case against affine BN)
  examples: [...normExamples({ type: 'batch' }), ...normExamples({ type: 'batch', momentum: 0.3, epsilon: 1e-3 }, { cnn: false })],
};
