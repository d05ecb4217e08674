/**
 * Claims as hypotheses: the `hypotheses:` section of a study (schema fragment and types). Each claim
 * compares the runs one selector picks with the runs another picks, on one metric at one epoch, in a
 * stated direction, optionally by at least a minimum effect; the report tests every claim across seeds
 * and corrects them together (framework/report/claims.ts).
 */
import { Type, type Static } from '@sinclair/typebox';
import { literalUnion } from './schema-parts.js';

// The same as schema.ts's MatrixValue (restated: schema.ts imports this module).
const MatrixValue = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);

export const CLAIM_METRICS = [
  'test_accuracy',
  'test_loss',
  'train_accuracy',
  'train_loss',
  'generalization_gap',
  'epochs_to_accuracy',
  'auc',
  'divergence_rate',
  'probe',
] as const;
export type ClaimMetric = (typeof CLAIM_METRICS)[number];

export const CLAIM_TESTS = ['welch', 'mann-whitney', 'paired-t', 'wilcoxon', 'fisher'] as const;
export type ClaimTest = (typeof CLAIM_TESTS)[number];

export const PAIRED_TESTS: readonly ClaimTest[] = ['paired-t', 'wilcoxon'];

/** Metrics whose per-run value is read at an epoch (final, best or a number). */
export const EPOCH_METRICS: readonly ClaimMetric[] = ['test_accuracy', 'test_loss', 'train_accuracy', 'train_loss', 'generalization_gap', 'auc', 'probe'];

/** What framework/train/probes.ts measures per layer (`fc1/<name>`) and per model (`model/<name>`). */
export const PROBE_LAYER_NAMES = ['pre_mean', 'pre_std', 'post_mean', 'post_std', 'dead_fraction', 'grad_norm', 'weight_norm', 'update_ratio', 'ics', 'ics_cosine'] as const;
export const PROBE_MODEL_NAMES = ['loss', 'loss_range', 'grad_change', 'beta_smoothness'] as const;

export const SelectorSchema = Type.Union(
  [
    Type.String({ minLength: 1, description: 'A variant: all its runs (every matrix cell and seed).' }),
    Type.Object(
      {
        variant: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1, uniqueItems: true })], {
          description: 'A variant, or a list of variants pooled into one group.',
        }),
        matrix: Type.Optional(
          Type.Record(Type.String(), Type.Union([MatrixValue, Type.Array(MatrixValue, { minItems: 1 })]), {
            description:
              'Matrix cells to keep: a matrix key with one value or a list of values (e.g. train.optimizer.lr: 0.1). Keys not named keep every value.',
          }),
        ),
      },
      { additionalProperties: false, description: 'Runs of some variants in some matrix cells, pooled into one group.' },
    ),
  ],
  { description: 'Which runs form a side of the claim: a variant name, or { variant, matrix }.' },
);

