/**
 * Converter coverage beyond what bnx's builder produces today, on hand-built tfjs models with seeded
 * random weights (no training needed for parity): every supported activation, strided/even-kernel
 * "same" padding, pooling variants, multi-channel NHWC input, BN with non-trivial running statistics;
 * plus the failure paths (unsupported layers and activations, a tampered model failing parity).
 */
import * as tf from '@tensorflow/tfjs-core';
import { layers, sequential, type LayersModel } from '@tensorflow/tfjs-layers';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FloatRows } from '../data/index.js';
import { GroupNormalization, RMSNormalization, SUPPORTED_ACTIVATIONS } from '../layers/index.js';
import { initBackend } from '../train/index.js';
import { rngFor } from '../util/random.js';
import { checkOnnxFiles, checkerForTests } from './testing.js';
import { exportOnnx, type ExportMeta } from './export.js';
import { decodeModel, encodeModel } from './onnx-proto.js';
import { nhwcToNchw } from './runtime.js';
import { assertParity, verifyOnnx } from './verify.js';

const N = 64;

function randomize(model: LayersModel, seed: number): void {
  const rng = rngFor(seed, 'layers-test');
  for (const l of model.layers) {
    const ws = l.getWeights();
    if (!ws.length) continue;
    l.setWeights(
      l.weights.map((w, i) => {
        const shape = ws[i]!.shape;
        const size = ws[i]!.size;
        // Variances must stay positive; everything else is centred noise.
        const values = w.originalName.endsWith('moving_variance')
          ? Float32Array.from({ length: size }, () => 0.2 + 2 * rng())
          : Float32Array.from({ length: size }, () => (rng() - 0.5) * (w.originalName.endsWith('gamma') ? 1 : 0.6) + (w.originalName.endsWith('gamma') ? 1 : 0));
        return tf.tensor(values, shape);
      }),
    );
  }
}

function inputs(shape: number[], seed: number): { x: Float32Array; y: Uint8Array } {
  const rng = rngFor(seed, 'layers-test-x');
  const per = shape.reduce((p, q) => p * q, 1);
  return { x: Float32Array.from({ length: N * per }, () => rng()), y: Uint8Array.from({ length: N }, () => Math.floor(rng() * 10)) };
}

const meta = (layout: 'flat' | 'nhwc', classes = 10): ExportMeta => ({
  bnxVersion: 'test',
  runKey: 'layers-test',
  classNames: Array.from({ length: classes }, (_, i) => `c${i}`),
  preprocessing: { scale: 255 },
  inputLayout: layout,
});

const out = mkdtempSync(join(tmpdir(), 'bnx-layers-test-'));
const exported: string[] = [];
afterAll(() => rmSync(out, { recursive: true, force: true }));

