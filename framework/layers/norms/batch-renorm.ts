/**
 * Batch Renormalization (Ioffe 2017, "Batch Renormalization: Towards Reducing Minibatch Dependence in
 * Batch-Normalized Models"). Training normalizes with the batch statistics and then corrects toward
 * the running ones, per channel:
 *   xhat = (x - mu_B) / sigma_B * r + d,   r = clip(sigma_B / sigma, 1/r_max, r_max),
 *   d = clip((mu_B - mu) / sigma, -d_max, d_max),   sigma_B = sqrt(var_B + eps), sigma = sqrt(var + eps)
 * with r and d treated as constants by the gradient (the paper's stop_gradient), computed from the
 * running statistics before this step updates them. Running statistics move as BatchNorm's (PyTorch
 * momentum, unbiased batch variance). Inference is plain BatchNorm of the running statistics, so the
 * ONNX export is BatchNormalization. r_max / d_max warm up over `warmup_steps` training steps (the
 * schedule: batch-renorm.options.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { initializers, layers, type LayerVariable } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { LayerFamily } from '../family.js';
import { configOf, weightsOf, type Config } from '../node-util.js';
import { BatchNormNode, batchNormOnnx } from './batch.js';
import { BATCH_RENORM_OPTIONS } from './batch-renorm.options.js';
import { normExamples, type NormFamily } from './family.js';

/** The clipping limits after `step` training steps. */
export function renormLimits(step: number, rMax: number, dMax: number, warmupSteps: number): { rMax: number; dMax: number } {
  const ramp = warmupSteps > 0 ? Math.min(1, step / warmupSteps) : 1;
  return { rMax: 1 + (rMax - 1) * ramp, dMax: dMax * ramp };
}

/** r and d per channel (float64 in, float32 out) from the batch and running statistics. */
export function renormCorrection(
  batchMean: ArrayLike<number>,
  batchVar: ArrayLike<number>,
  runMean: ArrayLike<number>,
  runVar: ArrayLike<number>,
  epsilon: number,
  limits: { rMax: number; dMax: number },
): { r: Float32Array; d: Float32Array } {
  const c = batchMean.length;
  const r = new Float32Array(c);
  const d = new Float32Array(c);
  const clip = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  for (let i = 0; i < c; i++) {
    const sigma = Math.sqrt(runVar[i]! + epsilon);
    r[i] = clip(Math.sqrt(batchVar[i]! + epsilon) / sigma, 1 / limits.rMax, limits.rMax);
    d[i] = clip((batchMean[i]! - runMean[i]!) / sigma, -limits.dMax, limits.dMax);
  }
  return { r, d };
}

export interface BatchRenormalizationArgs {
  /** Keras convention, as tfjs' BatchNormalization: the weight of the old running value. */
  momentum: number;
  epsilon: number;
  center?: boolean;
  scale?: boolean;
  rMax: number;
  dMax: number;
  warmupSteps: number;
  name?: string;
  inputShape?: number[];
  batchInputShape?: (number | null)[];
  trainable?: boolean;
}

/**
 * The tfjs layer (className 'BnxBatchRenormalization', serializable). Its weights are BatchNorm's:
 * gamma, beta, moving_mean, moving_variance. call() in inference mode is BatchNorm of the running
 * statistics; in training mode it computes the renormalized output at the limits of `steps` (the
 * engine's step count, written by syncState) without updating the statistics: the engine trains, the
 * training-mode call is the reference the tests differentiate.
 */
export class BatchRenormalization extends layers.Layer {
  static readonly className = 'BnxBatchRenormalization';
  readonly momentum: number;
  readonly epsilon: number;
  readonly center: boolean;
  readonly scale: boolean;
  readonly rMax: number;
  readonly dMax: number;
  readonly warmupSteps: number;
  /** Training steps taken (not serialized: a saved model is used for inference). */
  steps = 0;
  gamma: LayerVariable | null = null;
  beta: LayerVariable | null = null;
  movingMean: LayerVariable | null = null;
  movingVariance: LayerVariable | null = null;

  constructor(args: BatchRenormalizationArgs) {
    super(args);
    this.momentum = args.momentum;
    this.epsilon = args.epsilon;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.rMax = args.rMax;
    this.dMax = args.dMax;
    this.warmupSteps = args.warmupSteps;
  }

