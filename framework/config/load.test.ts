import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { ConfigError, parseStudy } from './load.js';
import { resolveCell } from './resolve.js';

const GOOD = readFileSync(new URL('../../experiments/bn-vs-baseline.yaml', import.meta.url), 'utf8');

/** Every problem of a broken study, as the user sees it: `file:line:col: message`. */
function problems(text: string, set: string[] = []): string[] {
  try {
    parseStudy(text, 'study.yaml', { set });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message.split('\n');
  }
  throw new Error('expected the study to be rejected');
}

const minimal = (body: string) => `name: s\ndataset: { name: fashion-mnist }\n${body}`;

describe('loading a valid study', () => {
  it('applies defaults everywhere, including inside variants', () => {
    const { config } = parseStudy(GOOD, 'bn.yaml');
    expect(config.train.optimizer).toMatchObject({ type: 'sgd', lr: 0.001 });
    // The base keeps unions as written (a variant may change the type); each run resolves them.
    expect(resolveCell(config, { variant: 'baseline', matrix: {} }).fields!.train.optimizer).toEqual({ type: 'sgd', lr: 0.001, momentum: 0, nesterov: false, weight_decay: 0 });
    expect(config.model).toMatchObject({ type: 'mlp', hidden: [64, 32], norm: 'none', init: 'pytorch', dropout: 0 });
    expect(config.seeds).toEqual([1, 2, 3]);
    expect(Object.keys(config.variants)).toEqual(['baseline', 'batchnorm']);
    // A default inside a variant patch would silently override the base: patches carry none.
    expect(config.variants.batchnorm).toEqual({ model: { norm: { type: 'batch', position: 'pre' } } });
  });

  it('types --set values through the schema', () => {
    const { config } = parseStudy(GOOD, 'bn.yaml', { set: ['train.epochs=2', 'name=123', 'train.optimizer.lr=0.1', 'seeds=[7]'] });
    expect(config.train.epochs).toBe(2);
    expect(config.name).toBe('123');
    expect(config.train.optimizer.lr).toBe(0.1);
    expect(config.seeds).toEqual([7]);
  });
});

