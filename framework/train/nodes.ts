/**
 * One node per tfjs-layers layer: forward with plain tf ops (caching what backward needs) and a
 * backward written out by hand, or, for parameterless layers without one (gelu, elu, selu, swish,
 * leaky relu, pooling), a vector-Jacobian product through the layer's own call(). Nodes read and
 * write the layers' variables, so the LayersModel is always the trained model.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayerVariable } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { Rng } from '../util/random.js';
import { conv2dFilterGrad, conv2dInputGrad } from './conv-grads.js';
import { denseForward, denseKernelFits, denseWeightGrad } from './dense-kernel.js';

/** What one step needs besides the input. */
export interface StepContext {
  training: boolean;
  /** Dropout masks are drawn from this stream (a new mask every step). */
  dropoutRng: Rng;
}

export interface Node {
  readonly layer: Layer;
  /** Trainable variables, in the layer's order. */
  readonly params: tf.Variable[];
  forward(x: tf.Tensor, ctx: StepContext): tf.Tensor;
  /** dL/dx (null when not needed) and dL/dparams in `params` order. Uses state cached by forward. */
  backward(dy: tf.Tensor, needDx: boolean): { dx: tf.Tensor | null; grads: tf.Tensor[] };
}

type Config = Record<string, unknown>;

const variable = (lv: LayerVariable | null | undefined): tf.Variable | null => (lv ? (lv.read() as tf.Variable) : null);

function weightsOf(layer: Layer, ...names: string[]): (tf.Variable | null)[] {
  const byName = new Map<string, LayerVariable>();
  for (const w of layer.weights) byName.set(w.originalName.split('/').pop()!, w);
  return names.map((n) => variable(byName.get(n)));
}

const nonNull = (vs: (tf.Variable | null)[]): tf.Variable[] => vs.filter((v): v is tf.Variable => v !== null);

/** Vector-Jacobian product through `f` (recomputes the forward under a tape). */
function vjp(f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  return tf.grads(f)(inputs, dy);
}

export class DenseNode implements Node {
  readonly params: tf.Variable[];
  /** Set by TrainGraph when a ReLU follows: the forward applies it in the fused kernel. */
  fuseRelu = false;
  /**
   * Set by TrainGraph on the first weighted layer (no dx needed): on the wasm backend its products run
   * in dense-kernel.ts (no per-step repacking of the changing weights, no transpose of x).
   */
  ownKernel = false;
  private x: tf.Tensor2D | null = null;
  /** Whether the last forward ran in dense-kernel.ts (then so does the weight gradient). */
  private own = false;
  constructor(
    readonly layer: Layer,
    private readonly kernel: tf.Variable,
    private readonly bias: tf.Variable | null,
  ) {
    this.params = nonNull([kernel, bias]);
  }
  forward(x: tf.Tensor): tf.Tensor {
    this.x = x as tf.Tensor2D;
    this.own = this.ownKernel && denseKernelFits(x, this.kernel);
    if (this.own) return denseForward(x, this.kernel, this.bias, this.fuseRelu);
    // The _FusedMatMul kernel called directly: tf.fused.matMul wraps it in customGrad for autodiff,
    // which costs ~10 us per call here and is not needed.
    const [m, k] = x.shape as [number, number];
    const n = this.kernel.shape[1]!;
    const out = tf.engine().runKernel(
      '_FusedMatMul',
      { a: tf.reshape(x, [1, m, k]), b: tf.reshape(this.kernel, [1, k, n]), ...(this.bias ? { bias: this.bias } : {}) },
      { transposeA: false, transposeB: false, activation: this.fuseRelu ? 'relu' : 'linear', leakyreluAlpha: 0 } as unknown as tf.NamedAttrMap,
    ) as tf.Tensor;
    return tf.reshape(out, [m, n]);
  }
  backward(dy: tf.Tensor, needDx: boolean): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    const d = dy as tf.Tensor2D;
    const gW = this.own ? denseWeightGrad(this.x!, d) : tf.matMul(tf.transpose(this.x!), d);
    const grads = this.bias ? [gW, tf.sum(d, 0)] : [gW];
    const dx = needDx ? tf.matMul(d, tf.transpose(this.kernel as tf.Tensor2D)) : null;
    return { dx, grads };
  }
}

