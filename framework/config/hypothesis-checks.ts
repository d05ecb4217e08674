/**
 * The rules of `hypotheses:` that the schema cannot express: selectors name variants and matrix
 * values the study has, the two sides do not share runs, the epoch exists, the metric, level, epoch
 * and test fit together, and paired tests have a design that pairs runs. Pure; problems carry the
 * config path the loader turns into file:line:col.
 */
import { defaultTest, EPOCH_METRICS, PAIRED_TESTS, PROBE_LAYER_NAMES, PROBE_MODEL_NAMES, selectorSpec, selects, unpairable, type Hypothesis, type SelectorSpec } from './hypotheses.js';
import { Value } from '@sinclair/typebox/value';
import { SelectorSchema } from './hypotheses.js';
import { suggestion as didYouMean, type SchemaProblem } from './messages.js';
import { cells, matrixValueText, resolveCell } from './resolve.js';
import { SAFE_NAME, type Experiment } from './schema.js';

function selectorProblems(config: Experiment, path: string[], h: Hypothesis, side: 'compare' | 'against'): SchemaProblem[] {
  const sel = h[side];
  const spec = selectorSpec(sel);
  const out: SchemaProblem[] = [];
  const variants = Object.keys(config.variants);
  spec.variants.forEach((v, i) => {
    if (variants.includes(v)) return;
    const at = typeof sel === 'string' ? [...path, side] : Array.isArray(sel.variant) ? [...path, side, 'variant', String(i)] : [...path, side, 'variant'];
    out.push({ path: at, message: `${side} names variant "${v}", which the study does not have${didYouMean(v, variants)} (variants: ${variants.join(', ')})` });
  });
  for (const [key, values] of Object.entries(spec.matrix)) {
    const axis = config.matrix?.[key];
    if (!Array.isArray(axis)) {
      const keys = Object.keys(config.matrix);
      out.push({
        path: [...path, side, 'matrix', key],
        atKey: true,
        message: keys.length
          ? `${side} names matrix key "${key}", which the study's matrix does not have${didYouMean(key, keys)} (matrix keys: ${keys.join(', ')})`
          : `${side} names matrix key "${key}", but the study has no matrix`,
      });
      continue;
    }
    for (const v of values)
      if (!axis.some((a) => a === v))
        out.push({ path: [...path, side, 'matrix', key], message: `${side} keeps ${key} = ${JSON.stringify(v)}, which is not one of the matrix values (${axis.map((a) => JSON.stringify(a)).join(', ')})` });
  }
  return out;
}

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * The names a study's claims get wrong (variants, matrix keys and values), for a study the schema
 * rejected: reported with the schema's problems, so one pass shows them all. Only well-formed
 * selectors are read.
 */
export function hypothesisNameProblems(config: unknown): SchemaProblem[] {
  if (!isObj(config) || !isObj(config.hypotheses) || !isObj(config.variants)) return [];
  const shape = { variants: config.variants, matrix: isObj(config.matrix) ? config.matrix : {} } as unknown as Experiment;
  const out: SchemaProblem[] = [];
  for (const [name, h] of Object.entries(config.hypotheses)) {
    if (!isObj(h)) continue;
    for (const side of ['compare', 'against'] as const)
      if (Value.Check(SelectorSchema, h[side])) out.push(...selectorProblems(shape, ['hypotheses', name], h as unknown as Hypothesis, side));
  }
  return out;
}

/** A claim on a probe: it names one the study measures, at a probe that exists. */
function probeClaimProblems(config: Experiment, path: string[], h: Hypothesis): SchemaProblem[] {
  if (h.metric !== 'probe') {
    return h.probe === undefined ? [] : [{ path: [...path, 'probe'], message: `probe is only used by metric probe (this claim's metric is ${h.metric})` }];
  }
  if (h.probe === undefined) return [{ path: [...path, 'metric'], message: 'metric probe needs the probe to compare, e.g. probe: fc2/ics or probe: model/loss_range' }];
  const out: SchemaProblem[] = [];
  if (!config.probes) out.push({ path: [...path, 'metric'], message: 'metric probe needs probes measured: add probes: { every: epoch } to the study' });
  const [layer, name] = [h.probe.slice(0, h.probe.lastIndexOf('/')), h.probe.slice(h.probe.lastIndexOf('/') + 1)];
  const names: readonly string[] = layer === 'model' ? PROBE_MODEL_NAMES : PROBE_LAYER_NAMES;
  if (!names.includes(name)) out.push({ path: [...path, 'probe'], message: `${layer === 'model' ? 'model' : 'a layer'} has no probe "${name}"; one of: ${names.join(', ')}` });
  if (h.epoch === 'best') out.push({ path: [...path, 'epoch'], message: 'a probe is read after an epoch number or the final epoch, not best' });
  if (typeof h.epoch === 'number' && config.probes && config.probes.every !== 'epoch')
    out.push({ path: [...path, 'epoch'], message: `an epoch number needs probes every epoch (probes.every is ${config.probes.every} steps); use epoch: final` });
  return out;
}

