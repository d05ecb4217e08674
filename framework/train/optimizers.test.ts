import { beforeAll, describe, expect, test } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { runConfig, type OptimizerConfig, OPTIMIZERS } from '../config/index.js';
import { initBackend } from './backend.js';
import { makeOptimizer, OPTIMIZERS_IMPL } from './optimizers.js';

beforeAll(async () => {
  await initBackend('cpu');
});

/** Any optimizer's options, as a study may write them (each case sets only its own type's options). */
type Opts = {
  type: OptimizerConfig['type'];
  lr?: number;
  momentum?: number;
  nesterov?: boolean;
  weight_decay?: number;
  beta1?: number;
  beta2?: number;
  rho?: number;
  epsilon?: number;
};

/**
 * Run the optimizer for the given gradient sequence on a one-element parameter, with a per-step lr,
 * the way the loop does (minimize() with a backprop that scales the gradient as asked), or through
 * step() with the gradients themselves.
 */
function run(cfg: Opts, p0: number, grads: number[], lrs: number[], via: 'minimize' | 'step' = 'minimize'): number[] {
  // The optimizer a run gets: resolved through the schema, every default of its type written out.
  const opt = makeOptimizer(runConfig({ train: { optimizer: cfg } }).train.optimizer);
  const init = tf.tensor1d([p0]);
  const p = tf.variable(init);
  init.dispose();
  const out: number[] = [];
  grads.forEach((g, i) => {
    const lr = lrs[i] ?? lrs[lrs.length - 1]!;
    tf.tidy(() => {
      if (via === 'step') opt.step([p], [tf.tensor1d([g])], lr);
      else opt.minimize([p], (scale) => [tf.tensor1d([g * scale])], lr);
    });
    out.push(p.dataSync()[0]!);
  });
  opt.dispose();
  p.dispose();
  return out;
}

/** The same rules in plain float64 JavaScript, written from PyTorch's documentation. */
function reference(cfg: Opts, p0: number, grads: number[], lrs: number[]): number[] {
  const mu = cfg.momentum ?? 0;
  const wd = cfg.weight_decay ?? 0;
  const b1 = cfg.beta1 ?? 0.9;
  const b2 = cfg.beta2 ?? 0.999;
  const rho = cfg.rho ?? 0.99;
  const eps = cfg.epsilon ?? 1e-8;
  let p = p0;
  let buf: number | null = null;
  let m = 0;
  let v = 0;
  let sum = 0;
  return grads.map((g0, i) => {
    const lr = lrs[i] ?? lrs[lrs.length - 1]!;
    const t = i + 1;
    let g = g0;
    switch (cfg.type) {
      case 'sgd':
        g += wd * p;
        if (mu > 0) {
          buf = buf === null ? g : mu * buf + g;
          g = cfg.nesterov ? g + mu * buf : buf;
        }
        p -= lr * g;
        break;
      case 'adam':
      case 'adamw': {
        if (cfg.type === 'adamw') p *= 1 - lr * wd;
        else g += wd * p;
        m = b1 * m + (1 - b1) * g;
        v = b2 * v + (1 - b2) * g * g;
        const mhat = m / (1 - b1 ** t);
        const vhat = v / (1 - b2 ** t);
        // PyTorch: denom = sqrt(v)/sqrt(bc2) + eps, step = lr/bc1
        p -= (lr * mhat) / (Math.sqrt(vhat) + eps);
        break;
      }
      case 'rmsprop': {
        g += wd * p;
        v = rho * v + (1 - rho) * g * g;
        const a = Math.sqrt(v) + eps;
        if (mu > 0) {
          buf = (buf ?? 0) * mu + g / a;
          p -= lr * buf;
        } else p -= (lr * g) / a;
        break;
      }
      case 'adagrad':
        g += wd * p;
        sum += g * g;
        p -= (lr * g) / (Math.sqrt(sum) + eps);
        break;
    }
    return p;
  });
}

const G = [0.5, -1.2, 0.3, 2.0, -0.7, 0.1];
const LR = [0.1, 0.1, 0.05, 0.05, 0.01, 0.01];

