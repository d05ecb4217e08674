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