/** Conv2D, stride 1, dilation 1, padding same, channels last. */
export class Conv2DNode implements Node {
  readonly params: tf.Variable[];
  fuseRelu = false;
  private x: tf.Tensor4D | null = null;
  constructor(
    readonly layer: Layer,
    private readonly kernel: tf.Variable,
    private readonly bias: tf.Variable | null,
  ) {
    this.params = nonNull([kernel, bias]);
  }
  forward(x: tf.Tensor): tf.Tensor {
    this.x = x as tf.Tensor4D;
    return tf.fused.conv2d({
      x: this.x,
      filter: this.kernel as tf.Tensor4D,
      strides: 1,
      pad: 'same',
      ...(this.bias ? { bias: this.bias } : {}),
      ...(this.fuseRelu ? { activation: 'relu' as const } : {}),
    });
  }
  backward(dy: tf.Tensor, needDx: boolean): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    const d = dy as tf.Tensor4D;
    const x = this.x!;
    const gW = conv2dFilterGrad(x, d, this.kernel.shape as [number, number, number, number]);
    const grads = this.bias ? [gW, tf.sum(d, [0, 1, 2])] : [gW];
    const dx = needDx ? conv2dInputGrad(d, this.kernel as tf.Tensor4D) : null;
    return { dx, grads };
  }
}

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
export class BatchNormNode implements Node {
  readonly params: tf.Variable[];
  private readonly momentum: number;
  private readonly epsilon: number;
  private readonly runMean: Float64Array;
  private readonly runVar: Float64Array;
  private dirty = false;
  private cache: { xhat: tf.Tensor; invstd: tf.Tensor; axes: number[]; n: number } | null = null;
  constructor(
    readonly layer: Layer,
    private readonly gamma: tf.Variable | null,
    private readonly beta: tf.Variable | null,
    private readonly movingMean: tf.Variable,
    private readonly movingVar: tf.Variable,
    cfg: Config,
  ) {
    this.params = nonNull([gamma, beta]);
    this.momentum = 1 - (cfg.momentum as number);
    this.epsilon = cfg.epsilon as number;
    const axis = cfg.axis;
    if (!(axis === -1 || (Array.isArray(axis) && axis.length === 1 && axis[0] === -1))) {
      throw new Error(`engine: BatchNormalization over axis ${JSON.stringify(axis)} is not supported (only the last axis, -1)`);
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
    const xhat = tf.mul(xc, invstd);
    this.cache = { xhat, invstd, axes, n };
    this.updateRunning(mean.dataSync(), variance.dataSync(), n);
    let y = xhat;
    if (this.gamma) y = tf.mul(y, this.gamma);
    if (this.beta) y = tf.add(y, this.beta);
    return y;
  }
  private updateRunning(mean: ArrayLike<number>, variance: ArrayLike<number>, n: number): void {
    const m = this.momentum;
    const unbias = n / Math.max(1, n - 1);
    for (let c = 0; c < this.runMean.length; c++) {
      this.runMean[c] = (1 - m) * this.runMean[c]! + m * mean[c]!;
      this.runVar[c] = (1 - m) * this.runVar[c]! + m * unbias * variance[c]!;
    }
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

/**
 * Per-example normalization (LayerNorm over the last axis, GroupNorm over groups of channels and all
 * positions) with the backward written out, as BatchNorm's but with statistics per example/group:
 *   dx = invstd * (g - mean(g) - xhat * mean(g * xhat)),  g = dy * gamma, means over the normalized set.
 * x [B, ...spatial, C] is viewed as [B, S, G, C/G]: LayerNorm is G = 1 with S folded into the batch
 * (each position normalized over its channels), GroupNorm reduces over S and C/G.
 */
class GroupStatsNode implements Node {
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

/** RMSNorm over the last axis: y = x * r * gamma, r = rsqrt(mean(x^2) + eps); dx = r * (g - xr * mean(g * xr)). */
class RmsNormNode implements Node {
  readonly params: tf.Variable[];
  private cache: { xr: tf.Tensor; r: tf.Tensor } | null = null;
  constructor(
    readonly layer: Layer,
    private readonly gamma: tf.Variable | null,
    private readonly epsilon: number,
  ) {
    this.params = nonNull([gamma]);
  }
  forward(x: tf.Tensor): tf.Tensor {
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), this.epsilon));
    const xr = tf.mul(x, r);
    this.cache = { xr, r };
    return this.gamma ? tf.mul(xr, this.gamma) : xr;
  }
  backward(dy: tf.Tensor, needDx: boolean): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    const { xr, r } = this.cache!;
    const grads = this.gamma ? [tf.sum(tf.mul(dy, xr), dy.shape.slice(0, -1).map((_, i) => i))] : [];
    let dx: tf.Tensor | null = null;
    if (needDx) {
      const g = this.gamma ? tf.mul(dy, this.gamma) : dy;
      dx = tf.mul(tf.sub(g, tf.mul(xr, tf.mean(tf.mul(g, xr), -1, true))), r);
    }
    return { dx, grads };
  }
}

