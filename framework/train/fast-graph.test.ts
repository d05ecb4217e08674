/**
 * The wasm fast path (fast-graph.ts) against the tf engine (engine.ts) on the same backend: the same
 * gradients bit for bit, the same training trajectories bit for bit, inference within float32
 * rounding of tfjs-layers' predict (bit for bit without norms), and the configurations it leaves to the tf engine. Each family's
 * fast gradients are also checked against tf autodiff by layers/families.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from 'vitest';
import { runConfig, type ModelConfig, type RunConfig } from '../config/index.js';
import { buildModel } from '../model/index.js';
import { rngFor } from '../util/random.js';
import { initBackend, type BackendInfo } from './backend.js';
import { TrainGraph } from './engine.js';
import { FastGraph } from './fast-graph.js';
import { trainModel, type TrainData } from './loop.js';
import { fashionSlice } from './testing.js';

let backend: BackendInfo;
let data: TrainData;
beforeAll(async () => {
  backend = await initBackend('wasm');
  data = await fashionSlice({ trainPerClass: 20, testPerClass: 10 });
});

const SGD = runConfig().train.optimizer;
const model = (over: Record<string, unknown>): ModelConfig => runConfig({ model: over }).model as ModelConfig;
const bits = (a: ArrayLike<number>): number[] => Array.from(new Uint32Array(Float32Array.from(a).buffer));
const ctx = () => ({ training: true, dropoutRng: rngFor(4, 'fast-dropout') });

function rows(n: number, seed: number, features = 784): { x: Float32Array; y: Uint8Array } {
  const rng = rngFor(seed, 'fast-graph-test');
  // image-like: a zero border (whole zero blocks, which the first layer's weight gradient skips) and
  // half of the other inputs zero
  const x = Float32Array.from({ length: n * features }, (_, i) => (i % features < 100 || rng() < 0.5 ? 0 : rng()));
  return { x, y: Uint8Array.from({ length: n }, () => Math.floor(rng() * 10)) };
}

const MODELS: Record<string, Record<string, unknown>> = {
  'seed MLP 784-64-32-10': {},
  '+BatchNorm (pre)': { norm: { type: 'batch', position: 'pre' } },
  '+BatchNorm (post), no affine': { norm: { type: 'batch', position: 'post', affine: false } },
  '+LayerNorm': { norm: 'layer' },
  '+dropout, odd widths': { hidden: [20, 5], dropout: 0.3 },
};

describe('fast gradients = the tf engine, bit for bit (wasm)', () => {
  for (const [name, over] of Object.entries(MODELS)) {
    for (const n of [64, 13]) {
      test(`${name}, batch ${n}`, () => {
        const m = buildModel(model(over), [784], 10, 7);
        const fast = FastGraph.compile(m, { rows: 64, optimizer: SGD })!;
        expect(fast).not.toBeNull();
        const { x, y } = rows(n, n);
        for (let r = 0; r < n; r++) fast.setRow(r, x, r * 784);
        const mine = fast.gradients(n, y, ctx());
        const ref = tf.tidy(() => new TrainGraph(m).gradients(tf.tensor2d(x, [n, 784]), y, ctx()).grads.map((g) => g.dataSync().slice()));
        expect(mine.length).toBe(ref.length);
        mine.forEach((g, i) => expect(bits(g), `param ${i}`).toEqual(bits(ref[i]!)));
        m.dispose();
      });
    }
  }
});

// CNNs: conv (im2col + GEMM), max-pooling and flatten on the fast path; each must compile (not fall
// back to the tf engine), with every conv and pool on it.
const CNNS: Record<string, Record<string, unknown>> = {
  'bench CNN (conv 8, 16, max pool, dense 64)': { type: 'cnn', hidden: [64], conv: { filters: [8, 16], kernel_size: 3, pool: 'max' } },
  'CNN 5x5 kernel, no pooling': { type: 'cnn', hidden: [16], conv: { filters: [8], kernel_size: 5, pool: 'none' } },
  'CNN + BatchNorm (pre) over channels and after the dense': { type: 'cnn', hidden: [16], norm: { type: 'batch', position: 'pre' }, conv: { filters: [8, 16], kernel_size: 3, pool: 'max' } },
  'CNN even kernel (asymmetric padding), three convs': { type: 'cnn', hidden: [], conv: { filters: [8, 8, 16], kernel_size: 2, pool: 'max' } },
};

describe('fast CNN gradients = the tf engine, bit for bit (wasm)', () => {
  for (const [name, over] of Object.entries(CNNS)) {
    for (const n of [32, 7]) {
      test(`${name}, batch ${n}`, () => {
        const m = buildModel(model(over), [28, 28, 1], 10, 5);
        const fast = FastGraph.compile(m, { rows: 64, batch: 32, optimizer: SGD })!;
        expect(fast).not.toBeNull();
        const kinds = fast.nodes.map((f) => f.constructor.name);
        expect(kinds.filter((k) => k === 'ConvFast').length).toBe((over.conv as { filters: number[] }).filters.length);
        const { x, y } = rows(n, n + 1);
        for (let r = 0; r < n; r++) fast.setRow(r, x, r * 784);
        const mine = fast.gradients(n, y, ctx());
        const ref = tf.tidy(() => new TrainGraph(m).gradients(tf.tensor4d(x, [n, 28, 28, 1]), y, ctx()).grads.map((g) => g.dataSync().slice()));
        expect(mine.length).toBe(ref.length);
        mine.forEach((g, i) => expect(bits(g), `param ${i}`).toEqual(bits(ref[i]!)));
        // inference = tfjs-layers' predict bit for bit, also of more rows than a batch (the patches
        // are built a batch at a time)
        fast.syncState(); // BatchNorm: the running statistics the fast forward moved, into the model
        const many = rows(61, 5);
        for (let r = 0; r < 61; r++) fast.setRow(r, many.x, r * 784);
        const logits = fast.predict(61, ctx());
        const tfLogits = tf.tidy(() => (m.predict(tf.tensor4d(many.x, [61, 28, 28, 1])) as tf.Tensor).dataSync().slice());
        // (tfjs-layers' BatchNorm inference rounds differently: tf.batchNorm)
        if (over.norm) logits.forEach((v, i) => expect(v).toBeCloseTo(tfLogits[i]!, 4));
        else expect(bits(logits)).toEqual(bits(tfLogits));
        m.dispose();
      });
    }
  }
});

describe('training on the fast path', () => {
  const cfg = (over: Record<string, unknown>, optimizer: Record<string, unknown>): RunConfig =>
    runConfig({ model: { hidden: [16, 8], ...over }, train: { epochs: 2, batch_size: 32, optimizer: optimizer as never } }, 3);
  const OPTIMIZERS: Record<string, Record<string, unknown>> = {
    sgd: { type: 'sgd', lr: 0.05 },
    'sgd + weight decay': { type: 'sgd', lr: 0.05, weight_decay: 0.01 },
    'nesterov momentum + weight decay': { type: 'sgd', lr: 0.05, momentum: 0.9, nesterov: true, weight_decay: 1e-3 },
    adam: { type: 'adam', lr: 0.01, weight_decay: 1e-3 },
    adamw: { type: 'adamw', lr: 0.01, weight_decay: 0.01 },
  };
  for (const [oname, opt] of Object.entries(OPTIMIZERS)) {
    for (const [mname, over] of Object.entries({ plain: {}, 'BatchNorm + dropout': { norm: 'batch', dropout: 0.2 }, LayerNorm: { norm: 'layer' } })) {
      test(`${oname}, ${mname}: per-epoch training metrics and final weights = the tf engine's; test metrics within rounding`, async () => {
        const run = (fastPath: boolean) => trainModel(cfg(over, opt), data, { backend, fastPath });
        const a = await run(true);
        const b = await run(false);
        expect(a.status).toBe('FINISHED');
        const train = (o: typeof a) => o.epochs.map((e) => [e.train_loss, e.train_accuracy]);
        expect(train(a)).toEqual(train(b));
        const w = (o: typeof a) => o.model.getWeights().map((t) => bits(t.dataSync()));
        expect(w(a)).toEqual(w(b));
        a.epochs.forEach((e, i) => {
          expect(e.test_accuracy).toBe(b.epochs[i]!.test_accuracy);
          expect(Math.abs(e.test_loss - b.epochs[i]!.test_loss)).toBeLessThan(1e-6);
          // without a norm, inference is the same arithmetic as tfjs-layers' predict (its BatchNorm and
          // LayerNorm round differently: tf.batchNorm, moments)
          if (mname === 'plain') expect(e.test_loss).toBe(b.epochs[i]!.test_loss);
        });
        a.model.dispose();
        b.model.dispose();
      });
    }
  }

  test.each([
    ['the bench CNN, sgd with momentum', {} as { norm?: string }, { type: 'sgd', lr: 0.05, momentum: 0.9 }],
    ['the bench CNN + BatchNorm, adam', { norm: 'batch' }, { type: 'adam', lr: 0.01 }],
  ] as const)('%s: per-epoch training metrics and final weights = the tf engine\'s; twice: identical', async (_n, over, optimizer) => {
    const images = await fashionSlice({ trainPerClass: 20, testPerClass: 10, shape: 'image' });
    const c = runConfig(
      {
        model: { type: 'cnn', hidden: [64], conv: { filters: [8, 16], kernel_size: 3, pool: 'max' }, ...over },
        train: { epochs: 2, batch_size: 32, optimizer: optimizer as never },
      },
      3,
    );
    const a = await trainModel(c, images, { backend });
    const b = await trainModel(c, images, { backend, fastPath: false });
    const again = await trainModel(c, images, { backend });
    const figures = (o: typeof a) => o.epochs.map(({ seconds: _s, ...m }) => m);
    const train = (o: typeof a) => o.epochs.map((e) => [e.train_loss, e.train_accuracy, e.test_accuracy]);
    expect(train(a)).toEqual(train(b));
    // BatchNorm inference rounds differently from tfjs-layers' (tf.batchNorm)
    a.epochs.forEach((e, i) => {
      if (over.norm) expect(Math.abs(e.test_loss - b.epochs[i]!.test_loss)).toBeLessThan(1e-6);
      else expect(e.test_loss).toBe(b.epochs[i]!.test_loss);
    });
    expect(figures(again)).toEqual(figures(a));
    const w = (o: typeof a) => o.model.getWeights().map((t) => bits(t.dataSync()));
    expect(w(a)).toEqual(w(b));
    for (const o of [a, b, again]) o.model.dispose();
  });

  test('the same config and seed twice: identical metrics', async () => {
    const c = cfg({ norm: 'batch', dropout: 0.1 }, { type: 'adam', lr: 0.01 });
    const a = await trainModel(c, data, { backend });
    const b = await trainModel(c, data, { backend });
    const figures = (o: typeof a) => o.epochs.map(({ seconds: _s, ...m }) => m);
    expect(figures(a)).toEqual(figures(b));
    a.model.dispose();
    b.model.dispose();
  });
});

describe('what the fast path leaves to the tf engine', () => {
  test.each([
    ['rmsprop', {}, { type: 'rmsprop', lr: 0.01 }],
    ['gelu', { activation: 'gelu' }, SGD],
    ['group norm', { norm: { type: 'group', groups: 2 } }, SGD],
    ['a CNN', { type: 'cnn', hidden: [8], conv: { filters: [2], kernel_size: 3, pool: 'max' } }, SGD],
  ] as const)('%s', (_n, over, optimizer) => {
    const mc = model(over);
    const m = buildModel(mc, mc.type === 'cnn' ? [28, 28, 1] : [784], 10, 1);
    expect(FastGraph.compile(m, { rows: 64, optimizer: runConfig({ train: { optimizer: optimizer as never } }).train.optimizer })).toBeNull();
    m.dispose();
  });

  test('other backends', async () => {
    await initBackend('cpu');
    const m = buildModel(model({}), [784], 10, 1);
    expect(FastGraph.compile(m, { rows: 64, optimizer: SGD })).toBeNull();
    m.dispose();
    await initBackend('wasm');
  });
});
