/**
 * The training loop (not model.fit: its shuffling uses Math.random and cannot be seeded).
 * Every random draw comes from the run seed: init (buildModel), shuffle and dropout streams here.
 * Same config + seed + backend -> bit-identical metrics.
 *
 * Per epoch: a seeded permutation; batches built by copying rows into a reusable Float32Array (a
 * tf.slice of the big dataset costs ~0.5 s per call on wasm), each row turned from bytes into floats
 * as it is copied (data/rows.ts: no float copy of the data set); one tf.tidy per step; train loss and
 * accuracy as the mean over the epoch's batches (PyTorch-style), then test (and validation)
 * evaluation in large chunks with the model in inference mode. The last partial batch is kept
 * (PyTorch's drop_last=False), except a batch of one example when the model has BatchNorm (PyTorch
 * refuses those). Accuracy is a fraction in [0, 1].
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { resolveRunFields, type RunConfig } from '../config/index.js';
import { rowFloats, type Rows } from '../data/index.js';
import { buildModel } from '../model/index.js';
import { permutation, rngFor } from '../util/random.js';
import { UserError } from '../util/errors.js';
import { makeAugmenter, type Augmenter, type AugmentConfig } from './augment.js';
import { initBackend, type BackendInfo } from './backend.js';
import { TrainGraph, type StepContext } from './engine.js';
import { FastGraph } from './fast-graph.js';
import { softmaxCrossEntropy } from './loss.js';
import { makeOptimizer } from './optimizers.js';
import { makeSchedule } from './schedules.js';
import { Prober, type ProbeRecord, type ProbeSettings } from './probes.js';

/** What the data stage hands over (framework/data prepareData); val present with a validation split. */
export interface TrainData {
  train: Rows;
  test: Rows;
  val?: Rows;
  /** Per-example shape: [784] or [28, 28, 1] (NHWC). */
  inputShape: number[];
  /** [height, width, channels] when the rows are images (needed by train.augment; prepareData sets it). */
  imageShape?: number[];
  /** Per channel: the model input of a black pixel (crop padding); default 0. */
  black?: number[];
  featureSize: number;
  numClasses: number;
  classNames?: string[];
}

export interface EpochMetrics {
  epoch: number;
  train_loss: number;
  train_accuracy: number;
  test_loss: number;
  test_accuracy: number;
  val_loss?: number;
  val_accuracy?: number;
  /** Wall time of the epoch: training and evaluation. */
  seconds: number;
  lr: number;
}

export interface TrainOutcome {
  status: 'FINISHED' | 'FAILED' | 'KILLED';
  reason?: string;
  epochs: EpochMetrics[];
  seconds: number;
  model: LayersModel;
  backend: BackendInfo;
}

export interface TrainOptions {
  /** An already initialised backend; otherwise cfg.train.backend is initialised here. */
  backend?: BackendInfo;
  onEpoch?: (m: EpochMetrics) => void;
  signal?: AbortSignal;
  /** Rows per evaluation chunk (default 1000). */
  evalChunk?: number;
  /** Training-dynamics probes (probes.ts); they leave every training result unchanged. */
  probes?: ProbeSettings;
  onProbe?: (p: ProbeRecord) => void;
  /** false: train on the tf engine even where the wasm fast path applies (tests, benches). */
  fastPath?: boolean;
}

/** Let timers, signals and IPC run every this many steps (the loop is otherwise synchronous). */
const YIELD_EVERY = 50;
const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Mean loss and accuracy of the model (inference mode) on the rows. */
export function evaluate(model: LayersModel, rows: Rows, inputShape: number[], chunk = 1000): { loss: number; accuracy: number } {
  const f = inputShape.reduce((p, q) => p * q, 1);
  const n = rows.n;
  const buf = new Float32Array(Math.min(chunk, n) * f);
  let lossSum = 0;
  let correct = 0;
  for (let s = 0; s < n; s += chunk) {
    const m = Math.min(chunk, n - s);
    const logits = tf.tidy(() => {
      const x = tf.tensor(rowFloats(rows, s, s + m, buf.subarray(0, m * f)), [m, ...inputShape]);
      // predictOnBatch: predict() would cut the chunk into 32-row tf.slices, slow on wasm.
      return (model.predictOnBatch(x) as tf.Tensor).dataSync() as Float32Array;
    });
    const r = softmaxCrossEntropy(logits, rows.labels.subarray(s, s + m), m, logits.length / m, null, 1);
    lossSum += r.loss * m;
    correct += r.correct;
  }
  return { loss: lossSum / n, accuracy: correct / n };
}

