/**
 * The seed study without the CLI: MLP 784-64-32-10 ReLU, PyTorch init, SGD lr 0.001, batch 64, 5 epochs,
 * baseline vs BatchNorm before ReLU, on the full FashionMNIST from the npm package.
 * Usage: node dist-dev/bench/seed-study.js [backend=wasm] [seeds=1,2,3] [variants=baseline,bn]
 */
import type { RunConfig, BackendName } from '../framework/config/index.js';
import { fashionFull } from '../framework/train/testing.js';
import { initBackend, trainModel } from '../framework/train/index.js';

const backendName = (process.argv[2] ?? 'wasm') as BackendName;
const seeds = (process.argv[3] ?? '1,2,3').split(',').map(Number);
const variants = (process.argv[4] ?? 'baseline,bn').split(',');

function config(seed: number, bn: boolean): RunConfig {
  return {
    seed,
    dataset: { name: 'fashion-mnist', scale: 255 },
    model: {
      type: 'mlp',
      hidden: [64, 32],
      activation: 'relu',
      norm: bn ? 'batch' : 'none',
      dropout: 0,
      init: 'pytorch',
      conv: { filters: [16, 32], kernel_size: 3, pool: 'max' },
    },
    train: {
      epochs: 5,
      batch_size: 64,
      optimizer: { type: 'sgd', lr: 0.001, momentum: 0, nesterov: false, weight_decay: 0 },
      schedule: 'none',
      backend: backendName,
    },
  };
}

const backend = await initBackend(backendName);
console.log(`backend ${backend.name}${backend.fallback_reason ? ` (${backend.fallback_reason})` : ''}`);
const t = performance.now();
const data = await fashionFull();
console.log(`data: ${data.train.n} train / ${data.test.n} test in ${((performance.now() - t) / 1000).toFixed(1)} s`);
for (const v of variants) {
  for (const seed of seeds) {
    const out = await trainModel(config(seed, v === 'bn'), data, { backend });
    const acc = out.epochs.map((e) => (100 * e.test_accuracy).toFixed(2)).join(' ');
    const secs = out.epochs.map((e) => e.seconds.toFixed(2)).join(' ');
    console.log(`${v.padEnd(8)} seed ${seed}: ${out.status} test acc % per epoch: ${acc} | s/epoch: ${secs}`);
    out.model.dispose();
  }
}
