/**
 * Every norm layer and the CNN: train briefly with the real engine on real FashionMNIST, export, and
 * check parity with onnxruntime-node (same predictions, same accuracy, max |logit diff| <= 1e-4);
 * then the ONNX checker (Debian's python3-onnx, full_check) on every exported file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { NORMS, type ModelConfig, type NormConfig, type RunConfig } from '../config/index.js';
import { initBackend, trainModel, type TrainData } from '../train/index.js';
import { fashionSlice } from '../train/testing.js';
import { checkOnnxFiles, checkerForTests } from './testing.js';
import { exportOnnx, type ExportMeta } from './export.js';
import { decodeModel } from './onnx-proto.js';
import { evalOnnx } from './eval.js';
import { assertParity, verifyOnnx } from './verify.js';

const BACKEND = (process.env.BNX_TEST_BACKEND ?? 'wasm') as 'wasm' | 'cpu';
const out = mkdtempSync(join(tmpdir(), 'bnx-export-test-'));
const exported: string[] = [];
let flat: TrainData;
let image: TrainData;

function runConfig(model: Partial<ModelConfig>, epochs = 1): RunConfig {
  return {
    dataset: { scale: 255 },
    model: {
      type: 'mlp',
      hidden: [32, 16],
      conv: { filters: [4, 8], kernel_size: 3, pool: 'max' },
      activation: 'relu',
      norm: 'none',
      dropout: 0,
      init: 'pytorch',
      ...model,
    },
    train: {
      epochs,
      batch_size: 32,
      optimizer: { type: 'adam', lr: 0.003, weight_decay: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
      schedule: 'none',
      backend: BACKEND,
    },
    seed: 7,
  };
}

function meta(data: TrainData, key: string, layout: 'flat' | 'nhwc'): ExportMeta {
  return {
    bnxVersion: '0.0.0-test',
    runKey: key,
    classNames: data.classNames!,
    preprocessing: { scale: 255 },
    inputLayout: layout,
  };
}

/** Train, export, write the file for the checker, verify on the test slice; returns the parity figures. */
async function roundTrip(key: string, cfg: RunConfig, data: TrainData) {
  const outcome = await trainModel(cfg, data);
  expect(outcome.status).toBe('FINISHED');
  const model: LayersModel = outcome.model;
  try {
    const layout = cfg.model.type === 'cnn' ? 'nhwc' : 'flat';
    const bytes = exportOnnx(model, meta(data, key, layout));
    const path = join(out, `${key}.onnx`);
    writeFileSync(path, bytes);
    exported.push(path);
    const r = await verifyOnnx(path, model, data.test, { inputShape: data.inputShape, batch: 128 });
    assertParity(r);
    expect(r.n).toBe(data.test.n);
    expect(r.prediction_agreement).toBe(1);
    expect(r.max_abs_diff).toBeLessThanOrEqual(1e-4);
    expect(r.onnx_accuracy).toBe(r.tfjs_accuracy);
    // Trained past chance (0.1), not a constant predictor: the comparison means something.
    expect(r.tfjs_accuracy).toBeGreaterThan(0.2);
    if (process.env.BNX_TEST_VERBOSE) console.log(key, JSON.stringify(r));
    return { r, model, bytes };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

function weightNamed(model: LayersModel, suffix: string): Float32Array {
  const w = model.weights.find((v) => v.originalName.endsWith(suffix));
  if (!w) throw new Error(`no weight ${suffix}`);
  return w.read().dataSync() as Float32Array;
}

beforeAll(async () => {
  await initBackend(BACKEND);
  flat = await fashionSlice({ trainPerClass: 40, testPerClass: 30, shape: 'flat' });
  image = { ...flat, inputShape: [28, 28, 1] };
});

afterAll(() => rmSync(out, { recursive: true, force: true }));

// Every registered norm (from the registry's names), plus option variants.
const mlpActs = ['relu', 'gelu', 'swish', 'selu', 'elu', 'tanh'] as const;
const mlpCases: [string, NormConfig, Partial<ModelConfig>][] = [
  ...NORMS.filter((n) => n !== 'instance').map((n, i): [string, NormConfig, Partial<ModelConfig>] => [n, n === 'group' ? { type: 'group', groups: 4 } : n, { activation: mlpActs[i % mlpActs.length]!, ...(n === 'batch' ? { dropout: 0.2 } : {}) }]),
  ['batch-post-noaffine', { type: 'batch', position: 'post', affine: false }, { activation: 'leaky_relu' }],
  ['layer-post', { type: 'layer', position: 'post' }, { activation: 'sigmoid' }],
  ['group-noaffine', { type: 'group', groups: 4, affine: false }, { activation: 'tanh' }],
];

describe('MLP export parity (trained on FashionMNIST, checked with onnxruntime-node)', () => {
  for (const [name, norm, extra] of mlpCases) {
    it(`norm ${name}`, async () => {
      const { r, model } = await roundTrip(`mlp-${name}`, runConfig({ norm, ...extra }, 2), flat);
      if (name === 'batch') {
        // The running statistics moved away from their init, so inference-form BN is really exercised.
        const mean = weightNamed(model, 'fc1_norm/moving_mean');
        const variance = weightNamed(model, 'fc1_norm/moving_variance');
        expect(Math.max(...mean.map(Math.abs))).toBeGreaterThan(0.01);
        expect(variance.some((v) => Math.abs(v - 1) > 0.01)).toBe(true);
      }
      model.dispose();
      expect(r.seconds).toBeGreaterThan(0);
    });
  }
});

const cnnExtra: Record<string, Partial<ModelConfig>> = {
  batch: { conv: { filters: [4, 8], kernel_size: 3, pool: 'avg' } },
  layer: { activation: 'gelu' },
  instance: { activation: 'swish' },
  rms: { conv: { filters: [4, 8], kernel_size: 5, pool: 'none' } },
};
const cnnCases: [string, NormConfig, Partial<ModelConfig>][] = NORMS.map((n) => [n, n === 'group' ? { type: 'group', groups: 2 } : n, { activation: 'relu', ...cnnExtra[n] }]);

describe('CNN export parity (NCHW input, conv kernels permuted, NHWC flatten order)', () => {
  for (const [name, norm, extra] of cnnCases) {
    it(`cnn norm ${name}`, async () => {
      const { model } = await roundTrip(`cnn-${name}`, runConfig({ type: 'cnn', hidden: [16], norm, ...extra }, 2), image);
      model.dispose();
    });
  }
});

describe('metadata and evaluation', () => {
  it('writes the graph contract and metadata, and evalOnnx agrees with the parity check', async () => {
    const { r, model, bytes } = await roundTrip('meta-check', runConfig({ norm: 'batch' }, 1), flat);
    model.dispose();
    const m = decodeModel(bytes);
    expect(m.irVersion).toBe(8);
    expect(m.opsetImport).toEqual([{ domain: '', version: 17 }]);
    expect(m.producerName).toBe('bnx');
    const md = Object.fromEntries(m.metadataProps.map((e) => [e.key, e.value]));
    expect(md).toMatchObject({ bnx_version: '0.0.0-test', run_key: 'meta-check', input_layout: 'flat', producer_name: 'bnx' });
    expect(JSON.parse(md.class_names!)).toEqual(flat.classNames);
    expect(JSON.parse(md.preprocessing!)).toEqual({ scale: 255 });
    expect(m.graph.input.map((i) => i.name)).toEqual(['input']);
    expect(m.graph.input[0]!.type.tensorType.shape.dim).toEqual([{ dimParam: 'batch' }, { dimValue: 784 }]);
    expect(m.graph.output.map((o) => o.name)).toEqual(['logits', 'probabilities']);
    expect(m.graph.node.map((n) => n.opType)).toEqual(['Gemm', 'BatchNormalization', 'Relu', 'Gemm', 'BatchNormalization', 'Relu', 'Gemm', 'Softmax']);

    const e = await evalOnnx(bytes, flat.test, flat.classNames!);
    expect(e.n).toBe(flat.test.n);
    expect(e.accuracy).toBeCloseTo(r.onnx_accuracy, 12);
    expect(e.per_class).toHaveLength(10);
    expect(e.per_class.every((c) => c.n === 30)).toBe(true);
    const mean = e.per_class.reduce((s, c) => s + c.accuracy, 0) / 10;
    expect(mean).toBeCloseTo(e.accuracy, 12);
  });

  it('CNN input is NCHW with a dynamic batch and layout metadata nchw', async () => {
    const { model, bytes } = await roundTrip('cnn-meta', runConfig({ type: 'cnn', hidden: [16], conv: { filters: [4], kernel_size: 3, pool: 'max' } }, 2), image);
    model.dispose();
    const m = decodeModel(bytes);
    expect(m.graph.input[0]!.type.tensorType.shape.dim).toEqual([{ dimParam: 'batch' }, { dimValue: 1 }, { dimValue: 28 }, { dimValue: 28 }]);
    const md = Object.fromEntries(m.metadataProps.map((e) => [e.key, e.value]));
    expect(md.input_layout).toBe('nchw');
    expect(m.graph.node.map((n) => n.opType)).toEqual(['Conv', 'Relu', 'MaxPool', 'Transpose', 'Flatten', 'Gemm', 'Relu', 'Gemm', 'Softmax']);
  });
});

const { checker, skip: skipChecker, skipNote, need: needChecker } = checkerForTests();

describe('ONNX checker', () => {
  it.skipIf(skipChecker)(
    `onnx.checker.check_model(full_check=True) accepts every exported file${checker ? ` (onnx ${checker.version}, ${checker.python})` : skipNote}`,
    () => {
      expect(exported.length).toBe(mlpCases.length + cnnCases.length + 2);
      const results = checkOnnxFiles(needChecker(), exported);
      expect(results.filter((r) => !r.ok)).toEqual([]);
      expect(results.every((r) => r.detail === 'ir=8 opset=17')).toBe(true);
    },
  );
});
