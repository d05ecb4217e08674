/**
 * Tests generated from the layer-family registry: a family is tested by being registered. For every
 * example model of every family (family.ts FamilyExample), on the cpu AND the wasm backend:
 *   - the engine's gradients equal tf autodiff of model.apply(training = true); on wasm, so do the
 *     fast path's (train/fast-graph.ts) where every layer of the example has a fast form
 *   - the engine's training-mode forward equals tfjs-layers' training-mode call (deterministic
 *     families) and its inference-mode forward equals model.predictOnBatch
 * and once: ONNX parity with onnxruntime-node (random weights, running statistics included), the ONNX
 * checker on every exported graph, and a save/load round trip (same configs, same predictions).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { NORMS, runConfig, type ModelConfig } from '../config/index.js';
import { FloatRows } from '../data/index.js';
import { checkOnnxFiles, checkerForTests } from '../export/testing.js';
import { assertParity, exportOnnx, verifyOnnx } from '../export/index.js';
import { buildModel, loadModelArtifacts, saveModelArtifacts } from '../model/index.js';
import { FastGraph, initBackend, TrainGraph } from '../train/index.js';
import { rngFor } from '../util/random.js';
import { LAYER_FAMILIES, NORM_FAMILIES, type FamilyExample } from './index.js';

const CLASSES = 4;

interface Case extends FamilyExample {
  family: string;
  stochastic: boolean;
}

const cases: Case[] = [
  ...LAYER_FAMILIES.flatMap((f) => f.examples.map((e) => ({ ...e, family: f.name, stochastic: f.stochastic === true }))),
  ...Object.values(NORM_FAMILIES).flatMap((f) => f.examples.map((e) => ({ ...e, family: `norm ${f.name}`, stochastic: false }))),
];

// Resolved (conv only on a CNN), which is all buildModel reads.
const modelCfg = (c: Case): ModelConfig => runConfig({ model: c.model }).model as ModelConfig;
const build = (c: Case, seed = 3): LayersModel => buildModel(modelCfg(c), c.inputShape, CLASSES, seed);

function batch(shape: number[], n: number, seed: number): { x: tf.Tensor; y: Uint8Array } {
  const rng = rngFor(seed, 'families-batch');
  const size = n * shape.reduce((a, b) => a * b, 1);
  const x = tf.tensor(Float32Array.from({ length: size }, () => 2 * rng() - 0.5), [n, ...shape]);
  const y = Uint8Array.from({ length: n }, () => Math.floor(rng() * CLASSES));
  return { x, y };
}

const maxAbs = (t: tf.Tensor): number => Array.from(t.dataSync()).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
function relErr(a: tf.Tensor, b: tf.Tensor, scale = Math.max(1e-6, maxAbs(b))): number {
  expect(a.shape).toEqual(b.shape);
  const x = a.dataSync();
  const z = b.dataSync();
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - z[i]!));
  return m / scale;
}

/** Gradients of mean cross-entropy by tf autodiff through model.apply(training = true). */
function autodiff(model: LayersModel, vars: tf.Variable[], x: tf.Tensor, y: Uint8Array): tf.Tensor[] {
  const { grads } = tf.variableGrads(() => {
    const logits = model.apply(x, { training: true }) as tf.Tensor;
    return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(y, 'int32'), CLASSES), logits) as tf.Scalar;
  }, vars);
  return vars.map((v) => grads[v.name]!);
}

/** Autodiff gradients on cpu, by case: the reference for wasm where tfjs-wasm cannot differentiate. */
const familyOfClass = (cls: string) => LAYER_FAMILIES.find((f) => f.classNames.includes(cls));

const cpuReference = new Map<Case, Float32Array[]>();

/** Examples the fast path left to the tf engine (checked once all ran). */
const fastless: string[] = [];

const ctx = (training: boolean) => ({ training, dropoutRng: rngFor(1, 'families-dropout') });

