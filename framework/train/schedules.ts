/**
 * Learning-rate schedules, stepped once per epoch. `lrAt(epoch)` takes the 1-based epoch (as in the
 * metrics) and returns the rate used for every step of that epoch. Formulas follow PyTorch's
 * StepLR / ExponentialLR / CosineAnnealingLR(T_max = epochs) with t = epoch - 1.
 *
 * Options arrive resolved (the schema holds their defaults). step_size has no fixed default: left out,
 * it is max(1, round(epochs / 3)). warmup_cosine's warm-up is at most epochs - 1; it ramps linearly
 * lr * e / W over epochs 1..W, then cosine-anneals from lr over the remaining epochs.
 */
import type { ScheduleObject, ScheduleName } from '../config/index.js';

export type LrAt = (epoch: number) => number;

type ScheduleFactory<N extends ScheduleName> = (base: number, epochs: number, o: Extract<ScheduleObject, { type: N }>) => LrAt;

const cosine = (base: number, min: number, t: number, T: number): number =>
  T <= 0 ? base : min + ((base - min) * (1 + Math.cos((Math.PI * t) / T))) / 2;

export const SCHEDULE_FNS: { [N in ScheduleName]: ScheduleFactory<N> } = {
  none: (base) => () => base,
  step: (base, epochs, o) => {
    const size = o.step_size ?? Math.max(1, Math.round(epochs / 3));
    return (e) => base * o.gamma ** Math.floor((e - 1) / size);
  },
  exponential: (base, _epochs, o) => (e) => base * o.gamma ** (e - 1),
  cosine: (base, epochs, o) => (e) => cosine(base, o.min_lr, e - 1, epochs),
  warmup_cosine: (base, epochs, o) => {
    const w = Math.min(o.warmup_epochs, Math.max(0, epochs - 1));
    return (e) => (e <= w ? (base * e) / w : cosine(base, o.min_lr, e - 1 - w, epochs - w));
  },
};

/** Build `lrAt` from a resolved schedule: the base rate is the optimizer's lr. */
export function makeSchedule(schedule: ScheduleObject, baseLr: number, epochs: number): LrAt {
  return (SCHEDULE_FNS[schedule.type] as ScheduleFactory<ScheduleName>)(baseLr, epochs, schedule as never);
}
