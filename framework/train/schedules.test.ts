import { describe, expect, test } from 'vitest';
import { SCHEDULES, runConfig, type ScheduleConfig } from '../config/index.js';
import { makeSchedule, SCHEDULE_FNS } from './schedules.js';

/** The schedule as a run gets it: resolved through the schema (its defaults written out). */
const curve = (s: ScheduleConfig | Record<string, unknown> | undefined, base: number, epochs: number) => {
  const f = makeSchedule(runConfig({ train: s === undefined ? {} : { schedule: s } }).train.schedule, base, epochs);
  return Array.from({ length: epochs }, (_, i) => f(i + 1));
};

describe('learning-rate schedules (epoch is 1-based)', () => {
  test('registry covers every name', () => {
    expect(Object.keys(SCHEDULE_FNS).sort()).toEqual([...SCHEDULES].sort());
  });
  test('none', () => {
    expect(curve('none', 0.1, 3)).toEqual([0.1, 0.1, 0.1]);
    expect(curve(undefined, 0.1, 2)).toEqual([0.1, 0.1]);
  });
  test('step: gamma every step_size epochs (StepLR)', () => {
    const c = curve({ type: 'step', step_size: 2, gamma: 0.5 }, 1, 5);
    expect(c).toEqual([1, 1, 0.5, 0.5, 0.25]);
    expect(curve('step', 1, 6)).toEqual([1, 1, 0.1, 0.1, 0.1 ** 2, 0.1 ** 2].map((v) => expect.closeTo(v, 12)));
  });
  test('exponential (ExponentialLR)', () => {
    curve({ type: 'exponential', gamma: 0.5 }, 2, 4).forEach((v, i) => expect(v).toBeCloseTo([2, 1, 0.5, 0.25][i]!, 12));
  });
  test('cosine: CosineAnnealingLR with T_max = epochs', () => {
    const c = curve({ type: 'cosine', min_lr: 0.1 }, 1.1, 4);
    const want = [0, 1, 2, 3].map((t) => 0.1 + (1.1 - 0.1) * 0.5 * (1 + Math.cos((Math.PI * t) / 4)));
    c.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 12));
    expect(c[0]).toBeCloseTo(1.1, 12);
    expect(c[2]).toBeCloseTo(0.6, 12);
  });
  test('warmup_cosine: linear warm-up to the peak, then cosine over the rest', () => {
    const c = curve({ type: 'warmup_cosine', warmup_epochs: 2 }, 1, 6);
    expect(c[0]).toBeCloseTo(0.5, 12);
    expect(c[1]).toBeCloseTo(1, 12);
    expect(c[2]).toBeCloseTo(1, 12);
    expect(c[4]).toBeCloseTo(0.5, 12);
    for (let i = 3; i < 6; i++) expect(c[i]!).toBeLessThan(c[i - 1]!);
    expect(curve('warmup_cosine', 1, 1)).toEqual([1]);
  });
});