export async function trainModel(given: RunConfig, data: TrainData, opts: TrainOptions = {}): Promise<TrainOutcome> {
  const t0 = performance.now();
  // Resolved through the schema (idempotent for a planned run): every value read below is set.
  const cfg = { ...resolveRunFields(given), seed: given.seed };
  const backend = opts.backend ?? (await initBackend(cfg.train.backend));
  const model = buildModel(cfg.model, data.inputShape, data.numClasses, cfg.seed);
  const graph = new TrainGraph(model);
  const optimizer = makeOptimizer(cfg.train.optimizer);
  const { epochs, batch_size: batchSize } = cfg.train;
  const evalChunk = opts.evalChunk ?? 1000;
  // wasm: the whole step in bnx's own kernels when every layer and the optimizer have one (fast-graph.ts)
  const fast = backend.name === 'wasm' && opts.fastPath !== false ? FastGraph.compile(model, { rows: Math.max(batchSize, evalChunk), batch: batchSize, optimizer: cfg.train.optimizer }) : null;
  const sync = (): void => (fast ? fast.syncState() : graph.syncState());
  const lrAt = makeSchedule(cfg.train.schedule, cfg.train.optimizer.lr, epochs);
  const shuffleRng = rngFor(cfg.seed, 'shuffle');
  const ctx: StepContext = { training: true, dropoutRng: rngFor(cfg.seed, 'dropout') };
  const augment = augmenterFor(cfg.train.augment, data, cfg.seed);

  const f = data.featureSize;
  const { train, inputShape } = data;
  const nTrain = train.n;
  for (const [name, rows] of [['train', train], ['test', data.test], ['val', data.val]] as const) {
    if (rows && rows.features !== f) throw new Error(`trainModel: ${name} rows have ${rows.features} features, the data ${f}`);
  }
  const order = new Uint32Array(nTrain);
  const xBuf = new Float32Array(fast ? 0 : batchSize * f);
  const yBuf = new Uint8Array(batchSize);
  const rowBuf = new Float32Array(augment && fast ? f : 0);
  const history: EpochMetrics[] = [];
  const done = (status: TrainOutcome['status'], reason?: string): TrainOutcome => {
    sync();
    optimizer.dispose();
    return { status, ...(reason ? { reason } : {}), epochs: history, seconds: (performance.now() - t0) / 1000, model, backend };
  };

  const prober = opts.probes ? new Prober(model, graph, data, cfg.seed, opts.probes, batchSize) : null;
  let stepsDone = 0;

  try {
    if (prober) opts.onProbe?.(prober.measure(0, 0, lrAt(1)));
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const te = performance.now();
      const lr = lrAt(epoch);
      permutation(nTrain, shuffleRng, order);
      let lossSum = 0;
      let accSum = 0;
      let batches = 0;
      for (let s = 0, stepNo = 0; s < nTrain; s += batchSize, stepNo++) {
        if (opts.signal?.aborted) return done('KILLED', abortReason(opts.signal));
        if (stepNo % YIELD_EVERY === YIELD_EVERY - 1) {
          await yieldToEventLoop();
          if (opts.signal?.aborted) return done('KILLED', abortReason(opts.signal));
        }
        const b = Math.min(batchSize, nTrain - s);
        if (b === 1 && graph.needsBatchStatistics) continue;
        // The epoch's last step: the last batch, or the one before a batch of one that is skipped.
        const probed = prober?.due(stepsDone + 1, s + b >= nTrain || (graph.needsBatchStatistics && nTrain - (s + b) === 1));
        // probes read the tfjs model, which the fast path otherwise brings up to date once per epoch
        if (probed) {
          fast?.syncState();
          prober!.snapshot();
        }
        let result = { loss: NaN, correct: 0 };
        if (fast) {
          for (let r = 0; r < b; r++) {
            const row = order[s + r]!;
            if (augment) {
              // One row at a time: the same draws, in the same order, as the tf path's whole batch.
              train.copyRow(row, rowBuf, 0);
              augment(rowBuf, 1);
              fast.setRow(r, rowBuf, 0);
            } else {
              fast.setExample(r, train, row);
            }
            yBuf[r] = train.labels[row]!;
          }
          result = fast.step(b, yBuf.subarray(0, b), lr, ctx);
        } else {
          for (let r = 0; r < b; r++) {
            const row = order[s + r]!;
            train.copyRow(row, xBuf, r * f);
            yBuf[r] = train.labels[row]!;
          }
          augment?.(xBuf, b);
          tf.tidy(() => {
            const x = tf.tensor(b === batchSize ? xBuf : xBuf.subarray(0, b * f), [b, ...inputShape]);
            const s = graph.step(x, b === batchSize ? yBuf : yBuf.subarray(0, b), ctx);
            result = s.result;
            if (Number.isFinite(result.loss)) optimizer.minimize(graph.params, s.backprop, lr);
          });
        }
        if (!Number.isFinite(result.loss)) {
          return done('FAILED', `training loss became ${result.loss} at epoch ${epoch}, step ${stepNo + 1} (lr ${lr}); ${divergenceHint(cfg)}`);
        }
        lossSum += result.loss;
        accSum += result.correct / b;
        batches++;
        stepsDone++;
        if (probed) {
          fast?.syncState();
          opts.onProbe?.(prober!.measure(stepsDone, epoch, lr));
        }
      }
      sync();
      const evalOn = (rows: Rows) => (fast ? fast.evaluate(rows, evalChunk, ctx) : evaluate(model, rows, inputShape, evalChunk));
      const test = evalOn(data.test);
      const m: EpochMetrics = {
        epoch,
        train_loss: lossSum / batches,
        train_accuracy: accSum / batches,
        test_loss: test.loss,
        test_accuracy: test.accuracy,
        seconds: 0,
        lr,
      };
      if (data.val?.n) {
        const val = evalOn(data.val);
        m.val_loss = val.loss;
        m.val_accuracy = val.accuracy;
      }
      m.seconds = (performance.now() - te) / 1000;
      history.push(m);
      opts.onEpoch?.(m);
      if (!Number.isFinite(test.loss)) return done('FAILED', `test loss became ${test.loss} after epoch ${epoch}`);
      await yieldToEventLoop();
    }
  } catch (err) {
    return done('FAILED', `training error: ${err instanceof Error ? err.message : String(err)}`);
  }
  return done('FINISHED');
}

/** The run's augmenter: its own stream from the run seed, so turning it on changes no other draw. */
function augmenterFor(cfg: AugmentConfig | undefined, data: TrainData, seed: number): Augmenter | undefined {
  if (!cfg) return undefined;
  const shape = data.imageShape ?? (data.inputShape.length === 3 ? data.inputShape : undefined);
  if (!shape || shape.reduce((p, q) => p * q, 1) !== data.featureSize) {
    throw new UserError(`train.augment needs image rows; this data has per-example shape [${data.inputShape.join(', ')}] and no image shape`);
  }
  return makeAugmenter(cfg, shape, data.black ?? [0], rngFor(seed, 'augment'));
}

/** What to try when the loss diverges: a normalization layer only for a model that has none. */
export function divergenceHint(cfg: RunConfig): string {
  const norm = typeof cfg.model.norm === 'string' ? cfg.model.norm : cfg.model.norm.type;
  return norm === 'none' ? 'try a lower learning rate or a normalization layer (model.norm)' : 'try a lower learning rate';
}

function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  return `aborted${r instanceof Error ? `: ${r.message}` : typeof r === 'string' ? `: ${r}` : ''}`;
}
