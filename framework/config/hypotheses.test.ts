import { describe, expect, it } from 'vitest';
import { ConfigError, parseStudy } from './load.js';

function problems(text: string): string[] {
  try {
    parseStudy(text, 'study.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message.split('\n');
  }
  throw new Error('expected the study to be rejected');
}

// A two-variant study with a matrix over lr; line 9 is the first line of `hypotheses:`' body.
const study = (claims: string) =>
  [
    'name: s',
    'dataset: { name: fashion-mnist }',
    'train: { epochs: 3 }',
    'seeds: [1, 2, 3]',
    'variants:',
    '  baseline: {}',
    '  batchnorm: { model: { norm: batch } }',
    'matrix: { train.optimizer.lr: [0.01, 0.1] }',
    'hypotheses:',
    claims,
  ].join('\n');

describe('hypotheses: valid claims', () => {
  it('a variant against a variant, a cell against a cell, a pooled group; defaults left to the report', () => {
    const { config } = parseStudy(
      study(
        [
          '  bn-higher:',
          '    compare: batchnorm',
          '    against: baseline',
          '    metric: test_accuracy',
          '    direction: higher',
          '  bn-fast-lr:',
          '    compare: { variant: batchnorm, matrix: { train.optimizer.lr: 0.1 } }',
          '    against: { variant: batchnorm, matrix: { train.optimizer.lr: 0.01 } }',
          '    metric: epochs_to_accuracy',
          '    level: 0.7',
          '    direction: lower',
          '    test: paired-t',
          '  diverge:',
          '    compare: { variant: [baseline], matrix: { train.optimizer.lr: [0.1] } }',
          '    against: { variant: batchnorm, matrix: { train.optimizer.lr: 0.1 } }',
          '    metric: divergence_rate',
          '    direction: higher',
        ].join('\n'),
      ),
      'study.yaml',
    );
    expect(Object.keys(config.hypotheses)).toEqual(['bn-higher', 'bn-fast-lr', 'diverge']);
    expect(config.hypotheses['bn-higher']).toEqual({ compare: 'batchnorm', against: 'baseline', metric: 'test_accuracy', direction: 'higher' });
  });

  it('a study without hypotheses gets an empty mapping', () => {
    expect(parseStudy(study('  {}'), 'study.yaml').config.hypotheses).toEqual({});
  });
});

describe('hypotheses: mistakes located at file:line:col', () => {
  const cases: [string, string, string[]][] = [
    [
      'unknown variant, with a suggestion',
      '  c:\n    compare: batchnrom\n    against: baseline\n    metric: test_accuracy\n    direction: higher',
      ['study.yaml:11:14: compare names variant "batchnrom", which the study does not have; did you mean "batchnorm"? (variants: baseline, batchnorm)'],
    ],
    [
      'unknown metric (schema enum)',
      '  c:\n    compare: batchnorm\n    against: baseline\n    metric: accuracy\n    direction: higher',
      [
        'study.yaml:13:13: hypotheses.c.metric must be one of: test_accuracy, test_loss, train_accuracy, train_loss, generalization_gap, epochs_to_accuracy, auc, divergence_rate, probe (got "accuracy"); did you mean "test_accuracy"?',
      ],
    ],
    [
      'unknown matrix key and a value not in the matrix',
      '  c:\n    compare: { variant: batchnorm, matrix: { train.lr: 0.1 } }\n    against: { variant: baseline, matrix: { train.optimizer.lr: 0.5 } }\n    metric: test_accuracy\n    direction: higher',
      [
        'study.yaml:11:46: compare names matrix key "train.lr", which the study\'s matrix does not have (matrix keys: train.optimizer.lr)',
        'study.yaml:12:65: against keeps train.optimizer.lr = 0.5, which is not one of the matrix values (0.01, 0.1)',
      ],
    ],
    [
      'an epoch past the end of training',
      '  c:\n    compare: batchnorm\n    against: baseline\n    metric: test_loss\n    epoch: 4\n    direction: lower',
      ['study.yaml:14:12: epoch 4 is past the end of training: batchnorm [train.optimizer.lr=0.01] trains 3 epochs'],
    ],
    [
      'overlapping sides',
      '  c:\n    compare: batchnorm\n    against: { variant: batchnorm, matrix: { train.optimizer.lr: 0.1 } }\n    metric: test_accuracy\n    direction: higher',
      ['study.yaml:12:14: compare and against share runs (batchnorm [train.optimizer.lr=0.1]); a claim compares two disjoint groups'],
    ],
    [
      'a paired test on a design that does not pair runs',
      '  c:\n    compare: batchnorm\n    against: { variant: baseline, matrix: { train.optimizer.lr: 0.1 } }\n    metric: test_accuracy\n    direction: higher\n    test: wilcoxon',
      [
        'study.yaml:15:11: wilcoxon pairs runs by seed, one run of each side per seed: compare keeps every value of train.optimizer.lr, which the other side names; name one value on both sides, or use welch / mann-whitney',
      ],
    ],
    [
      'level missing, fisher on a non-rate, min_effect on a rate',
      '  a:\n    compare: batchnorm\n    against: baseline\n    metric: epochs_to_accuracy\n    direction: lower\n  b:\n    compare: batchnorm\n    against: baseline\n    metric: test_accuracy\n    direction: higher\n    test: fisher\n  d:\n    compare: baseline\n    against: batchnorm\n    metric: divergence_rate\n    direction: higher\n    min_effect: 0.1',
      [
        'study.yaml:13:13: epochs_to_accuracy needs a level: the test accuracy to reach, e.g. level: 0.8',
        'study.yaml:20:11: the fisher test compares rates: use it with metric divergence_rate',
        'study.yaml:26:17: min_effect is not supported with divergence_rate (Fisher\'s exact test tests equal rates)',
      ],
    ],
    [
      'an unknown variant is reported together with the schema problems of the same claim',
      '  c:\n    compare: batchnrom\n    against: baseline\n    metric: test_acc\n    direction: higher',
      [
        'study.yaml:11:14: compare names variant "batchnrom", which the study does not have; did you mean "batchnorm"? (variants: baseline, batchnorm)',
        'study.yaml:13:13: hypotheses.c.metric must be one of: test_accuracy, test_loss, train_accuracy, train_loss, generalization_gap, epochs_to_accuracy, auc, divergence_rate, probe (got "test_acc")',
      ],
    ],
    [
      'missing direction, unknown key',
      '  c:\n    compare: batchnorm\n    against: baseline\n    metric: test_accuracy\n    diretion: higher',
      ['study.yaml:11:5: missing required key "direction" in hypotheses.c', 'study.yaml:14:5: unknown key "diretion" in hypotheses.c; did you mean "direction"?'],
    ],
  ];
  for (const [name, claims, expected] of cases) it(name, () => expect(problems(study(claims))).toEqual(expected));
});

describe('hypotheses are read by the report only', () => {
  it('stating or editing a claim does not change the study config hash (no new parent run, nothing retrained)', async () => {
    const { studyConfigSha256 } = await import('../plan/index.js');
    const claim = (direction: string) => `  c:\n    compare: batchnorm\n    against: baseline\n    metric: test_accuracy\n    direction: ${direction}`;
    const a = parseStudy(study(claim('higher')), 'study.yaml').config;
    const b = parseStudy(study(claim('lower')), 'study.yaml').config;
    const none = parseStudy(study('  {}'), 'study.yaml').config;
    expect(studyConfigSha256(a)).toBe(studyConfigSha256(b));
    expect(studyConfigSha256(a)).toBe(studyConfigSha256(none));
  });
});
