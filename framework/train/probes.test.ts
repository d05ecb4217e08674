/**
 * Probes: every value against a float64 computation by hand on a tiny net (dense 3 -> 4 ReLU -> 3,
 * softmax cross-entropy), and training with probes against training without them, bit for bit.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { runConfig } from '../config/index.js';
import { FloatRows } from '../data/index.js';
import { buildModel } from '../model/index.js';
import { initBackend, type BackendInfo } from './backend.js';
import { TrainGraph } from './engine.js';
import { trainModel, type EpochMetrics, type TrainData } from './loop.js';
import { Prober, type ProbeRecord } from './probes.js';
import { fashionSlice } from './testing.js';

type M = number[][];
const matmul = (a: M, b: M): M => a.map((r) => b[0]!.map((_, j) => r.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
const T = (a: M): M => a[0]!.map((_, j) => a.map((r) => r[j]!));
const rows = (v: ArrayLike<number>, cols: number): M => Array.from({ length: v.length / cols }, (_, i) => Array.from(v).slice(i * cols, i * cols + cols));
const flat = (m: M | number[]): number[] => (m as (number | number[])[]).flat() as number[];
const l2 = (a: number[], b?: number[]) => Math.sqrt(a.reduce((s, v, i) => s + (v - (b ? b[i]! : 0)) ** 2, 0));

interface P {
  W1: M;
  b1: number[];
  W2: M;
  b2: number[];
}

/** Loss, gradients and activations of the tiny net, in float64. */
function reference(p: P, X: M, Y: number[]) {
  const n = X.length;
  const z1 = matmul(X, p.W1).map((r) => r.map((v, j) => v + p.b1[j]!));
  const h = z1.map((r) => r.map((v) => Math.max(0, v)));
  const z2 = matmul(h, p.W2).map((r) => r.map((v, j) => v + p.b2[j]!));
  let loss = 0;
  const dz2 = z2.map((r, i) => {
    const m = Math.max(...r);
    const e = r.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    loss -= Math.log(e[Y[i]!]! / s) / n;
    return e.map((v, j) => (v / s - (j === Y[i] ? 1 : 0)) / n);
  });
  const dW2 = matmul(T(h), dz2);
  const db2 = T(dz2).map((c) => c.reduce((a, b) => a + b, 0));
  const dz1 = matmul(dz2, T(p.W2)).map((r, i) => r.map((v, j) => (z1[i]![j]! > 0 ? v : 0)));
  const dW1 = matmul(T(X), dz1);
  const db1 = T(dz1).map((c) => c.reduce((a, b) => a + b, 0));
  return { loss, z1, h, g: { W1: dW1, b1: db1, W2: dW2, b2: db2 } as P };
}

const step = (p: P, g: P, eta: number, which: (keyof P)[]): P => {
  const out = structuredClone(p);
  for (const k of which) {
    if (k === 'W1' || k === 'W2') out[k] = p[k].map((r, i) => r.map((v, j) => v - eta * g[k][i]![j]!));
    else out[k] = p[k].map((v, i) => v - eta * g[k][i]!);
  }
  return out;
};
const allGrads = (g: P) => [...flat(g.W1), ...g.b1, ...flat(g.W2), ...g.b2];
const meanStd = (v: number[]) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return { m, s: Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length) };
};

