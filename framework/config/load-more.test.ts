/** Issue 11: YAML merge keys, matrices over any schema value, non-finite numbers, aliases, names, data rules. */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseStudy } from './load.js';
import { resolveCell } from './resolve.js';
import type { DataShape } from './rules.js';

function problems(text: string, dataShape?: () => DataShape | string | undefined): string[] {
  try {
    parseStudy(text, 'study.yaml', { dataShape });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message.split('\n');
  }
  throw new Error('expected the study to be rejected');
}

const minimal = (body: string) => `name: s\ndataset: { name: fashion-mnist }\n${body}`;
const FASHION: DataShape = { height: 28, width: 28, channels: 1, train: 60000, test: 10000 };

describe('YAML merge keys', () => {
  const text = minimal('x-common: &common { epochs: 2, batch_size: 32, optimizer: { lr: 0.1 } }\ntrain:\n  <<: *common\n  epochs: 3\n');

  it('merge a shared mapping; keys written beside <<: win', () => {
    const { config } = parseStudy(text, 'study.yaml');
    expect(config.train).toMatchObject({ epochs: 3, batch_size: 32, optimizer: { lr: 0.1 } });
    // The optimizer's type default is written out when a run resolves (unions stay as written in the base).
    expect(resolveCell(config, { variant: 'base', matrix: {} }).fields!.train.optimizer).toMatchObject({ type: 'sgd', lr: 0.1 });
  });

  it('locate errors inside the merged anchor', () => {
    const bad = minimal('x-common: &common { epochs: 2, batch_size: 0 }\ntrain:\n  <<: *common\n');
    expect(problems(bad)).toEqual(['study.yaml:3:44: train.batch_size must be >= 1 (got 0)']);
  });
});

describe('matrix over any value the schema allows', () => {
  it('plans mappings and lists as cells', () => {
    const { config } = parseStudy(minimal('matrix:\n  model.norm: [batch, { type: group, groups: 4 }]\n  model.hidden: [[64, 32], [32]]\n'), 'study.yaml');
    expect(config.matrix['model.norm']).toEqual(['batch', { type: 'group', groups: 4 }]);
    expect(config.matrix['model.hidden']).toEqual([[64, 32], [32]]);
  });

  it('locates a bad value inside a matrix value, once', () => {
    expect(problems(minimal('matrix:\n  model.norm: [batch, { type: grop }]\n  model.hidden: [[64], [0], 5]\n'))).toEqual([
      'study.yaml:4:31: model.norm.type must be one of: none, batch, batch_renorm, layer, group, instance, rms (got "grop"); did you mean "group"?',
      'study.yaml:5:25: model.hidden.0 must be >= 1 (got 0)',
      'study.yaml:5:29: model.hidden must be a list (got 5)',
    ]);
  });
});

describe('numbers and aliases', () => {
  it('refuses .inf and names .nan', () => {
    expect(problems(minimal('train: { optimizer: { lr: .inf }, epochs: .nan }\n'))).toEqual([
      'study.yaml:3:27: train.optimizer.lr must be a finite number (got .inf)',
      'study.yaml:3:43: train.epochs must be a finite number (got .nan)',
    ]);
  });

  it('gives an unresolved alias its own hint', () => {
    expect(problems(minimal('train: *nope\n'))).toEqual([
      'study.yaml:3:8: YAML: alias *nope has no anchor &nope before it; define the anchor first (e.g. x-nope: &nope {...}) or fix the name',
    ]);
  });

  it('limits name lengths so report paths stay short', () => {
    expect(problems(`name: ${'a'.repeat(300)}\ndataset: { name: mnist }\n`)).toEqual([
      'study.yaml:1:7: name must be at most 100 characters (got 300); use a shorter name',
    ]);
    expect(problems(minimal(`variants:\n  ${'v'.repeat(120)}: {}\n`))[0]).toMatch(/^study\.yaml:4:3: variant name "v+\.\.\." is 120 characters; at most 100/);
  });
});

describe('rules that need the data shape', () => {
  it('refuses conv blocks that pool the image to nothing, at the filters', () => {
    const text = minimal('model: { type: cnn, conv: { filters: [4, 4, 4, 4, 4] } }\n');
    expect(problems(text, () => FASHION)).toEqual([
      'study.yaml:3:38: conv block 5 of 5 pools the 28x28 image down to nothing (sizes after each 2x2 pool: 14x14 -> 7x7 -> 3x3 -> 1x1 -> 0x0); at most 4 pooling blocks fit: remove blocks or set model.conv.pool: none',
    ]);
    // Four blocks fit, and without pooling any number does.
    expect(() => parseStudy(minimal('model: { type: cnn, conv: { filters: [4, 4, 4, 4] } }\n'), 's.yaml', { dataShape: () => FASHION })).not.toThrow();
    expect(() => parseStudy(minimal('model: { type: cnn, conv: { filters: [4, 4, 4, 4, 4], pool: none } }\n'), 's.yaml', { dataShape: () => FASHION })).not.toThrow();
  });

  it('blames the variant whose conv blocks do not fit', () => {
    const text = minimal('model: { type: cnn }\nvariants:\n  a: {}\n  deep: { model: { conv: { filters: [8, 8, 8, 8, 8, 8] } } }\n');
    expect(problems(text, () => FASHION)[0]).toMatch(/^study\.yaml:6:37: conv block 5 of 6 .* \(variant "deep"\)$/);
  });

  it('refuses a batch larger than the (subset) training set', () => {
    const text = 'name: s\ndataset: { name: fashion-mnist, subset: { train: 50 } }\ntrain: { batch_size: 64 }\n';
    expect(problems(text, () => FASHION)).toEqual([
      'study.yaml:3:22: train.batch_size 64 is larger than the 50 training examples (after subset/validation); use a batch_size <= 50',
    ]);
  });

  it('reports a dataset the shape reader refuses at dataset.path', () => {
    const text = 'name: s\ndataset: { path: ./nowhere }\n';
    expect(problems(text, () => 'dataset.path /x/nowhere does not exist')).toEqual(['study.yaml:2:18: dataset.path /x/nowhere does not exist']);
  });
});
