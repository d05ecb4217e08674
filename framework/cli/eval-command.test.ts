/**
 * `bnx eval` and re-export from stored artifacts end to end on a real (small) FashionMNIST folder of IDX files:
 * train with normalization, export with the run step, then evaluate the file with only its metadata
 * to go on. The accuracies must match the parity check's exactly, which they only do if the
 * preprocessing recorded in the model is the one training used.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunConfig } from '../config/index.js';
import { encodeIdx, loadDataset, prepareData } from '../data/index.js';
import { loadModelArtifacts, saveModelArtifacts } from '../model/index.js';
import { initBackend, trainModel } from '../train/index.js';
import { fashionDataset } from '../train/testing.js';
import { UserError } from '../util/errors.js';
import { evalCommand } from './eval-command.js';
import { exportAndVerify } from '../export/index.js';

const dir = mkdtempSync(join(tmpdir(), 'bnx-export-cmd-'));
const dataDir = join(dir, 'data');
const NORMALIZE = { mean: [0.286], std: [0.353] };

function cfg(type: 'mlp' | 'cnn'): RunConfig {
  return {
    dataset: { path: dataDir, scale: 255, normalize: NORMALIZE },
    model: {
      type,
      hidden: [24],
      conv: { filters: [4], kernel_size: 3, pool: 'max' },
      activation: 'relu',
      norm: 'batch',
      dropout: 0,
      init: 'pytorch',
    },
    train: {
      epochs: 2,
      batch_size: 32,
      optimizer: { type: 'adam', lr: 0.003, weight_decay: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
      schedule: 'none',
      backend: 'wasm',
    },
    seed: 3,
  };
}

function captureStdout(): { text: () => string; restore: () => void } {
  let buf = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    buf += String(chunk);
    return true;
  });
  return { text: () => buf, restore: () => spy.mockRestore() };
}

beforeAll(async () => {
  await initBackend('wasm');
  // the first 40 train and 30 test images of each class, as an IDX folder
  const d = await fashionDataset();
  const [nTrain, nTest] = [400, 300];
  const files: [string, Uint8Array][] = [
    ['train-images-idx3-ubyte', encodeIdx(d.train.images.subarray(0, nTrain * 784), [nTrain, 28, 28])],
    ['train-labels-idx1-ubyte', encodeIdx(d.train.labels.subarray(0, nTrain), [nTrain])],
    ['t10k-images-idx3-ubyte', encodeIdx(d.test.images.subarray(0, nTest * 784), [nTest, 28, 28])],
    ['t10k-labels-idx1-ubyte', encodeIdx(d.test.labels.subarray(0, nTest), [nTest])],
  ];
  mkdirSync(dataDir, { recursive: true });
  for (const [name, bytes] of files) writeFileSync(join(dataDir, name), bytes);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bnx eval / bnx export', () => {
  for (const type of ['mlp', 'cnn'] as const) {
    it(`${type}: eval reproduces the exported accuracy from the model's own preprocessing metadata`, async () => {
      const config = cfg(type);
      const ds = await loadDataset({ path: dataDir });
      const data = prepareData(ds, config.dataset, type === 'cnn' ? 'image' : 'flat');
      const outcome = await trainModel(config, data);
      expect(outcome.status).toBe('FINISHED');
      const onnxPath = join(dir, `${type}.onnx`);
      const step = await exportAndVerify(outcome.model, data, {
        runKey: `key-${type}`,
        classNames: ds.classNames,
        dataset: config.dataset,
        layout: type === 'cnn' ? 'nhwc' : 'flat',
        outPath: onnxPath,
      });
      expect(step.error).toBeUndefined();
      expect(step.figures.n).toBe(300);
      expect(step.figures.test_accuracy).toBeGreaterThan(0.3);

      const cap = captureStdout();
      try {
        expect(await evalCommand(onnxPath, { dataset: dataDir, json: true })).toBe(0);
      } finally {
        cap.restore();
      }
      const r = JSON.parse(cap.text()) as { accuracy: number; n: number; run_key: string; preprocessing: unknown; per_class: { class: string; n: number }[] };
      expect(r.run_key).toBe(`key-${type}`);
      expect(r.preprocessing).toEqual({ scale: 255, ...NORMALIZE });
      expect(r.n).toBe(300);
      expect(r.accuracy).toBe(step.figures.test_accuracy);
      expect(r.per_class.map((c) => c.n)).toEqual(new Array(10).fill(30));

      // Re-export from the stored tfjs artifacts (what bnx export RUN_KEY does): same model, same figures.
      const tfjsDir = join(dir, `${type}-tfjs`);
      await saveModelArtifacts(outcome.model, tfjsDir);
      outcome.model.dispose();
      const stored = await loadModelArtifacts(tfjsDir);
      const again = await exportAndVerify(stored, data, {
        runKey: `key-${type}`,
        classNames: ds.classNames,
        dataset: config.dataset,
        layout: type === 'cnn' ? 'nhwc' : 'flat',
        outPath: join(dir, `${type}-again.onnx`),
      });
      stored.dispose();
      expect(again.error).toBeUndefined();
      expect(again.figures.test_accuracy).toBe(step.figures.test_accuracy);
      expect(again.figures.max_abs_diff).toBeLessThanOrEqual(1e-4);
    });
  }

  it('prints a per-class table', async () => {
    const cap = captureStdout();
    try {
      await evalCommand(join(dir, 'mlp.onnx'), { dataset: dataDir });
    } finally {
      cap.restore();
    }
    const lines = cap.text().trim().split('\n');
    expect(lines[0]).toMatch(/mlp\.onnx \(run key-mlp\) on .* test set: accuracy \d+\.\d\d% over 300 images/);
    expect(lines).toHaveLength(12);
    expect(lines[2]).toMatch(/^\s+0\s+\d+\.\d\d%\s+30$/);
  });

  it('a missing model file is a user error', async () => {
    await expect(evalCommand(join(dir, 'nope.onnx'), { dataset: dataDir })).rejects.toThrow(UserError);
  });
});