describe('probes against hand-computed values (cpu)', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  test('activations, dead ReLUs, norms, internal covariate shift and the loss landscape of a tiny net', () => {
    const n = 6;
    const X = rows([0.2, 0.9, 0.1, 0.5, 0.3, 0.8, 1.0, 0.0, 0.4, 0.7, 0.6, 0.2, 0.1, 0.1, 0.9, 0.3, 0.8, 0.5], 3);
    const Y = [0, 1, 2, 1, 0, 2];
    const model = buildModel(runConfig({ model: { hidden: [4] } }).model, [3], 3, 1);
    // unit 0 of fc1 is dead on this (non-negative) input: negative weights and bias
    const [k1, b1] = model.getLayer('fc1').getWeights().map((w) => Array.from(w.dataSync()));
    for (let i = 0; i < 3; i++) k1![i * 4] = -0.5 - i * 0.1;
    b1![0] = -0.1;
    model.getLayer('fc1').setWeights([tf.tensor(k1!, [3, 4]), tf.tensor(b1!, [4])]);
    const [k2, b2] = model.getLayer('logits').getWeights().map((w) => Array.from(w.dataSync()));
    const p: P = { W1: rows(k1!, 4), b1: b1!, W2: rows(k2!, 3), b2: b2! };

    const graph = new TrainGraph(model);
    const data = { train: new FloatRows(Float32Array.from(flat(X)), Uint8Array.from(Y), 3), featureSize: 3, inputShape: [3] };
    const lr = 0.5;
    const steps = [1, 10];
    const rec = new Prober(model, graph, data, 7, { every: 'epoch', landscape_steps: steps }, n).measure(0, 0, lr);
    const ref = reference(p, X, Y);
    const close = (k: string, v: number) => expect(rec.values[k], k).toBeCloseTo(v, 5);

    const pre = meanStd(flat(ref.z1));
    const post = meanStd(flat(ref.h));
    close('fc1/pre_mean', pre.m);
    close('fc1/pre_std', pre.s);
    close('fc1/post_mean', post.m);
    close('fc1/post_std', post.s);
    const deadUnits = [0, 1, 2, 3].filter((j) => ref.h.every((r) => r[j] === 0)).length;
    expect(deadUnits).toBeGreaterThanOrEqual(1);
    expect(rec.values['fc1/dead_fraction']).toBe(deadUnits / 4);
    close('fc1/grad_norm', l2(flat(ref.g.W1)));
    close('logits/grad_norm', l2(flat(ref.g.W2)));
    close('fc1/weight_norm', l2(flat(p.W1)));
    close('logits/weight_norm', l2(flat(p.W2)));
    // the output layer has no activation; the first layer no ICS; no step taken, no update ratio
    for (const k of ['logits/pre_mean', 'logits/dead_fraction', 'fc1/ics', 'fc1/update_ratio', 'logits/update_ratio']) expect(rec.values).not.toHaveProperty(k);

    // ICS: the logits' kernel gradient after fc1 (kernel and bias) took its SGD step
    const shifted = reference(step(p, ref.g, lr, ['W1', 'b1']), X, Y);
    const G = flat(ref.g.W2);
    const G2 = flat(shifted.g.W2);
    close('logits/ics', l2(G, G2));
    expect(rec.values['logits/ics']).toBeGreaterThan(1e-4); // a real shift, not a zero by accident
    close('logits/ics_cosine', G.reduce((s, v, i) => s + v * G2[i]!, 0) / (l2(G) * l2(G2)));

    // landscape along the whole gradient, eta = c * lr
    const g0 = allGrads(ref.g);
    const at = steps.map((c) => reference(step(p, ref.g, c * lr, ['W1', 'b1', 'W2', 'b2']), X, Y));
    const losses = [ref.loss, ...at.map((r) => r.loss)];
    close('model/loss', ref.loss);
    close('model/loss_range', Math.max(...losses) - Math.min(...losses));
    const changes = at.map((r) => l2(g0, allGrads(r.g)));
    close('model/grad_change', Math.max(...changes));
    close('model/beta_smoothness', Math.max(...changes.map((d, i) => d / (steps[i]! * lr * l2(g0)))));

    // and the model is exactly as before
    const after = model.getWeights().map((w) => Array.from(w.dataSync()));
    expect(after[0]).toEqual(Array.from(Float32Array.from(k1!)));
    expect(after[2]).toEqual(k2);
    model.dispose();
  });

  test("update_ratio is the optimizer's real step: SGD on the whole set is lr * ||G|| / ||W||", async () => {
    const data: TrainData = await fashionSlice({ trainPerClass: 3, testPerClass: 1 });
    const cfg = runConfig({ model: { hidden: [8] }, train: { epochs: 2, batch_size: 30, optimizer: { type: 'sgd', lr: 0.2 }, backend: 'cpu' } }, 3);
    const recs: ProbeRecord[] = [];
    const out = await trainModel(cfg, data, { probes: { every: 'epoch' }, onProbe: (r) => recs.push(r) });
    out.model.dispose();
    expect(recs.map((r) => [r.step, r.epoch])).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
    ]);
    for (const layer of ['fc1', 'logits']) {
      const want = (0.2 * recs[0]!.values[`${layer}/grad_norm`]!) / recs[0]!.values[`${layer}/weight_norm`]!;
      expect(recs[1]!.values[`${layer}/update_ratio`]! / want, layer).toBeCloseTo(1, 4);
    }
  });
});