describe('the registry', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });
  test('every YAML norm name has a family, and every family has examples to be tested by', () => {
    expect(Object.keys(NORM_FAMILIES)).toEqual([...NORMS]);
    for (const f of Object.values(NORM_FAMILIES)) expect(f.examples.length, f.name).toBeGreaterThan(0);
    for (const f of LAYER_FAMILIES) {
      const covered = f.examples.length > 0 || Object.values(NORM_FAMILIES).some((n) => n.layers === f && n.examples.length > 0);
      expect(covered, f.name).toBe(true);
    }
  });

  test("every family's example models contain the family's layers", () => {
    tf.tidy(() => {
      for (const f of LAYER_FAMILIES) {
        const mine = [...f.examples, ...Object.values(NORM_FAMILIES).flatMap((n) => (n.layers === f ? n.examples : []))];
        const classes = new Set(mine.flatMap((e) => build({ ...e, family: f.name, stochastic: false }).layers.map((l) => l.getClassName())));
        expect(f.classNames.some((c) => classes.has(c)), f.name).toBe(true);
      }
    });
  });
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`on ${backend}`, () => {
    beforeAll(async () => {
      const info = await initBackend(backend);
      expect(info.name).toBe(backend);
    });

    for (const c of cases) {
      test(`${c.family}: ${c.name}: engine gradients = tf autodiff`, () => {
        tf.tidy(() => {
          const m = build(c);
          const g = new TrainGraph(m);
          const { x, y } = batch(c.inputShape, 8, 5);
          const mine = g.gradients(x, y, ctx(true)).grads;
          const f = (l: { getClassName(): string }) => familyOfClass(l.getClassName())?.stochastic === true;
          let ref: tf.Tensor[];
          if (c.stochastic) {
            // dropout: autodiff of the tfjs-layers model with its stochastic layers replaced by the
            // engine's nodes, replaying the same seeded mask stream (tfjs-layers draws its own masks)
            const replay = ctx(true);
            const grads = tf.variableGrads(() => {
              let h = x;
              m.layers.forEach((l, i) => {
                h = f(l) ? (g.nodes[i]!.forward(h, replay) as tf.Tensor) : (l.apply(h, { training: true }) as tf.Tensor);
              });
              return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(y, 'int32'), CLASSES), h) as tf.Scalar;
            }, g.params).grads;
            ref = g.params.map((p) => grads[p.name]!);
          } else if (backend === 'wasm' && modelCfg(c).type !== 'mlp') {
            // tfjs-wasm has no Conv2DBackpropFilter kernel, so no autodiff of a conv: the reference is
            // autodiff on cpu of the same model and batch (weights and inputs come from seeded JS streams)
            ref = cpuReference.get(c)!.map((v, i) => tf.tensor(v, mine[i]!.shape));
          } else {
            ref = autodiff(m, g.params, x, y);
          }
          if (backend === 'cpu') cpuReference.set(c, ref.map((t) => t.dataSync().slice() as Float32Array));
          expect(mine.length).toBe(ref.length);
          // relative to the largest gradient: a bias before BatchNorm has a zero gradient, all rounding
          const scale = Math.max(...ref.map(maxAbs));
          const worst = Math.max(...mine.map((t, i) => relErr(t, ref[i]!, scale)));
          expect(worst).toBeLessThan(backend === 'wasm' ? 1e-4 : 2e-5);
          m.dispose();
        });
      });

      if (backend === 'wasm') {
        test(`${c.family}: ${c.name}: fast path gradients = tf autodiff (or the example has a layer it leaves to tf)`, () => {
          const m = build(c);
          const sgd = runConfig().train.optimizer;
          const fast = FastGraph.compile(m, { rows: 8, optimizer: sgd });
          if (!fast) {
            fastless.push(`${c.family}: ${c.name}`);
            m.dispose();
            return;
          }
          const { x, y } = batch(c.inputShape, 8, 5);
          const xs = x.dataSync() as Float32Array;
          const per = xs.length / 8;
          for (let r = 0; r < 8; r++) fast.setRow(r, xs, r * per);
          const mine = fast.gradients(8, y, ctx(true));
          tf.tidy(() => {
            const g = new TrainGraph(m);
            // dropout: the tf engine's gradients (checked against autodiff above) with the same mask stream
            // a CNN: autodiff on cpu (tfjs-wasm cannot differentiate a conv, above)
            const cpu = () => cpuReference.get(c)!.map((v, i) => tf.tensor(v, g.params[i]!.shape));
            const ref = c.stochastic ? g.gradients(x, y, ctx(true)).grads : modelCfg(c).type !== 'mlp' ? cpu() : autodiff(m, g.params, x, y);
            expect(mine.length).toBe(ref.length);
            const scale = Math.max(...ref.map(maxAbs));
            const worst = Math.max(...mine.map((v, i) => relErr(tf.tensor(v, ref[i]!.shape), ref[i]!, scale)));
            expect(worst).toBeLessThan(c.stochastic ? 1e-7 : 1e-4);
          });
          m.dispose();
        });
      }

      test(`${c.family}: ${c.name}: engine forward = tfjs-layers, training and inference mode`, () => {
        tf.tidy(() => {
          const m = build(c);
          const g = new TrainGraph(m);
          const { x } = batch(c.inputShape, 8, 6);
          if (!c.stochastic) {
            const ref = m.apply(x, { training: true }) as tf.Tensor;
            expect(relErr(g.forward(x, ctx(true)), ref)).toBeLessThan(1e-5);
          }
          // after a training step the running statistics have moved: inference must use them
          g.syncState();
          const evalRef = m.predictOnBatch(x) as tf.Tensor;
          expect(relErr(g.forward(x, ctx(false)), evalRef)).toBeLessThan(1e-5);
          m.dispose();
        });
      });
    }
  });
}

