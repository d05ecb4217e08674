/**
 * Optimizers with PyTorch's update rules, written with tf ops (tfjs's own optimizers differ: its
 * momentum optimizer scales differently and its Adam folds epsilon elsewhere), and a learning rate
 * that may change every epoch. All updates run inside the caller's tf.tidy; state lives in
 * tf.Variables owned by the optimizer (dispose() frees them).
 *
 *   sgd     g += wd*p; buf = mu*buf + g (buf starts at g); g = nesterov ? g + mu*buf : buf; p -= lr*g
 *   adam    g += wd*p; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 *           p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
 *   adamw   p *= 1 - lr*wd (decoupled), then adam without the L2 term
 *   rmsprop g += wd*p; v = rho*v + (1-rho)*g^2; a = sqrt(v) + eps;
 *           mu > 0 ? (buf = mu*buf + g/a; p -= lr*buf) : p -= lr*g/a      (PyTorch alpha = rho)
 *   adagrad g += wd*p; s += g^2; p -= lr * g / (sqrt(s) + eps)
 *
 * Each optimizer reads only the options the schema gives its type (config/schema-train.ts OPTIMIZER_ACCEPTS).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerConfig, OptimizerName } from '../config/index.js';

export interface Optimizer {
  readonly name: OptimizerName;
  /**
   * One update of `params` at learning rate `lr`. `backprop(scale)` runs the backward pass of the
   * batch just forwarded and returns scale * dL/dparams; every optimizer calls it with 1 (true
   * gradients) except plain SGD, whose update is linear in the gradient: it asks for lr * dL/dp in
   * the same pass (the loss gradient is scaled before backprop, no multiply per parameter), which is
   * what bnx's SGD has always computed, bit for bit. Call inside tf.tidy.
   */
  minimize(params: tf.Variable[], backprop: (scale: number) => tf.Tensor[], lr: number): void;
  /** Update `params` in place from their gradients dL/dp. Call inside tf.tidy. */
  step(params: tf.Variable[], grads: tf.Tensor[], lr: number): void;
  /** Steps taken so far. */
  readonly iterations: number;
  dispose(): void;
}

/** One optimizer's resolved hyper-parameters (the schema's union member: every default written out). */
export type OptimizerParams<N extends OptimizerName = OptimizerName> = Extract<OptimizerConfig, { type: N }>;

/** Per-parameter state slots, created lazily as zeros beside each parameter. */
class Slots {
  private readonly slots = new Map<string, tf.Variable[]>();
  constructor(private readonly count: number) {}
  get(p: tf.Variable): tf.Variable[] {
    let s = this.slots.get(p.name);
    if (!s) {
      s = Array.from({ length: this.count }, () => {
        const zeros = tf.zerosLike(p);
        const v = tf.variable(zeros, false);
        zeros.dispose();
        return v;
      });
      this.slots.set(p.name, s);
    }
    return s;
  }
  dispose(): void {
    for (const s of this.slots.values()) tf.dispose(s);
    this.slots.clear();
  }
}

const withL2 = (g: tf.Tensor, p: tf.Variable, wd: number): tf.Tensor => (wd > 0 ? tf.add(g, tf.mul(p, wd)) : g);

abstract class Base<H extends OptimizerParams> implements Optimizer {
  iterations = 0;
  protected readonly slots: Slots;
  constructor(
    readonly name: OptimizerName,
    protected readonly h: H,
    slotCount: number,
  ) {
    this.slots = new Slots(slotCount);
  }
  minimize(params: tf.Variable[], backprop: (scale: number) => tf.Tensor[], lr: number): void {
    this.step(params, backprop(1), lr);
  }
  step(params: tf.Variable[], grads: tf.Tensor[], lr: number): void {
    this.iterations++;
    params.forEach((p, i) => this.update(p, grads[i]!, lr, this.slots.get(p)));
  }
  protected abstract update(p: tf.Variable, g: tf.Tensor, lr: number, s: tf.Variable[]): void;
  dispose(): void {
    this.slots.dispose();
  }
}

