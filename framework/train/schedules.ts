/**
 * Learning-rate schedules, stepped once per epoch. `lrAt(epoch)` takes the 1-based epoch (as in the
 * metrics) and returns the rate used for every step of that epoch. Formulas follow PyTorch's
 * StepLR / ExponentialLR / CosineAnnealingLR(T_max = epochs) with t = epoch - 1.
 *
 * Defaults for options left out: step: step_size = max(1, round(epochs / 3)), gamma = 0.1;
 * exponential: gamma = 0.9; cosine: min_lr = 0; warmup_cosine: warmup_epochs = 1 (at most epochs - 1),
 * min_lr = 0. warmup_cosine ramps linearly lr * e / W over epochs 1..W, then cosine-anneals from lr
 * over the remaining epochs.
 */
import type { ScheduleConfig } from '../config/schema.js';
import type { ScheduleName } from '../config/names.js';
import { UserError } from '../util/errors.js';

export type LrAt = (epoch: number) => number;

interface ScheduleOptions {
  step_size?: number;
  gamma?: number;
  warmup_epochs?: number;
  min_lr?: number;
}

type ScheduleFactory = (base: number, epochs: number, o: ScheduleOptions) => LrAt;

const cosine = (base: number, min: number, t: number, T: number): number =>
  T <= 0 ? base : min + ((base - min) * (1 + Math.cos((Math.PI * t) / T))) / 2;

export const SCHEDULE_FNS: Record<ScheduleName, ScheduleFactory> = {
  none: (base) => () => base,
  step: (base, epochs, o) => {
    const size = o.step_size ?? Math.max(1, Math.round(epochs / 3));
    const gamma = o.gamma ?? 0.1;
    return (e) => base * gamma ** Math.floor((e - 1) / size);
  },
  exponential: (base, _epochs, o) => {
    const gamma = o.gamma ?? 0.9;
    return (e) => base * gamma ** (e - 1);
  },
  cosine: (base, epochs, o) => {
    const min = o.min_lr ?? 0;
    return (e) => cosine(base, min, e - 1, epochs);
  },
  warmup_cosine: (base, epochs, o) => {
    const w = Math.min(o.warmup_epochs ?? 1, Math.max(0, epochs - 1));
    const min = o.min_lr ?? 0;
    return (e) => (e <= w ? (base * e) / w : cosine(base, min, e - 1 - w, epochs - w));
  },
};

/** Build `lrAt` from the config: the base rate is the optimizer's lr. */
export function makeSchedule(schedule: ScheduleConfig | undefined, baseLr: number, epochs: number): LrAt {
  const o: ScheduleOptions & { type: ScheduleName } =
    schedule === undefined ? { type: 'none' } : typeof schedule === 'string' ? { type: schedule } : schedule;
  const f = SCHEDULE_FNS[o.type];
  if (!f) throw new UserError(`train.schedule: unknown schedule '${String(o.type)}'`, [`Use one of ${Object.keys(SCHEDULE_FNS).join(', ')}.`]);
  return f(baseLr, epochs, o);
}