/** Random weights (positive variances) so parity is not checked at the trivial initial statistics. */
function randomize(model: LayersModel, seed: number): void {
  const rng = rngFor(seed, 'families-weights');
  for (const l of model.layers) {
    if (!l.weights.length) continue;
    l.setWeights(
      l.weights.map((w) => {
        const size = w.shape.reduce((a: number, b) => a * (b ?? 1), 1);
        const name = w.originalName;
        const values = Float32Array.from({ length: size }, () =>
          name.endsWith('moving_variance') ? 0.2 + 2 * rng() : name.endsWith('gamma') ? 0.5 + rng() : (rng() - 0.5) * 0.6,
        );
        return tf.tensor(values, w.shape as number[]);
      }),
    );
  }
}

describe('ONNX parity and save/load round trips', () => {
  const out = mkdtempSync(join(tmpdir(), 'bnx-families-'));
  const exported: string[] = [];
  afterAll(() => rmSync(out, { recursive: true, force: true }));
  beforeAll(async () => {
    await initBackend('wasm');
  });

  for (const c of cases) {
    test(`${c.family}: ${c.name}: ONNX = tfjs (onnxruntime-node); save/load keeps configs and predictions`, async () => {
      const m = build(c);
      randomize(m, 7);
      const cnn = modelCfg(c).type !== 'mlp';
      const bytes = exportOnnx(m, {
        bnxVersion: 'test',
        runKey: 'families',
        classNames: Array.from({ length: CLASSES }, (_, i) => `c${i}`),
        preprocessing: { scale: 1 },
        inputLayout: cnn ? 'nhwc' : 'flat',
      });
      const path = join(out, `${exported.length}.onnx`);
      writeFileSync(path, bytes);
      exported.push(path);
      const per = c.inputShape.reduce((a, b) => a * b, 1);
      const rng = rngFor(8, 'families-x');
      const x = Float32Array.from({ length: 32 * per }, () => 2 * rng() - 1);
      const y = Uint8Array.from({ length: 32 }, () => Math.floor(rng() * CLASSES));
      assertParity(await verifyOnnx(bytes, m, new FloatRows(x, y, per), { inputShape: c.inputShape }));

      const dir = join(out, `saved-${exported.length}`);
      await saveModelArtifacts(m, dir);
      const loaded = await loadModelArtifacts(dir);
      // undefined options come back as null from JSON
      const configs = (ls: typeof m.layers) => JSON.stringify(ls.map((l) => [l.getClassName(), l.getConfig()]), (_k, v: unknown) => (v === undefined ? null : v));
      expect(configs(loaded.layers)).toBe(configs(m.layers));
      tf.tidy(() => {
        const xt = tf.tensor(x, [32, ...c.inputShape]);
        expect(Array.from((loaded.predictOnBatch(xt) as tf.Tensor).dataSync())).toEqual(Array.from((m.predictOnBatch(xt) as tf.Tensor).dataSync()));
      });
      loaded.dispose();
      m.dispose();
    });
  }

  const { skip, skipNote, need } = checkerForTests();
  test.skipIf(skip)(`the ONNX checker accepts every exported graph${skipNote}`, () => {
    expect(exported.length).toBe(cases.length);
    expect(checkOnnxFiles(need(), exported).filter((r) => !r.ok)).toEqual([]);
  });
});

describe('the fast path covers', () => {
  test('every MLP example of dense, flatten, dropout, ReLU/linear, BatchNorm and LayerNorm, and the CNN of 8 filters (others train on tf)', () => {
    const covered = (name: string) => /^(dense|flatten|dropout|norm batch|norm layer|norm none): MLP|activations: MLP (relu|linear) |conv2d: CNN fast path/.test(name);
    expect(fastless.filter(covered)).toEqual([]);
    expect(fastless.length).toBeGreaterThan(0); // CNNs, other activations and norms
  });
});