describe('broken studies: every problem, located, in one pass', () => {
  const cases: [string, string, string[]][] = [
    ['negative learning rate', minimal('train:\n  optimizer: { type: sgd, lr: -0.1 }\n'), ['study.yaml:4:31: train.optimizer.lr must be > 0 (got -0.1)']],
    ['unknown key with a suggestion', minimal('train:\n  optimzer: { type: sgd }\n'), ['study.yaml:4:3: unknown key "optimzer" in train; did you mean "optimizer"?']],
    ['unknown top-level key', minimal('sedes: [1]\n'), ['study.yaml:3:1: unknown key "sedes"; did you mean "seeds"?']],
    [
      'enum with the allowed values',
      minimal('model: { norm: batchnorm }\n'),
      ['study.yaml:3:16: model.norm must be one of: none, batch, batch_renorm, layer, group, instance, rms (got "batchnorm"); did you mean "batch"?'],
    ],
    [
      "another norm's options, each located",
      minimal('model: { norm: { type: batch, groups: 4, r_max: 2 } }\n'),
      [
        'study.yaml:3:31: "groups" does not apply to norm batch (it is an option of group); batch accepts: epsilon, position, affine, momentum',
        'study.yaml:3:42: "r_max" does not apply to norm batch (it is an option of batch_renorm); batch accepts: epsilon, position, affine, momentum',
      ],
    ],
    [
      'an option of another norm type (momentum on layer), with what layer accepts',
      minimal('model: { norm: { type: layer, momentum: 0.1 } }\n'),
      ['study.yaml:3:31: "momentum" does not apply to norm layer (it is an option of batch, batch_renorm); layer accepts: epsilon, position, affine'],
    ],
    ['dataset enum', 'name: s\ndataset: { name: fashion }\n', ['study.yaml:2:18: dataset.name must be one of: fashion-mnist, mnist, cifar-10 (got "fashion"); did you mean "fashion-mnist"?']],
    ['wrong type', minimal('train: { epochs: five }\n'), ['study.yaml:3:18: train.epochs must be an integer (got "five")']],
    ['no seeds', minimal('seeds: []\n'), ['study.yaml:3:8: seeds must have at least 1 item(s)']],
    ['repeated seeds', minimal('seeds: [1, 1]\n'), ['study.yaml:3:8: seeds must not repeat values (items 0 and 1 are both 1)']],
    ['missing name', 'dataset: { name: mnist }\n', ['study.yaml:1:1: missing required key "name"']],
    ['missing dataset source', 'name: s\ndataset: { scale: 255 }\n', ['study.yaml:2:10: dataset needs a name (fashion-mnist, mnist, cifar-10) or a path to a folder of IDX files']],
    ['YAML syntax error', 'name: s\ndataset: { name: mnist\nmodel: [\n', [
      'study.yaml:3:1: YAML: Flow map in block collection must be sufficiently indented and end with a }',
      'study.yaml:4:1: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]],
    ['duplicate key', 'name: s\ndataset: { name: mnist }\nname: t\n', ['study.yaml:3:1: YAML: duplicate key: each key may appear once in a mapping']],
    [
      'alias bomb',
      'a: &a [1,2,3,4,5,6,7,8,9]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n',
      ['study.yaml:2:8: YAML: Excessive alias count indicates a resource exhaustion attack (aliases expand to too many nodes; write the values out instead)'],
    ],
    [
      'group count must divide each width',
      minimal('model: { hidden: [64, 30], norm: { type: group, groups: 8 } }\n'),
      ['study.yaml:3:57: group norm with 8 groups needs every normalized width to be a multiple of 8; 30 is not (widths: 64, 30)'],
    ],
    [
      'group rule blames the variant that breaks it',
      minimal('model: { hidden: [64, 32] }\nvariants:\n  base: {}\n  gn:\n    model: { norm: { type: group, groups: 5 } }\n'),
      ['study.yaml:7:43: group norm with 5 groups needs every normalized width to be a multiple of 5; 64, 32 are not (widths: 64, 32) (variant "gn")'],
    ],
    [
      'instance norm on an MLP',
      minimal('model: { norm: instance }\n'),
      ['study.yaml:3:16: instance norm needs image inputs: use it with model.type: cnn or resnet (for an MLP use layer or group)'],
    ],
    ['matrix path that does not exist', minimal('matrix:\n  train.optimizer.lrr: [0.1]\n'), ['study.yaml:4:3: matrix key "train.optimizer.lrr" does not exist in the config; check the spelling against the schema']],
    ['matrix path outside run fields', minimal('matrix:\n  seeds: [1]\n'), ['study.yaml:4:3: matrix key "seeds" must be a dotted path inside dataset, model or train (e.g. train.optimizer.lr)']],
    [
      'an option of another optimizer type',
      minimal('train:\n  optimizer: { type: adam, momentum: 0.9 }\n'),
      ['study.yaml:4:28: "momentum" does not apply to optimizer adam (it is an option of sgd, rmsprop); adam accepts: lr, weight_decay, beta1, beta2, epsilon'],
    ],
    [
      'an Adam option without a type (sgd by default)',
      minimal('train:\n  optimizer: { lr: 0.1, beta1: 0.9 }\n'),
      ['study.yaml:4:25: "beta1" does not apply to optimizer sgd (it is an option of adam, adamw); sgd accepts: lr, momentum, nesterov, weight_decay'],
    ],
    ['unknown optimizer type', minimal('train:\n  optimizer: { type: adamm }\n'), ['study.yaml:4:22: train.optimizer.type must be one of: sgd, adam, adamw, rmsprop, adagrad (got "adamm"); did you mean "adam"?']],
    [
      'an option of another schedule',
      minimal('train:\n  schedule: { type: step, min_lr: 0.1 }\n'),
      ['study.yaml:4:27: "min_lr" does not apply to schedule step (it is an option of cosine, warmup_cosine); step accepts: step_size, gamma'],
    ],
    [
      'a variant switching the optimizer type over options of the base',
      minimal('train:\n  optimizer: { type: sgd, momentum: 0.9 }\nvariants:\n  a: {}\n  b: { train: { optimizer: { type: adam } } }\n'),
      ['study.yaml:4:27: "momentum" does not apply to optimizer adam (it is an option of sgd, rmsprop); adam accepts: lr, weight_decay, beta1, beta2, epsilon (variant "b")'],
    ],
    ['matrix value invalid', minimal('matrix:\n  train.optimizer.lr: [0.1, -1]\n'), ['study.yaml:4:29: train.optimizer.lr must be > 0 (got -1)']],
    [
      'unsafe variant name',
      minimal('variants:\n  "a/b": {}\n'),
      ['study.yaml:4:3: variant name "a/b" must use only letters, digits, ".", "_" and "-", starting with a letter or digit (it names files and MLflow runs)'],
    ],
    ['no variants', minimal('variants: {}\n'), ['study.yaml:3:11: variants must have at least 1 entry']],
    ['unknown key inside a variant', minimal('variants:\n  a: { modle: {} }\n'), ['study.yaml:4:8: unknown key "modle" in variants.a; did you mean "model"?']],
    ['bad value inside a variant', minimal('variants:\n  a: { train: { batch_size: 0 } }\n'), ['study.yaml:4:29: variants.a.train.batch_size must be >= 1 (got 0)']],
    ['unknown reference variant', minimal('report: { reference: nope }\n'), ['study.yaml:3:22: report.reference "nope" is not a variant; variants: base']],
    ['bad study name', 'name: my study\ndataset: { name: mnist }\n', ['study.yaml:1:7: name must use only letters, digits, ".", "_" and "-", starting with a letter or digit (got "my study")']],
    ['empty file', '', ['study.yaml:1:1: the study file is empty; see experiments/ for examples']],
    ['not a mapping', '- a\n- b\n', ['study.yaml:1:1: a study must be a mapping of keys (name, dataset, model, ...)']],
    [
      'norm object with a wrong type',
      minimal('model: { norm: { type: group, groups: 0 } }\n'),
      ['study.yaml:3:39: model.norm.groups must be >= 1 (got 0)'],
    ],
    ['norm of the wrong kind', minimal('model: { norm: 3 }\n'), ['study.yaml:3:16: model.norm must be a string or a mapping (key: value) (got 3)']],
  ];

  it.each(cases)('%s', (_name, text, expected) => {
    expect(problems(text)).toEqual(expected);
  });

  it('reports several problems from one file, in file order', () => {
    const text = 'name: bad name\ndataset: { name: mnist }\ntrain:\n  epochs: 0\n  optimzer: {}\nseeds: []\n';
    expect(problems(text)).toEqual([
      'study.yaml:1:7: name must use only letters, digits, ".", "_" and "-", starting with a letter or digit (got "bad name")',
      'study.yaml:4:11: train.epochs must be >= 1 (got 0)',
      'study.yaml:5:3: unknown key "optimzer" in train; did you mean "optimizer"?',
      'study.yaml:6:8: seeds must have at least 1 item(s)',
    ]);
  });

  it('blames --set overrides by name', () => {
    expect(problems(GOOD, ['train.epochs=abc'])).toEqual(['--set train.epochs=abc: train.epochs must be an integer (got "abc")']);
    expect(problems(GOOD, ['nonsense'])).toEqual(['--set nonsense: expected key=value, e.g. --set train.epochs=2']);
  });
});