describe('probes leave training unchanged (wasm)', () => {
  let backend: BackendInfo;
  let data: TrainData;
  beforeAll(async () => {
    backend = await initBackend('wasm');
    data = await fashionSlice({ trainPerClass: 20, testPerClass: 5 });
  });
  const figures = (ms: EpochMetrics[]) => ms.map(({ seconds: _s, ...m }) => m);

  const CASES = {
    'BatchNorm + dropout, SGD momentum, probes every 3 steps': {
      cfg: runConfig({ model: { hidden: [16, 8], norm: 'batch', dropout: 0.2 }, train: { epochs: 2, batch_size: 32, optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9 } } }, 2),
      every: 3 as const,
    },
    'Batch Renormalization, Adam, probes every epoch': {
      cfg: runConfig({ model: { hidden: [16], norm: { type: 'batch_renorm', warmup_steps: 5 } }, train: { epochs: 2, batch_size: 16, optimizer: { type: 'adam', lr: 0.01 } } }, 1),
      every: 'epoch' as const,
    },
    'CNN with GroupNorm, probes every epoch': {
      cfg: runConfig({ model: { type: 'cnn', conv: { filters: [4], kernel_size: 3 }, hidden: [8], norm: { type: 'group', groups: 2 } }, train: { epochs: 1, batch_size: 50 } }, 1),
      every: 'epoch' as const,
    },
  };

  for (const [name, { cfg, every }] of Object.entries(CASES)) {
    test(name, async () => {
      const d = cfg.model.type === 'cnn' ? { ...data, inputShape: [28, 28, 1] } : data;
      const plain = await trainModel(cfg, d, { backend });
      const recs: ProbeRecord[] = [];
      const probed = await trainModel(cfg, d, { backend, probes: { every }, onProbe: (r) => recs.push(r) });
      expect(probed.status).toBe('FINISHED');
      expect(figures(probed.epochs)).toEqual(figures(plain.epochs));
      const w = (m: typeof plain.model) => m.getWeights().map((t) => Array.from(t.dataSync()));
      expect(w(probed.model)).toEqual(w(plain.model));
      plain.model.dispose();
      probed.model.dispose();

      const perEpoch = Math.ceil(d.train.n / cfg.train.batch_size);
      const total = perEpoch * cfg.train.epochs;
      const want = every === 'epoch' ? [0, ...Array.from({ length: cfg.train.epochs }, (_, e) => (e + 1) * perEpoch)] : Array.from({ length: Math.floor(total / every) + 1 }, (_, i) => i * every);
      expect(recs.map((r) => r.step)).toEqual(want);
      const first = cfg.model.type === 'cnn' ? 'conv1' : 'fc1';
      for (const r of recs.slice(1)) {
        for (const k of [`${first}/pre_std`, `${first}/dead_fraction`, `${first}/grad_norm`, `${first}/update_ratio`, 'logits/ics', 'model/loss_range', 'model/grad_change']) {
          expect(Number.isFinite(r.values[k]), `${k} at step ${r.step}`).toBe(true);
        }
      }
    });
  }
});
