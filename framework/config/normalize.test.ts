import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { normalizeConfig, parseStudy, resolveCell, runConfig } from './index.js';
import { planStudy } from '../plan/index.js';

const SEED_STUDY = readFileSync(new URL('../../experiments/bn-vs-baseline.yaml', import.meta.url), 'utf8');
const norm = (patch: Parameters<typeof runConfig>[0]) => normalizeConfig(runConfig(patch));
const keyOf = (text: string, set: string[] = []) => planStudy(parseStudy(text, 'x.yaml', { set }).config, { dataDigest: 'd' }).runs.map((r) => r.key);

describe('normalizeConfig: one spelling per computation', () => {
  it('writes out defaults, also inside unions: norm: batch is {type: batch, momentum: 0.1, ...}', () => {
    expect(norm({ model: { norm: 'batch' } })).toEqual(norm({ model: { norm: { type: 'batch', momentum: 0.1, epsilon: 1e-5 } } }));
    expect(norm({ model: { norm: 'batch' } }).model.norm).toEqual({ type: 'batch', epsilon: 1e-5, momentum: 0.1, position: 'pre', affine: true });
    expect(norm({ model: { norm: 'batch' } })).not.toEqual(norm({ model: { norm: { type: 'batch', momentum: 0.2 } } }));
    expect(norm({ model: { norm: 'group' } }).model.norm).toEqual({ type: 'group', groups: 8, epsilon: 1e-5, position: 'pre', affine: true });
    expect(norm({ train: { schedule: 'cosine' } }).train.schedule).toEqual({ type: 'cosine', min_lr: 0 });
    expect(norm({}).train.optimizer).toEqual({ type: 'sgd', lr: 0.01, momentum: 0, nesterov: false, weight_decay: 0 });
  });

  it('drops options without effect (conv on an MLP); the schema refuses another norm\'s options', () => {
    const mlp = norm({ model: { conv: { filters: [4], kernel_size: 5, pool: 'avg' } } });
    expect(mlp.model).not.toHaveProperty('conv');
    expect(mlp).toEqual(norm({}));
    expect(norm({ model: { type: 'cnn' } }).model.conv).toEqual({ filters: [16, 32], kernel_size: 3, pool: 'max' });
    expect(() => norm({ model: { norm: { type: 'batch', groups: 4 } } })).toThrow(/invalid patch/);
    expect(() => norm({ model: { norm: { type: 'none', position: 'post' } } })).toThrow(/invalid patch/);
    expect(norm({ model: { norm: { type: 'batch', momentum: 0.1 } } })).toEqual(norm({ model: { norm: 'batch' } }));
    expect(norm({ model: { norm: 'none' } }).model.norm).toEqual({ type: 'none' });
    expect(norm({ model: { norm: 'layer' } }).model.norm).not.toHaveProperty('momentum');
  });

  it('keeps only the options of the optimizer type: no beta1/rho/epsilon for sgd, no momentum for adam', () => {
    expect(Object.keys(norm({ train: { optimizer: { type: 'adam' } } }).train.optimizer).sort()).toEqual(['beta1', 'beta2', 'epsilon', 'lr', 'type', 'weight_decay']);
    expect(Object.keys(norm({ train: { optimizer: { type: 'rmsprop' } } }).train.optimizer).sort()).toEqual(['epsilon', 'lr', 'momentum', 'rho', 'type', 'weight_decay']);
    expect(norm({ train: { optimizer: { lr: 0.1 } } })).toEqual(norm({ train: { optimizer: { type: 'sgd', lr: 0.1, momentum: 0 } } }));
  });

  it('leaves out the backend (an execution choice) and keeps the seed', () => {
    const n = normalizeConfig(runConfig({ train: { backend: 'cpu' } }, 3));
    expect(n.train).not.toHaveProperty('backend');
    expect(n.seed).toBe(3);
    expect(normalizeConfig(runConfig({ train: { backend: 'wasm' } }, 3))).toEqual(n);
  });

  it('is idempotent and gives every variant of the seed study the same param names', () => {
    const { config } = parseStudy(SEED_STUDY, 'x.yaml');
    const names = (c: object): string[] =>
      Object.entries(c).flatMap(([k, v]) => (v && typeof v === 'object' && !Array.isArray(v) ? names(v).map((n) => `${k}.${n}`) : [k])).sort();
    const runs = ['baseline', 'batchnorm'].map((variant) => ({ ...resolveCell(config, { variant, matrix: {} }).fields!, seed: 1 }));
    const [a, b] = runs.map(normalizeConfig);
    expect(normalizeConfig(a!)).toEqual(a);
    expect(a!.model.norm).toEqual({ type: 'none' });
    expect(b!.model.norm.type).toBe('batch');
    // Norm options that do not apply to none are left out; every other name is shared.
    expect(names(a!)).toEqual(names(b!).filter((n) => !/^model\.norm\.(epsilon|momentum|position|affine)$/.test(n)));
  });
});

describe('run keys hash the normalised config', () => {
  const base = 'name: s\ndataset: { name: mnist }\nseeds: [1]\n';
  it('do not change with settings that have no effect or defaults written out', () => {
    const plain = keyOf(`${base}model: { norm: batch }\n`);
    expect(keyOf(`${base}model: { norm: { type: batch, momentum: 0.1, epsilon: 0.00001, affine: true } }\n`)).toEqual(plain);
    expect(keyOf(`${base}model: { norm: batch, conv: { filters: [8], kernel_size: 5 } }\n`)).toEqual(plain);
    expect(keyOf(`${base}model: { norm: batch }\ntrain: { optimizer: { type: sgd, lr: 0.01, momentum: 0, nesterov: false } }\n`)).toEqual(plain);
    expect(keyOf(`${base}model: { norm: batch }\nreport: { reference: base, demo_images: 3 }\n`)).toEqual(plain);
  });

  it('change when the computation does', () => {
    const plain = keyOf(`${base}model: { norm: batch }\n`);
    expect(keyOf(`${base}model: { norm: { type: batch, momentum: 0.2 } }\n`)).not.toEqual(plain);
    expect(keyOf(`${base}model: { norm: batch, type: cnn }\n`)).not.toEqual(plain);
    expect(keyOf(`${base}model: { norm: batch }\ntrain: { optimizer: { type: adam } }\n`)).not.toEqual(plain);
  });

  it('two variants with identical resolved configs plan one run: the second says which it repeats', () => {
    const plan = planStudy(
      parseStudy(`${base}seeds: [1, 2]\nvariants:\n  bn: { model: { norm: batch } }\n  bn-explicit: { model: { norm: { type: batch, momentum: 0.1 } } }\n`.replace('seeds: [1]\n', ''), 'x.yaml').config,
    );
    expect(plan.runs.map((r) => r.sameAs)).toEqual([undefined, undefined, 0, 1]);
    expect(plan.runs[2]!.key).toBe(plan.runs[0]!.key);
  });
});