/** A parameterless layer (activation, pooling): forward is layer.call, backward its VJP. */
class CallNode implements Node {
  readonly params: tf.Variable[] = [];
  private x: tf.Tensor | null = null;
  constructor(readonly layer: Layer) {}
  forward(x: tf.Tensor): tf.Tensor {
    this.x = x;
    return this.layer.call(x, {}) as tf.Tensor;
  }
  backward(dy: tf.Tensor): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    return { dx: vjp((x) => this.layer.call(x, {}) as tf.Tensor, [this.x!], dy)[0]!, grads: [] };
  }
}

/** Elementwise activation with the derivative written from the output y. */
export class ActivationNode implements Node {
  readonly params: tf.Variable[] = [];
  /** Set when the preceding Dense/Conv2D already applied this activation (fused kernel). */
  applied = false;
  private y: tf.Tensor | null = null;
  constructor(
    readonly layer: Layer,
    private readonly f: (x: tf.Tensor) => tf.Tensor,
    private readonly dfFromY: (y: tf.Tensor, dy: tf.Tensor) => tf.Tensor,
    readonly kind: string,
  ) {}
  forward(x: tf.Tensor): tf.Tensor {
    this.y = this.applied ? x : this.f(x);
    return this.y;
  }
  backward(dy: tf.Tensor): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    return { dx: this.dfFromY(this.y!, dy), grads: [] };
  }
}

class IdentityNode implements Node {
  readonly params: tf.Variable[] = [];
  constructor(readonly layer: Layer) {}
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }
  backward(dy: tf.Tensor): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    return { dx: dy, grads: [] };
  }
}

class FlattenNode implements Node {
  readonly params: tf.Variable[] = [];
  private shape: number[] = [];
  constructor(readonly layer: Layer) {}
  forward(x: tf.Tensor): tf.Tensor {
    this.shape = x.shape;
    return tf.reshape(x, [x.shape[0]!, -1]);
  }
  backward(dy: tf.Tensor): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    return { dx: tf.reshape(dy, this.shape), grads: [] };
  }
}

/** Inverted dropout as PyTorch: keep with probability 1 - rate, scale kept units by 1 / (1 - rate). */
class DropoutNode implements Node {
  readonly params: tf.Variable[] = [];
  private mask: tf.Tensor | null = null;
  private buf = new Float32Array(0);
  constructor(
    readonly layer: Layer,
    private readonly rate: number,
  ) {}
  forward(x: tf.Tensor, ctx: StepContext): tf.Tensor {
    if (!ctx.training || this.rate === 0) {
      this.mask = null;
      return x;
    }
    if (this.buf.length !== x.size) this.buf = new Float32Array(x.size);
    const keep = 1 / (1 - this.rate);
    // One draw from the seeded stream per mask seeds a mulberry32 generator for the mask itself:
    // deterministic, a new mask every step, and ~10x cheaper than a seedrandom call per unit.
    let state = Math.floor(ctx.dropoutRng() * 4294967296) >>> 0;
    const threshold = this.rate * 4294967296;
    for (let i = 0; i < this.buf.length; i++) {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      this.buf[i] = ((t ^ (t >>> 14)) >>> 0) >= threshold ? keep : 0;
    }
    this.mask = tf.tensor(this.buf, x.shape);
    return tf.mul(x, this.mask);
  }
  backward(dy: tf.Tensor): { dx: tf.Tensor | null; grads: tf.Tensor[] } {
    return { dx: this.mask ? tf.mul(dy, this.mask) : dy, grads: [] };
  }
}

