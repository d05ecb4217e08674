import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseStudy } from '../config/index.js';
import { planStudy, runName } from './plan.js';

const GOOD = readFileSync(new URL('../../experiments/bn-vs-baseline.yaml', import.meta.url), 'utf8');
const load = (text: string, set: string[] = []) => parseStudy(text, 'x.yaml', { set }).config;

describe('planStudy', () => {
  it('expands variants x seeds for the seed study', () => {
    const plan = planStudy(load(GOOD), { dataDigest: 'd1' });
    expect(plan.runs).toHaveLength(6);
    expect(plan.runs.map((r) => r.name)).toEqual([
      'baseline/seed=1', 'baseline/seed=2', 'baseline/seed=3', 'batchnorm/seed=1', 'batchnorm/seed=2', 'batchnorm/seed=3',
    ]);
    expect(new Set(plan.runs.map((r) => r.key)).size).toBe(6);
    // Normalised: defaults written out, the string shorthand in its object form.
    expect(plan.runs[3]!.config.model.norm).toEqual({ type: 'batch', position: 'pre', epsilon: 1e-5, momentum: 0.1, affine: true });
    expect(plan.runs[0]!.config.model.norm).toEqual({ type: 'none' });
    expect(plan.runs.every((r) => /^[0-9a-f]{16}$/.test(r.key))).toBe(true);
  });

  it('multiplies by every matrix axis, base <- variant <- matrix <- seed', () => {
    const config = load(
      `${GOOD}matrix:\n  train.optimizer.lr: [0.001, 0.01]\n  train.batch_size: [32, 64, 128]\n`.replace('seeds: [1, 2, 3]', 'seeds: [1, 2]'),
    );
    const plan = planStudy(config);
    expect(plan.runs).toHaveLength(2 * 2 * 3 * 2);
    const r = plan.runs.find((x) => x.variant === 'batchnorm' && x.matrix['train.optimizer.lr'] === 0.01 && x.matrix['train.batch_size'] === 128 && x.seed === 2)!;
    expect(r.config.train.optimizer.lr).toBe(0.01);
    expect(r.config.train.batch_size).toBe(128);
    expect(r.config.model.norm).toMatchObject({ type: 'batch', position: 'pre' });
    expect(r.name).toBe('batchnorm/lr=0.01/batch_size=128/seed=2');
  });

  it('gives keys that do not depend on key order, formatting or the backend', () => {
    const a = planStudy(load(GOOD), { dataDigest: 'd' });
    const reordered = `
name: bn-vs-baseline
seeds: [1,2,3]
train: {optimizer: {lr: 0.001, type: sgd}, batch_size: 64, epochs: 5}
model: {init: pytorch, hidden: [64,32], type: mlp}
dataset: {scale: 255, name: fashion-mnist}
variants:
  baseline: {}
  batchnorm: {model: {norm: {position: pre, type: batch}}}
`;
    const b = planStudy(load(reordered), { dataDigest: 'd' });
    expect(b.runs.map((r) => r.key)).toEqual(a.runs.map((r) => r.key));
    const c = planStudy(load(GOOD, ['train.backend=cpu']), { dataDigest: 'd' });
    expect(c.runs.map((r) => r.key)).toEqual(a.runs.map((r) => r.key));
  });

  it('changes keys when what a run computes changes, including its data', () => {
    const a = planStudy(load(GOOD), { dataDigest: 'd' });
    const lr = planStudy(load(GOOD, ['train.optimizer.lr=0.002']), { dataDigest: 'd' });
    const data = planStudy(load(GOOD), { dataDigest: 'other' });
    for (let i = 0; i < a.runs.length; i++) {
      expect(lr.runs[i]!.key).not.toBe(a.runs[i]!.key);
      expect(data.runs[i]!.key).not.toBe(a.runs[i]!.key);
    }
    expect(lr.configSha256).not.toBe(a.configSha256);
  });

  it('keeps a finished run\'s key when seeds are added', () => {
    const a = planStudy(load(GOOD));
    const more = planStudy(load(GOOD, ['seeds=[1, 2, 3, 4]']));
    expect(more.runs.filter((r) => r.seed !== 4).map((r) => r.key)).toEqual(a.runs.map((r) => r.key));
  });

  it('names runs with the full matrix path only when short names collide', () => {
    expect(runName('v', { 'train.optimizer.lr': 0.1, 'model.dropout': 0.5 }, 3)).toBe('v/lr=0.1/dropout=0.5/seed=3');
    expect(runName('v', { 'train.optimizer.epsilon': 1, 'model.norm.epsilon': 2 }, 1)).toBe('v/train.optimizer.epsilon=1/model.norm.epsilon=2/seed=1');
  });
});