describe('optimizers follow PyTorch update rules', () => {
  test('registry covers every name', () => {
    expect(Object.keys(OPTIMIZERS_IMPL).sort()).toEqual([...OPTIMIZERS].sort());
  });

  test('plain SGD, hand-computed: p - lr*g with lr folded into the gradient', () => {
    expect(run({ type: 'sgd', lr: 0.1 }, 1, [0.5, -1], [0.1, 0.1])).toEqual([0.95, 1.05].map(Math.fround));
  });

  test('SGD momentum 0.9, hand-computed (buffer starts at the first gradient, no dampening)', () => {
    const r = run({ type: 'sgd', momentum: 0.9 }, 1, [0.5, 0.5], [0.1]);
    expect(r[0]).toBeCloseTo(1 - 0.1 * 0.5, 6);
    expect(r[1]).toBeCloseTo(0.95 - 0.1 * (0.9 * 0.5 + 0.5), 6);
  });

  test('Adam first step moves by lr*sign(g) (bias correction), hand-computed', () => {
    const r = run({ type: 'adam', lr: 0.01 }, 1, [0.3], [0.01]);
    expect(r[0]).toBeCloseTo(1 - 0.01, 6);
  });

  const cases: Opts[] = [
    { type: 'sgd' },
    { type: 'sgd', weight_decay: 0.1 },
    { type: 'sgd', momentum: 0.9 },
    { type: 'sgd', momentum: 0.9, nesterov: true, weight_decay: 0.01 },
    { type: 'adam' },
    { type: 'adam', epsilon: 0.1 }, // large epsilon: its placement (PyTorch: outside the sqrt) matters
    { type: 'adam', weight_decay: 0.1, beta1: 0.8, beta2: 0.99 },
    { type: 'adamw', weight_decay: 0.1 },
    { type: 'rmsprop', rho: 0.9 },
    { type: 'rmsprop', epsilon: 0.1 },
    { type: 'rmsprop', rho: 0.99, momentum: 0.5, weight_decay: 0.01 },
    { type: 'adagrad' },
    { type: 'adagrad', epsilon: 0.1 },
    { type: 'adagrad', weight_decay: 0.05 },
  ];
  for (const c of cases) {
    test(`${JSON.stringify(c)} matches the float64 reference over 6 steps with a changing lr`, () => {
      const want = reference(c, 0.8, G, LR);
      // through minimize() as the loop calls it, and through step() with the gradients themselves
      for (const via of ['minimize', 'step'] as const) {
        const got = run(c, 0.8, G, LR, via);
        got.forEach((v, i) => expect(v, `${via}, step ${i + 1}`).toBeCloseTo(want[i]!, 5));
      }
    });
  }

  test('gradients are gradients: only plain SGD asks backprop for a scaled loss gradient, and only by lr', () => {
    const scales = (cfg: Opts) => {
      const opt = makeOptimizer(runConfig({ train: { optimizer: cfg } }).train.optimizer);
      const p = tf.variable(tf.tensor1d([1]));
      const asked: number[] = [];
      tf.tidy(() => opt.minimize([p], (scale) => (asked.push(scale), [tf.tensor1d([0.5 * scale])]), 0.05));
      opt.dispose();
      p.dispose();
      return asked;
    };
    expect(scales({ type: 'sgd', lr: 0.05 })).toEqual([0.05]);
    for (const c of cases) expect(scales(c), JSON.stringify(c)).toEqual(c.type === 'sgd' && !c.momentum ? [0.05] : [1]);
  });

  test('AdamW decay is decoupled: with zero gradient it only shrinks p by lr*wd', () => {
    const r = run({ type: 'adamw', weight_decay: 0.5 }, 2, [0, 0], [0.1]);
    expect(r[0]).toBeCloseTo(2 * 0.95, 6);
    expect(r[1]).toBeCloseTo(2 * 0.95 * 0.95, 6);
    const l2 = run({ type: 'adam', weight_decay: 0.5 }, 2, [0], [0.1]);
    expect(l2[0]).toBeCloseTo(2 - 0.1, 5); // L2 enters the gradient, Adam normalizes it away
  });

  test('state is freed by dispose()', () => {
    const before = tf.memory().numTensors;
    run({ type: 'adam' }, 1, G, LR);
    run({ type: 'sgd', momentum: 0.9 }, 1, G, LR);
    expect(tf.memory().numTensors).toBe(before);
  });
});
