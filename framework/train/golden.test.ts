/**
 * Golden metrics: the exact per-epoch figures of two tiny real trainings on real FashionMNIST bytes.
 * Run keys include SEMANTICS_VERSION (./semantics.ts) so that results of older engine code are never
 * reused. If this test fails because an engine change altered training results on purpose, bump
 * SEMANTICS_VERSION and paste the new figures here; if the change was meant to be bit-identical, the
 * change is wrong.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { runConfig } from '../config/index.js';
import { initBackend, type BackendInfo } from './backend.js';
import { trainModel, type EpochMetrics, type TrainData } from './loop.js';
import { SEMANTICS_VERSION } from './semantics.js';
import { fashionSlice } from './testing.js';

let backend: BackendInfo;
let data: TrainData;
let images: TrainData;

beforeAll(async () => {
  backend = await initBackend('wasm');
  data = await fashionSlice({ trainPerClass: 30, testPerClass: 10 });
  images = await fashionSlice({ trainPerClass: 30, testPerClass: 10, shape: 'image' });
});

const figures = (ms: EpochMetrics[]) => ms.map(({ seconds: _s, ...m }) => m);

const CASES = {
  'seed-study MLP, SGD': runConfig({ model: { hidden: [16, 8] }, train: { epochs: 2, batch_size: 32, optimizer: { type: 'sgd', lr: 0.05 } } }, 1),
  'BatchNorm + dropout, Adam, warmup_cosine': runConfig(
    {
      model: { hidden: [16, 8], norm: 'batch', dropout: 0.1 },
      train: { epochs: 3, batch_size: 32, optimizer: { type: 'adam', lr: 0.01 }, schedule: 'warmup_cosine' },
    },
    2,
  ),
  'CNN [4, 8] + 16, max pool, SGD': runConfig(
    { model: { type: 'cnn', hidden: [16], conv: { filters: [4, 8], kernel_size: 3, pool: 'max' } }, train: { epochs: 2, batch_size: 32, optimizer: { type: 'sgd', lr: 0.05 } } },
    1,
  ),
};

const GOLDEN: Record<keyof typeof CASES, Omit<EpochMetrics, 'seconds'>[]> = {
  'seed-study MLP, SGD': [
    { epoch: 1, train_loss: 2.309241154609889, train_accuracy: 0.10416666666666667, test_loss: 2.2951054033374145, test_accuracy: 0.1, lr: 0.05 },
    { epoch: 2, train_loss: 2.2918737491299783, train_accuracy: 0.09375, test_loss: 2.282417549288797, test_accuracy: 0.1, lr: 0.05 },
  ],
  'BatchNorm + dropout, Adam, warmup_cosine': [
    { epoch: 1, train_loss: 2.063946339008445, train_accuracy: 0.296875, test_loss: 1.8598672074204845, test_accuracy: 0.4, lr: 0.01 },
    { epoch: 2, train_loss: 1.7297678518223525, train_accuracy: 0.5010416666666667, test_loss: 1.601404745448169, test_accuracy: 0.57, lr: 0.01 },
    { epoch: 3, train_loss: 1.5325443947551398, train_accuracy: 0.55625, test_loss: 1.4885890143994203, test_accuracy: 0.6, lr: 0.005 },
  ],
  // semantics 2: max-pooling's gradient goes to each window's first maximum (tfjs-wasm's MaxPoolGrad
  // sent it elsewhere for windows whose maximum is <= 0 and for ties; layers/pool-kernel.ts)
  'CNN [4, 8] + 16, max pool, SGD': [
    { epoch: 1, train_loss: 2.3143697363677247, train_accuracy: 0.09791666666666667, test_loss: 2.3089457962733637, test_accuracy: 0.1, lr: 0.05 },
    { epoch: 2, train_loss: 2.3111572604871977, train_accuracy: 0.09375, test_loss: 2.303945463416907, test_accuracy: 0.1, lr: 0.05 },
  ],
};

describe(`golden per-epoch metrics of semantics version ${SEMANTICS_VERSION} (wasm)`, () => {
  for (const [name, cfg] of Object.entries(CASES)) {
    test(name, async () => {
      const out = await trainModel(cfg, cfg.model.type === 'cnn' ? images : data, { backend });
      out.model.dispose();
      expect(out.status).toBe('FINISHED');
      expect(figures(out.epochs)).toEqual(GOLDEN[name as keyof typeof CASES]);
    });
  }
});