  override build(inputShape: (number | null)[] | (number | null)[][]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
    const c = shape[shape.length - 1];
    if (c == null) throw new Error('BnxBatchRenormalization: the last axis must have a known size');
    if (this.scale) this.gamma = this.addWeight('gamma', [c], 'float32', initializers.ones());
    if (this.center) this.beta = this.addWeight('beta', [c], 'float32', initializers.zeros());
    this.movingMean = this.addWeight('moving_mean', [c], 'float32', initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [c], 'float32', initializers.ones(), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const gamma = this.gamma?.read();
      const beta = this.beta?.read();
      const mm = this.movingMean!.read();
      const mv = this.movingVariance!.read();
      if (kwargs.training !== true) return tf.batchNorm(x, mm, mv, beta, gamma, this.epsilon);
      const axes = x.shape.slice(0, -1).map((_, i) => i);
      const { mean, variance } = tf.moments(x, axes);
      const xhat = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.epsilon)));
      const limits = renormLimits(this.steps, this.rMax, this.dMax, this.warmupSteps);
      // fresh tensors from the values: constants for autodiff (stop_gradient)
      const { r, d } = renormCorrection(mean.dataSync(), variance.dataSync(), mm.dataSync(), mv.dataSync(), this.epsilon, limits);
      let y = tf.add(tf.mul(xhat, tf.tensor(r)), tf.tensor(d));
      if (gamma) y = tf.mul(y, gamma);
      if (beta) y = tf.add(y, beta);
      return y;
    });
  }

  override computeOutputShape(inputShape: (number | null)[] | (number | null)[][]): (number | null)[] | (number | null)[][] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      axis: -1,
      momentum: this.momentum,
      epsilon: this.epsilon,
      center: this.center,
      scale: this.scale,
      rMax: this.rMax,
      dMax: this.dMax,
      warmupSteps: this.warmupSteps,
    };
  }
}

tf.serialization.registerClass(BatchRenormalization);

/** BatchNorm's node with the renormalization applied to the normalized batch, r and d constant. */
class BatchRenormNode extends BatchNormNode {
  private step = 0;
  private readonly limits: { rMax: number; dMax: number; warmupSteps: number };
  private renorm: { xhatB: tf.Tensor; r: tf.Tensor } | null = null;
  constructor(layer: Layer, g: tf.Variable | null, b: tf.Variable | null, mm: tf.Variable, mv: tf.Variable, cfg: Config) {
    super(layer, g, b, mm, mv, cfg);
    this.limits = { rMax: cfg.rMax as number, dMax: cfg.dMax as number, warmupSteps: cfg.warmupSteps as number };
    this.step = (layer as unknown as BatchRenormalization).steps;
  }
  protected override normalized(xhatB: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor): tf.Tensor {
    const limits = renormLimits(this.step++, this.limits.rMax, this.limits.dMax, this.limits.warmupSteps);
    const { r, d } = renormCorrection(mean.dataSync(), variance.dataSync(), this.runMean, this.runVar, this.epsilon, limits);
    const rt = tf.tensor(r);
    this.renorm = { xhatB, r: rt };
    return tf.add(tf.mul(xhatB, rt), tf.tensor(d));
  }
  override syncState(): void {
    super.syncState();
    (this.layer as unknown as BatchRenormalization).steps = this.step;
  }
  override backward(dy: tf.Tensor, needDx: boolean): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    const { xhat, invstd, axes, n } = this.cache!;
    const { xhatB, r } = this.renorm!;
    const dbeta = tf.sum(dy, axes);
    const grads: tf.Tensor[] = [];
    if (this.gamma) grads.push(tf.sum(tf.mul(dy, xhat), axes));
    if (this.beta) grads.push(dbeta);
    let dx: tf.Tensor | null = null;
    if (needDx) {
      // y = gamma (r xhat_B + d) + beta, r and d constant: BatchNorm's dx scaled by r
      const scale = tf.mul(this.gamma ? tf.mul(this.gamma, invstd) : invstd, r);
      const inner = tf.sub(tf.sub(dy, tf.div(dbeta, n)), tf.mul(xhatB, tf.div(tf.sum(tf.mul(dy, xhatB), axes), n)));
      dx = tf.mul(inner, scale);
    }
    return { dx, grads };
  }
}

export const batchRenormLayers: LayerFamily = {
  name: 'batch_renorm',
  classNames: [BatchRenormalization.className],
  node(layer) {
    const [g, b, mm, mv] = weightsOf(layer, 'gamma', 'beta', 'moving_mean', 'moving_variance');
    return new BatchRenormNode(layer, g, b, mm!, mv!, configOf(layer));
  },
  onnx: batchNormOnnx,
  examples: [],
};

export const batchRenorm: NormFamily = {
  name: 'batch_renorm',
  options: BATCH_RENORM_OPTIONS,
  build: (spec, site) => {
    const o = spec.options;
    return new BatchRenormalization({
      name: site.name,
      momentum: 1 - (o.momentum as number),
      epsilon: o.epsilon as number,
      center: o.affine as boolean,
      scale: o.affine as boolean,
      rMax: o.r_max as number,
      dMax: o.d_max as number,
      warmupSteps: o.warmup_steps as number,
    });
  },
  layers: batchRenormLayers,
  // No warm-up and small limits: r and d are active (and clipped) from the first step.
  examples: [...normExamples({ type: 'batch_renorm', warmup_steps: 0, r_max: 1.5, d_max: 0.5 }), ...normExamples({ type: 'batch_renorm', affine: false }, { cnn: false })],
};
