/**
 * A run's MLflow params: its normalised config (config/normalizeConfig: one spelling per computation,
 * options that do not apply left out) flattened to dotted names, plus `variant` and `matrix.*`. So
 * every run of a study names the same setting the same way (`model.norm.type` for `norm: batch` and
 * for `norm: { type: group, groups: 4 }` alike), and MLflow's compare view and search line up.
 */
import { matrixValueText, normalizeConfig } from '../config/index.js';
import type { PlannedRun } from '../plan/index.js';
import { flattenParams } from '../track/index.js';

export function runParams(run: Pick<PlannedRun, 'config' | 'seed' | 'variant' | 'matrix'>): Record<string, string> {
  return {
    ...flattenParams(normalizeConfig({ ...run.config, seed: run.seed })),
    variant: run.variant,
    ...Object.fromEntries(Object.entries(run.matrix).map(([k, v]) => [`matrix.${k}`, matrixValueText(v)])),
  };
}
