/** `probes:` in a study: defaults, and mistakes reported at their line and column. */
import { describe, expect, test } from 'vitest';
import { ConfigError, parseStudy } from './load.js';

const study = (probes: string) => `name: s\ndataset: { name: fashion-mnist }\n${probes}`;
const problems = (text: string): string[] => {
  try {
    parseStudy(text, 's.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.line}:${p.col}: ${p.message}`);
    throw e;
  }
  return [];
};

describe('probes in the study', () => {
  test('absent: no probes; given: the defaults written out', () => {
    expect(parseStudy(study(''), 's.yaml').config.probes).toBeUndefined();
    expect(parseStudy(study('probes: {}\n'), 's.yaml').config.probes).toEqual({ every: 'epoch', landscape_steps: [0.5, 1, 2, 4] });
    expect(parseStudy(study('probes: { every: 100, batch: 256 }\n'), 's.yaml').config.probes).toEqual({ every: 100, batch: 256, landscape_steps: [0.5, 1, 2, 4] });
  });

  test('mistakes name the key, the place and what is allowed', () => {
    expect(problems(study('probes:\n  every: steps\n'))).toEqual(['4:10: probes.every must be "epoch" (got "steps")']);
    expect(problems(study('probes:\n  every: 1.5\n'))).toEqual(['4:10: probes.every must be a string or an integer (got 1.5)']);
    expect(problems(study('probes:\n  every: 0\n'))).toEqual(['4:10: probes.every must be >= 1 (got 0)']);
    expect(problems(study('probes:\n  landscape_steps: []\n  bach: 3\n'))).toEqual([
      '4:20: probes.landscape_steps must have at least 1 item(s)',
      '5:3: unknown key "bach" in probes; did you mean "batch"?',
    ]);
  });
});

describe('claims on probes', () => {
  const claim = (fields: string, probes = 'probes: { every: epoch }\n') =>
    `name: s\ndataset: { name: fashion-mnist }\ntrain: { epochs: 3 }\nvariants: { a: {}, b: { model: { norm: batch } } }\n${probes}hypotheses:\n  c:\n    compare: a\n    against: b\n    direction: lower\n${fields}`;

  test('a probe the study measures, after an epoch or at the end', () => {
    expect(problems(claim('    metric: probe\n    probe: fc2/ics\n    epoch: 2\n'))).toEqual([]);
    expect(problems(claim('    metric: probe\n    probe: model/loss_range\n'))).toEqual([]);
  });

  test('mistakes: no probe named, an unknown probe, no probes measured, best, a probe on another metric', () => {
    expect(problems(claim('    metric: probe\n'))).toEqual(['11:13: metric probe needs the probe to compare, e.g. probe: fc2/ics or probe: model/loss_range']);
    expect(problems(claim('    metric: probe\n    probe: fc2/icss\n'))).toEqual([
      '12:12: a layer has no probe "icss"; one of: pre_mean, pre_std, post_mean, post_std, dead_fraction, grad_norm, weight_norm, update_ratio, ics, ics_cosine',
    ]);
    expect(problems(claim('    metric: probe\n    probe: model/ics\n    epoch: best\n'))).toEqual([
      '12:12: model has no probe "ics"; one of: loss, loss_range, grad_change, beta_smoothness',
      '13:12: a probe is read after an epoch number or the final epoch, not best',
    ]);
    expect(problems(claim('    metric: probe\n    probe: fc1/grad_norm\n', ''))).toEqual(['10:13: metric probe needs probes measured: add probes: { every: epoch } to the study']);
    expect(problems(claim('    metric: probe\n    probe: fc1/grad_norm\n    epoch: 1\n', 'probes: { every: 50 }\n'))).toEqual([
      '13:12: an epoch number needs probes every epoch (probes.every is 50 steps); use epoch: final',
    ]);
    expect(problems(claim('    metric: test_loss\n    probe: fc1/grad_norm\n'))).toEqual(['12:12: probe is only used by metric probe (this claim\'s metric is test_loss)']);
  });
});