/** Every problem of the study's hypotheses (the study itself is schema-valid). */
export function hypothesisProblems(config: Experiment): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  const all = cells(config);
  for (const [name, h] of Object.entries(config.hypotheses ?? {})) {
    const path = ['hypotheses', name];
    if (!new RegExp(SAFE_NAME).test(name))
      out.push({ path, atKey: true, message: `hypothesis name "${name}" must use only letters, digits, ".", "_" and "-", starting with a letter or digit` });
    const selProblems = [...selectorProblems(config, path, h, 'compare'), ...selectorProblems(config, path, h, 'against')];
    out.push(...selProblems);
    const test = defaultTest(h);
    if (h.metric === 'epochs_to_accuracy' && h.level === undefined)
      out.push({ path: [...path, 'metric'], message: 'epochs_to_accuracy needs a level: the test accuracy to reach, e.g. level: 0.8' });
    if (h.level !== undefined && h.metric !== 'epochs_to_accuracy')
      out.push({ path: [...path, 'level'], message: `level is only used by metric epochs_to_accuracy (this claim's metric is ${h.metric})` });
    if (h.epoch !== undefined && !EPOCH_METRICS.includes(h.metric))
      out.push({ path: [...path, 'epoch'], message: `${h.metric} uses every epoch of a run; remove epoch` });
    if (h.epoch === 'best' && h.metric === 'auc') out.push({ path: [...path, 'epoch'], message: 'auc is read at the final epoch or an epoch number, not best' });
    out.push(...probeClaimProblems(config, path, h));
    if ((test === 'fisher') !== (h.metric === 'divergence_rate'))
      out.push({
        path: [...path, h.test ? 'test' : 'metric'],
        message: test === 'fisher' ? `the fisher test compares rates: use it with metric divergence_rate` : `divergence_rate is a rate: it is tested with fisher (remove test, or set test: fisher)`,
      });
    if (test === 'fisher' && (h.min_effect ?? 0) > 0)
      out.push({ path: [...path, 'min_effect'], message: 'min_effect is not supported with divergence_rate (Fisher\'s exact test tests equal rates)' });
    if (selProblems.length) continue;

    const compare = selectorSpec(h.compare);
    const against = selectorSpec(h.against);
    const inC = all.filter((c) => selects(compare, c.variant, c.matrix));
    const inA = all.filter((c) => selects(against, c.variant, c.matrix));
    const shared = inC.filter((c) => selects(against, c.variant, c.matrix));
    if (!inC.length || !inA.length)
      out.push({ path: [...path, inC.length ? 'against' : 'compare'], message: 'this selector keeps no runs of the study' });
    else if (shared.length)
      out.push({ path: [...path, 'against'], message: `compare and against share runs (${shared[0]!.variant}${describeCell(shared[0]!.matrix)}); a claim compares two disjoint groups` });
    if (PAIRED_TESTS.includes(test)) {
      const why = unpairable(compare, against);
      if (why) out.push({ path: [...path, 'test'], message: `${test} pairs runs by seed, one run of each side per seed: ${why}; name one value on both sides, or use welch / mann-whitney` });
    }
    if (typeof h.epoch === 'number') {
      for (const c of [...inC, ...inA]) {
        const epochs = resolveCell(config, c).fields?.train.epochs;
        if (epochs !== undefined && h.epoch > epochs) {
          out.push({ path: [...path, 'epoch'], message: `epoch ${h.epoch} is past the end of training: ${c.variant}${describeCell(c.matrix)} trains ${epochs} epochs` });
          break;
        }
      }
    }
  }
  return out;
}

const describeCell = (m: Record<string, unknown>) => (Object.keys(m).length ? ` [${Object.entries(m).map(([k, v]) => `${k}=${matrixValueText(v)}`).join(', ')}]` : '');

export type { SelectorSpec };