export const HypothesisSchema = Type.Object(
  {
    claim: Type.Optional(Type.String({ description: 'The claim in words, shown in the report (default: built from the fields).' })),
    compare: SelectorSchema,
    against: SelectorSchema,
    metric: literalUnion(CLAIM_METRICS, {
      description:
        'Per-run figure compared. test_accuracy, test_loss, train_accuracy, train_loss: at `epoch`. generalization_gap: train accuracy - test accuracy at `epoch` ' +
        '(train accuracy is the mean over the epoch\'s batches, with dropout active). epochs_to_accuracy: first epoch whose test accuracy reaches `level` ' +
        '(a run that never does counts as epochs + 1). auc: mean test accuracy over epochs 1..`epoch` (area under the curve / epochs). ' +
        'divergence_rate: share of runs that failed with a non-finite loss (tested with Fisher\'s exact test). ' +
        'probe: the probe named by `probe` (needs `probes:` in the study) after epoch `epoch` (final: the last probe).',
    }),
    epoch: Type.Optional(
      Type.Union([literalUnion(['final', 'best'] as const, { description: 'final: the last epoch; best: the best epoch of each run (highest accuracy, lowest loss or gap).' }), Type.Integer({ minimum: 1 })], {
        description: 'Where the metric is read: final (default), best, or an epoch number (1-based). Not used by epochs_to_accuracy or divergence_rate; auc takes final or a number.',
      }),
    ),
    level: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'epochs_to_accuracy: the test accuracy to reach, as a fraction (0.8 = 80%).' }),
    ),
    direction: literalUnion(['higher', 'lower'] as const, {
      description: 'The claim: compare\'s metric is higher (or lower) than against\'s.',
    }),
    min_effect: Type.Optional(
      Type.Number({
        minimum: 0,
        description:
          'The claimed difference is at least this much, in the metric\'s units (accuracy as a fraction: 0.05 = 5 points; epochs; loss). Default 0.',
      }),
    ),
    probe: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*/[a-z_]+$',
        description: 'metric: probe only: <layer>/<name> (fc2/ics, fc1/dead_fraction) or model/<name> (model/loss_range), as logged under probe/.',
      }),
    ),
    test: Type.Optional(
      literalUnion(CLAIM_TESTS, {
        description:
          'welch (default): Welch\'s t-test. mann-whitney: rank test, no normality assumed. paired-t / wilcoxon: pair runs by seed (same seed, same other matrix values). ' +
          'fisher: divergence_rate only (and its default).',
      }),
    ),
  },
  { additionalProperties: false, description: 'One claim, tested across seeds.' },
);

export const HypothesesSchema = Type.Record(Type.String(), HypothesisSchema, {
  default: {},
  description:
    'Claims the study tests, by name. Each is supported, refuted or inconclusive at alpha 0.05 after Holm\'s correction over all claims of the study; `bnx run --check` exits 1 when one is refuted.',
});

export type Selector = Static<typeof SelectorSchema>;
export type Hypothesis = Static<typeof HypothesisSchema>;

/** The test a claim uses when it names none. */
export const defaultTest = (h: Pick<Hypothesis, 'metric' | 'test'>): ClaimTest => h.test ?? (h.metric === 'divergence_rate' ? 'fisher' : 'welch');

type Scalar = string | number | boolean;

/** A selector in one shape: the variants it names and, per matrix key, the values it keeps. */
export interface SelectorSpec {
  variants: string[];
  matrix: Record<string, Scalar[]>;
}

export function selectorSpec(s: Selector): SelectorSpec {
  if (typeof s === 'string') return { variants: [s], matrix: {} };
  const variants = Array.isArray(s.variant) ? s.variant : [s.variant];
  const matrix = Object.fromEntries(Object.entries(s.matrix ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
  return { variants, matrix };
}

/** Does a selector keep the runs of this variant in this matrix cell? */
// Matrix values may be mappings or lists too; a selector names scalars, so those never match by ===.
export function selects(spec: SelectorSpec, variant: string, cell: Record<string, unknown>): boolean {
  if (!spec.variants.includes(variant)) return false;
  return Object.entries(spec.matrix).every(([k, vs]) => vs.some((v) => v === cell[k]));
}

/**
 * Paired tests pair a run of one side with the run of the other side that has the same seed and the
 * same values of the matrix keys neither side names. That is one-to-one only when each side names one
 * variant and one value of each matrix key either side names. Returns why not, or null.
 */
export function unpairable(compare: SelectorSpec, against: SelectorSpec): string | null {
  for (const [side, spec] of [['compare', compare], ['against', against]] as const) {
    if (spec.variants.length !== 1) return `${side} pools ${spec.variants.length} variants`;
  }
  const named = new Set([...Object.keys(compare.matrix), ...Object.keys(against.matrix)]);
  for (const k of named) {
    for (const [side, spec] of [['compare', compare], ['against', against]] as const) {
      const n = spec.matrix[k]?.length ?? 0;
      if (n !== 1) return `${side} ${n ? `keeps ${n} values` : 'keeps every value'} of ${k}, which the other side names`;
    }
  }
  return null;
}