const step = (y: tf.Tensor, dy: tf.Tensor): tf.Tensor => tf.mul(dy, tf.step(y));

function activationNode(layer: Layer, name: string): Node {
  switch (name) {
    case 'linear':
      return new IdentityNode(layer);
    case 'relu':
      return new ActivationNode(layer, tf.relu, step, 'relu');
    case 'tanh':
      return new ActivationNode(layer, tf.tanh, (y, dy) => tf.mul(dy, tf.sub(1, tf.square(y))), 'tanh');
    case 'sigmoid':
      return new ActivationNode(layer, tf.sigmoid, (y, dy) => tf.mul(dy, tf.mul(y, tf.sub(1, y))), 'sigmoid');
    default:
      return new CallNode(layer);
  }
}

export function nodeFor(layer: Layer): Node {
  const cls = layer.getClassName();
  const cfg = layer.getConfig() as Config;
  switch (cls) {
    case 'Dense': {
      if (cfg.activation !== 'linear') throw new Error(`engine: Dense ${layer.name} must have a linear activation (got ${String(cfg.activation)})`);
      const [k, b] = weightsOf(layer, 'kernel', 'bias');
      return new DenseNode(layer, k!, b!);
    }
    case 'Conv2D': {
      const strides = cfg.strides as number[];
      const dil = cfg.dilationRate as number[] | number;
      const unit = (v: number[] | number) => (Array.isArray(v) ? v.every((s) => s === 1) : v === 1);
      if (cfg.activation !== 'linear' || cfg.padding !== 'same' || !unit(strides) || !unit(dil) || cfg.dataFormat !== 'channelsLast') {
        throw new Error(`engine: Conv2D ${layer.name} must be linear, stride 1, dilation 1, padding same, channels last`);
      }
      const [k, b] = weightsOf(layer, 'kernel', 'bias');
      return new Conv2DNode(layer, k!, b!);
    }
    case 'BatchNormalization': {
      const [g, b, mm, mv] = weightsOf(layer, 'gamma', 'beta', 'moving_mean', 'moving_variance');
      return new BatchNormNode(layer, g!, b!, mm!, mv!, cfg);
    }
    case 'LayerNormalization': {
      // build() turns axis -1 into [rank - 1]; anything else normalizes more than the last axis
      const rank = (layer.input as unknown as { shape: unknown[] }).shape.length;
      const axis = cfg.axis;
      const lastOnly = axis === -1 || (Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === rank - 1));
      if (!lastOnly) throw new Error(`engine: LayerNormalization ${layer.name} must normalize the last axis only (axis ${JSON.stringify(axis)})`);
      const [g, b] = weightsOf(layer, 'gamma', 'beta');
      return new GroupStatsNode(layer, g, b, cfg.epsilon as number, null);
    }
    case 'BnxGroupNormalization': {
      const [g, b] = weightsOf(layer, 'gamma', 'beta');
      return new GroupStatsNode(layer, g, b, cfg.epsilon as number, cfg.groups as number);
    }
    case 'BnxRMSNormalization': {
      const [g] = weightsOf(layer, 'gamma');
      return new RmsNormNode(layer, g, cfg.epsilon as number);
    }
    case 'Activation':
      return activationNode(layer, cfg.activation as string);
    case 'ReLU':
      return new ActivationNode(layer, tf.relu, step, 'relu');
    case 'LeakyReLU':
    case 'ELU':
    case 'MaxPooling2D':
    case 'AveragePooling2D':
      return new CallNode(layer);
    case 'Flatten':
      return new FlattenNode(layer);
    case 'Dropout':
      return new DropoutNode(layer, cfg.rate as number);
    default:
      throw new Error(`engine: layer ${layer.name} of class ${cls} is not supported by the training engine`);
  }
}
