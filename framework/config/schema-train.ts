/** The study schema's `train` section: optimizers and schedules as discriminated unions on `type`. */
import { Type, type TSchema } from '@sinclair/typebox';
import { BACKENDS, OPTIMIZERS, SCHEDULES, type OptimizerName, type ScheduleName } from './names.js';
import { literalUnion, strict } from './schema-parts.js';

/** Every optimizer option, declared once with its default; each optimizer accepts a subset. */
const OPTIMIZER_OPTIONS = {
  lr: Type.Number({ exclusiveMinimum: 0, default: 0.01, description: 'Learning rate (peak rate when a schedule is set).' }),
  momentum: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0, description: 'Momentum (sgd, rmsprop).' }),
  nesterov: Type.Boolean({ default: false, description: 'Nesterov momentum (sgd).' }),
  weight_decay: Type.Number({
    minimum: 0,
    default: 0,
    description: 'L2 penalty added to the gradient (sgd, adam, rmsprop, adagrad) or decoupled decay (adamw).',
  }),
  beta1: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.9, description: 'First moment decay (adam, adamw).' }),
  beta2: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.999, description: 'Second moment decay (adam, adamw).' }),
  rho: Type.Number({ minimum: 0, exclusiveMaximum: 1, default: 0.99, description: 'Squared-gradient decay, PyTorch alpha (rmsprop).' }),
  epsilon: Type.Number({ exclusiveMinimum: 0, default: 1e-8, description: 'Numerical stability term (adam, adamw, rmsprop, adagrad).' }),
};
type OptimizerOption = keyof typeof OPTIMIZER_OPTIONS;

/** Which options each optimizer reads (framework/train/optimizers.ts implements exactly these). */
export const OPTIMIZER_ACCEPTS = {
  sgd: ['lr', 'momentum', 'nesterov', 'weight_decay'],
  adam: ['lr', 'weight_decay', 'beta1', 'beta2', 'epsilon'],
  adamw: ['lr', 'weight_decay', 'beta1', 'beta2', 'epsilon'],
  rmsprop: ['lr', 'momentum', 'weight_decay', 'rho', 'epsilon'],
  adagrad: ['lr', 'weight_decay', 'epsilon'],
} as const satisfies Record<OptimizerName, readonly OptimizerOption[]>;

const pick = <K extends OptimizerOption>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, OPTIMIZER_OPTIONS[k]])) as Pick<typeof OPTIMIZER_OPTIONS, K>;

/** One optimizer's options. sgd is the default type, so its `type` may be left out. */
const optimizerMember = <N extends OptimizerName>(name: N) =>
  Type.Object(
    {
      type: Type.Literal(name, { description: 'The optimizer.', ...(name === 'sgd' ? { default: name } : {}) }),
      ...pick(OPTIMIZER_ACCEPTS[name] as readonly (typeof OPTIMIZER_ACCEPTS)[N][number][]),
    },
    { ...strict, description: `${name}: ${OPTIMIZER_ACCEPTS[name].join(', ')}.` },
  );

export const OptimizerSchema = Type.Union(
  [optimizerMember('sgd'), optimizerMember('adam'), optimizerMember('adamw'), optimizerMember('rmsprop'), optimizerMember('adagrad')],
  {
    default: {},
    description: `Optimizer (type: ${OPTIMIZERS.join(' | ')}, default sgd) and the hyper-parameters that type accepts: ${OPTIMIZERS.map((n) => `${n}: ${OPTIMIZER_ACCEPTS[n].join(', ')}`).join('; ')}.`,
  },
);

const SCHEDULE_OPTIONS = {
  step_size: Type.Integer({ minimum: 1, description: 'Epochs between decays (default max(1, round(epochs / 3))).' }),
  gamma: Type.Number({ exclusiveMinimum: 0, description: 'Decay factor.' }),
  warmup_epochs: Type.Integer({ minimum: 0, default: 1, description: 'Epochs of linear warm-up (at most epochs - 1).' }),
  min_lr: Type.Number({ minimum: 0, default: 0, description: 'Final learning rate.' }),
};

/** Each schedule's options with their defaults (gamma's default differs between step and exponential). */
const scheduleMembers = {
  none: Type.Object({ type: Type.Literal('none', { description: 'Constant learning rate.' }) }, { ...strict, description: 'none.' }),
  step: Type.Object(
    {
      type: Type.Literal('step', { description: 'lr * gamma^floor((epoch - 1) / step_size).' }),
      step_size: Type.Optional(SCHEDULE_OPTIONS.step_size),
      gamma: Type.Number({ ...SCHEDULE_OPTIONS.gamma, default: 0.1 }),
    },
    { ...strict, description: 'step: step_size, gamma (default 0.1).' },
  ),
  exponential: Type.Object(
    { type: Type.Literal('exponential', { description: 'lr * gamma^(epoch - 1).' }), gamma: Type.Number({ ...SCHEDULE_OPTIONS.gamma, default: 0.9 }) },
    { ...strict, description: 'exponential: gamma (default 0.9).' },
  ),
  cosine: Type.Object(
    { type: Type.Literal('cosine', { description: 'Cosine annealing from lr to min_lr over the epochs.' }), min_lr: SCHEDULE_OPTIONS.min_lr },
    { ...strict, description: 'cosine: min_lr (default 0).' },
  ),
  warmup_cosine: Type.Object(
    {
      type: Type.Literal('warmup_cosine', { description: 'Linear warm-up, then cosine annealing.' }),
      warmup_epochs: SCHEDULE_OPTIONS.warmup_epochs,
      min_lr: SCHEDULE_OPTIONS.min_lr,
    },
    { ...strict, description: 'warmup_cosine: warmup_epochs (default 1), min_lr (default 0).' },
  ),
} satisfies Record<ScheduleName, TSchema>;

export const ScheduleSchema = Type.Union(
  [literalUnion(SCHEDULES, { description: 'A schedule by name, with its default options.' }), ...Object.values(scheduleMembers)],
  {
    default: 'none',
    description: `Learning-rate schedule, stepped once per epoch: ${SCHEDULES.join(' | ')}, or an object with options (${Object.values(
      scheduleMembers,
    )
      .map((m) => m.description)
      .join(' ')})`,
  },
);

export const AugmentSchema = Type.Object(
  {
    crop: Type.Optional(
      Type.Object(
        { padding: Type.Integer({ minimum: 1, description: 'Pixels of black padding on each side before the crop back to the image size.' }) },
        { ...strict, description: "Random crop with padding (torchvision's RandomCrop(size, padding)): a random shift of up to padding pixels in each direction." },
      ),
    ),
    flip: Type.Optional(literalUnion(['horizontal'] as const, { description: 'horizontal: mirror left-right with probability 1/2.' })),
  },
  {
    ...strict,
    minProperties: 1,
    description:
      'Augment each training example each time it is drawn (crop, then flip), seeded from the run seed; test and validation data are never augmented. Off when absent.',
  },
);

export const TrainSchema = Type.Object(
  {
    epochs: Type.Integer({ minimum: 1, default: 5, description: 'Passes over the training set.' }),
    batch_size: Type.Integer({ minimum: 1, default: 64, description: 'Examples per gradient step.' }),
    optimizer: OptimizerSchema,
    schedule: ScheduleSchema,
    augment: Type.Optional(AugmentSchema),
    backend: literalUnion(BACKENDS, {
      default: 'auto',
      description:
        'auto: tfjs-node-gpu if installed with a CUDA device, else tfjs-node if installed, else wasm, else cpu. Not part of the run key.',
    }),
  },
  { ...strict, default: {}, description: 'Training loop settings.' },
);