class Sgd extends Base<OptimizerParams<'sgd'>> {
  constructor(h: OptimizerParams<'sgd'>) {
    super('sgd', h, h.momentum > 0 ? 1 : 0);
  }
  override minimize(params: tf.Variable[], backprop: (scale: number) => tf.Tensor[], lr: number): void {
    if (this.h.momentum > 0) return super.minimize(params, backprop, lr);
    // Plain SGD: one backward pass gives lr * dL/dp directly (see Optimizer.minimize).
    this.iterations++;
    const scaled = backprop(lr);
    params.forEach((p, i) => this.descend(p, scaled[i]!, lr));
  }
  /** p - lr*(g + wd*p) = p*(1 - lr*wd) - lrG, with lrG = lr * dL/dp. */
  private descend(p: tf.Variable, lrG: tf.Tensor, lr: number): void {
    const wd = this.h.weight_decay;
    p.assign(tf.sub(wd > 0 ? tf.mul(p, 1 - lr * wd) : p, lrG));
  }
  protected update(p: tf.Variable, g: tf.Tensor, lr: number, s: tf.Variable[]): void {
    const { momentum: mu, nesterov, weight_decay: wd } = this.h;
    if (mu === 0) {
      // true gradients (step() called directly): the same update with the multiply made explicit
      this.descend(p, tf.mul(g, lr), lr);
      return;
    }
    const d = withL2(g, p, wd);
    const buf = s[0]!;
    buf.assign(tf.add(tf.mul(buf, mu), d));
    const dir = nesterov ? tf.add(d, tf.mul(buf, mu)) : buf;
    p.assign(tf.sub(p, tf.mul(dir, lr)));
  }
}

class Adam extends Base<OptimizerParams<'adam' | 'adamw'>> {
  constructor(
    h: OptimizerParams<'adam' | 'adamw'>,
    private readonly decoupled: boolean,
  ) {
    super(decoupled ? 'adamw' : 'adam', h, 2);
  }
  protected update(p: tf.Variable, g0: tf.Tensor, lr: number, s: tf.Variable[]): void {
    const { beta1: b1, beta2: b2, epsilon: eps, weight_decay: wd } = this.h;
    const t = this.iterations;
    const [m, v] = s as [tf.Variable, tf.Variable];
    let base: tf.Tensor = p;
    let g = g0;
    if (this.decoupled) {
      if (wd > 0) base = tf.mul(p, 1 - lr * wd);
    } else {
      g = withL2(g0, p, wd);
    }
    m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
    v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), eps);
    p.assign(tf.sub(base, tf.mul(tf.div(m, denom), lr / bc1)));
  }
}

class RmsProp extends Base<OptimizerParams<'rmsprop'>> {
  constructor(h: OptimizerParams<'rmsprop'>) {
    super('rmsprop', h, h.momentum > 0 ? 2 : 1);
  }
  protected update(p: tf.Variable, g0: tf.Tensor, lr: number, s: tf.Variable[]): void {
    const { rho, epsilon: eps, momentum: mu, weight_decay: wd } = this.h;
    const g = withL2(g0, p, wd);
    const v = s[0]!;
    v.assign(tf.add(tf.mul(v, rho), tf.mul(tf.square(g), 1 - rho)));
    const scaled = tf.div(g, tf.add(tf.sqrt(v), eps));
    if (mu > 0) {
      const buf = s[1]!;
      buf.assign(tf.add(tf.mul(buf, mu), scaled));
      p.assign(tf.sub(p, tf.mul(buf, lr)));
    } else {
      p.assign(tf.sub(p, tf.mul(scaled, lr)));
    }
  }
}

class Adagrad extends Base<OptimizerParams<'adagrad'>> {
  constructor(h: OptimizerParams<'adagrad'>) {
    super('adagrad', h, 1);
  }
  protected update(p: tf.Variable, g0: tf.Tensor, lr: number, s: tf.Variable[]): void {
    const g = withL2(g0, p, this.h.weight_decay);
    const sum = s[0]!;
    sum.assign(tf.add(sum, tf.square(g)));
    p.assign(tf.sub(p, tf.mul(tf.div(g, tf.add(tf.sqrt(sum), this.h.epsilon)), lr)));
  }
}

export const OPTIMIZERS_IMPL: { [N in OptimizerName]: (h: OptimizerParams<N>) => Optimizer } = {
  sgd: (h) => new Sgd(h),
  adam: (h) => new Adam(h, false),
  adamw: (h) => new Adam(h, true),
  rmsprop: (h) => new RmsProp(h),
  adagrad: (h) => new Adagrad(h),
};

/** The optimizer of a resolved config (framework/config normalises it: every option of its type is set). */
export function makeOptimizer(cfg: OptimizerConfig): Optimizer {
  return (OPTIMIZERS_IMPL[cfg.type] as (h: OptimizerConfig) => Optimizer)(cfg);
}