async function parity(model: LayersModel, inputShape: number[], layout: 'flat' | 'nhwc', seed = 1) {
  randomize(model, seed);
  const { x, y } = inputs(inputShape, seed);
  const bytes = exportOnnx(model, meta(layout));
  const path = join(out, `${exported.length}.onnx`);
  writeFileSync(path, bytes);
  exported.push(path);
  const r = await verifyOnnx(bytes, model, new FloatRows(x, y, x.length / y.length), { inputShape, batch: 25 });
  assertParity(r);
  return r;
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('activations', () => {
  for (const act of SUPPORTED_ACTIVATIONS) {
    it(`${act} (Activation layer and Dense activation)`, async () => {
      const model = sequential({
        layers: [
          layers.dense({ inputShape: [20], units: 16, activation: act as never }),
          layers.activation({ activation: act as never }),
          layers.dense({ units: 10 }),
        ],
      });
      const r = await parity(model, [20], 'flat');
      expect(r.max_abs_diff).toBeLessThanOrEqual(1e-4);
      model.dispose();
    });
  }

  it('LeakyReLU, ELU and ReLU(maxValue) layers', async () => {
    const model = sequential({
      layers: [
        layers.dense({ inputShape: [20], units: 16 }),
        layers.leakyReLU({ alpha: 0.2 }),
        layers.dense({ units: 16 }),
        layers.elu(), // tfjs' ELU layer only supports alpha 1
        layers.dense({ units: 16 }),
        layers.reLU({ maxValue: 0.3 }),
        layers.dense({ units: 10 }),
      ],
    });
    await parity(model, [20], 'flat');
    model.dispose();
  });
});

describe('convolutions, pooling and layout', () => {
  it('3-channel NHWC input, strided even-kernel same padding, avg/max pooling with same and valid padding', async () => {
    const model = sequential({
      layers: [
        layers.conv2d({ inputShape: [9, 11, 3], filters: 5, kernelSize: 4, strides: 2, padding: 'same', activation: 'relu' }),
        layers.batchNormalization({ axis: -1, epsilon: 1e-5 }),
        layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
        layers.conv2d({ filters: 6, kernelSize: [3, 2], padding: 'valid', dilationRate: 1 }),
        new RMSNormalization({ epsilon: 1e-5 }),
        layers.maxPooling2d({ poolSize: 2, strides: 1, padding: 'same' }),
        new GroupNormalization({ groups: 3, epsilon: 1e-5 }),
        layers.layerNormalization({ axis: -1, epsilon: 1e-5 }),
        layers.flatten(),
        layers.dropout({ rate: 0.5 }),
        layers.dense({ units: 10 }),
      ],
    });
    await parity(model, [9, 11, 3], 'nhwc', 3);
    model.dispose();
  });

  it('an image-input MLP (Flatten first) exported with a flat input', async () => {
    const model = sequential({
      layers: [layers.flatten({ inputShape: [6, 5, 2] }), layers.dense({ units: 12, activation: 'tanh' }), layers.dense({ units: 10 })],
    });
    await parity(model, [6, 5, 2], 'flat');
    model.dispose();
  });

  it('nhwcToNchw moves channels in front', () => {
    // 1 image, 2x2 pixels, 3 channels: value = 100*c + 10*y + x
    const nhwc = new Float32Array([0, 100, 200, 1, 101, 201, 10, 110, 210, 11, 111, 211]);
    expect(Array.from(nhwcToNchw(nhwc, 1, 2, 2, 3))).toEqual([0, 1, 10, 11, 100, 101, 110, 111, 200, 201, 210, 211]);
  });
});

describe('failure paths', () => {
  it('an unsupported layer names its class', () => {
    const model = sequential({ layers: [layers.dense({ inputShape: [8], units: 4 }), layers.repeatVector({ n: 2 }), layers.flatten(), layers.dense({ units: 10 })] });
    expect(() => exportOnnx(model, meta('flat'))).toThrow(/layer repeat_vector\S* of class RepeatVector is not supported/);
    model.dispose();
  });

  it('a softmax activation is refused with the reason', () => {
    const model = sequential({ layers: [layers.dense({ inputShape: [8], units: 10, activation: 'softmax' })] });
    expect(() => exportOnnx(model, meta('flat'))).toThrow(/activation 'softmax'.*exporter adds the softmax/);
    model.dispose();
  });

  it('class names must match the logits', () => {
    const model = sequential({ layers: [layers.dense({ inputShape: [8], units: 3 })] });
    expect(() => exportOnnx(model, meta('flat'))).toThrow(/10 class names for a model with 3 outputs/);
    model.dispose();
  });

  it('a model that changed after export fails parity loudly', async () => {
    const model = sequential({ layers: [layers.dense({ inputShape: [20], units: 16, activation: 'relu' }), layers.dense({ units: 10 })] });
    randomize(model, 5);
    const bytes = exportOnnx(model, meta('flat'));
    const logits = model.layers[1]!;
    const [k, b] = logits.getWeights();
    logits.setWeights([k!, tf.add(b!, tf.scalar(0.001))]);
    const { x, y } = inputs([20], 5);
    const r = await verifyOnnx(bytes, model, new FloatRows(x, y, 20), { inputShape: [20] });
    expect(r.max_abs_diff).toBeGreaterThan(5e-4);
    expect(() => assertParity(r)).toThrow(/max \|logit difference\| .* exceeds 0.0001/);
    model.dispose();
  });

  it('scores the tfjs side one predictOnBatch per chunk (predict() would cut each chunk into 32-row slices)', async () => {
    const model = sequential({ layers: [layers.dense({ inputShape: [20], units: 16, activation: 'relu' }), layers.dense({ units: 10 })] });
    randomize(model, 6);
    const bytes = exportOnnx(model, meta('flat'));
    const { x, y } = inputs([20], 5);
    let chunks = 0;
    const onBatch = model.predictOnBatch.bind(model);
    model.predictOnBatch = (t) => {
      chunks++;
      return onBatch(t);
    };
    model.predict = () => {
      throw new Error('predict() called');
    };
    const r = await verifyOnnx(bytes, model, new FloatRows(x, y, 20), { inputShape: [20], batch: 2 });
    assertParity(r);
    expect(chunks).toBe(Math.ceil(y.length / 2));
    model.dispose();
  });

  it('assertParity reports differing predictions and accuracies', () => {
    const r = { onnx_accuracy: 0.5, tfjs_accuracy: 0.51, max_abs_diff: 0.2, prediction_agreement: 0.99, n: 100, seconds: 1 };
    expect(() => assertParity(r)).toThrow(/1 of 100 predictions differ.*accuracy differs: onnx 0.5 vs tfjs 0.51.*exceeds/);
    expect(() => assertParity({ ...r, onnx_accuracy: 0.51, prediction_agreement: 1, max_abs_diff: Number.NaN })).toThrow(/NaN exceeds/);
    expect(() => assertParity({ ...r, onnx_accuracy: 0.51, prediction_agreement: 1, max_abs_diff: 5e-5 })).not.toThrow();
  });
});

const { skip: skipChecker, skipNote, need: needChecker } = checkerForTests();

describe('ONNX checker', () => {
  it.skipIf(skipChecker)(
    `accepts every graph above (asymmetric pads, dilations, all activations)${skipNote}`,
    () => {
      expect(exported.length).toBe(SUPPORTED_ACTIVATIONS.length + 3);
      expect(checkOnnxFiles(needChecker(), exported).filter((r) => !r.ok)).toEqual([]);
    },
  );

  it.skipIf(skipChecker)('rejects a broken graph (the check is not vacuous)', () => {
    const model = sequential({ layers: [layers.dense({ inputShape: [8], units: 10 })] });
    const m = decodeModel(exportOnnx(model, meta('flat')));
    model.dispose();
    m.graph.node[0]!.input[1] = 'no_such_tensor';
    const path = join(out, 'broken.onnx');
    writeFileSync(path, encodeModel(m));
    const [r] = checkOnnxFiles(needChecker(), [path]);
    expect(r!.ok).toBe(false);
    expect(r!.detail).toMatch(/no_such_tensor/);
  });
});
