/**
 * One bench case trained in this process, exactly as `bnx run` trains (trainModel), with per-epoch
 * CPU and wall time, the CPU time of one test-set evaluation (to split an epoch into training and
 * evaluation), and the peak RSS. train-bench.ts spawns one child per case so every case starts from a
 * clean backend and reports its own peak memory.
 */
import { type BackendName, type RunConfig, runConfig } from '../framework/config/index.js';

export interface BenchCase {
  model: RunConfig['model'];
  /** Training images per class (6000 = the full 60k set). */
  trainPerClass: number;
  shape: 'flat' | 'image';
}

/** The seed study's MLP (784-64-32-10, ReLU, PyTorch init): the schema's defaults. */
const MLP: RunConfig['model'] = runConfig().model;

export const CASES: Record<string, BenchCase> = {
  mlp: { model: MLP, trainPerClass: 6000, shape: 'flat' },
  'mlp-bn': { model: { ...MLP, norm: 'batch' }, trainPerClass: 6000, shape: 'flat' },
  'mlp-ln': { model: { ...MLP, norm: 'layer' }, trainPerClass: 6000, shape: 'flat' },
  // a small CNN on a 6,000-image subset (full-set s/epoch is extrapolated from images/s)
  cnn: { model: { ...MLP, type: 'cnn', hidden: [64], conv: { filters: [8, 16], kernel_size: 3, pool: 'max' } }, trainPerClass: 600, shape: 'image' },
};

export interface EpochTimes {
  wall: number;
  cpu: number;
}

export interface ChildResult {
  backend: string;
  model: string;
  nTrain: number;
  nTest: number;
  epochs: EpochTimes[];
  /** One evaluation of the test set after training (the part of each epoch that is not training). */
  evalSeconds: number;
  evalCpu: number;
  peakRssMb: number;
  testAccuracy: number;
}

export const RESULT_TAG = 'BENCH_RESULT ';

const cpuSeconds = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;

export async function benchChild(backendName: BackendName, caseName: string, epochs: number): Promise<void> {
  const { initBackend, trainModel, evaluate } = await import('../framework/train/index.js');
  const { fashionSlice } = await import('../framework/train/testing.js');
  const c = CASES[caseName];
  if (!c) throw new Error(`bench: no case ${caseName} (cases: ${Object.keys(CASES).join(', ')})`);
  const backend = await initBackend(backendName);
  // the plain-JavaScript cpu backend is ~20x slower: smaller subsets, extrapolated like the CNN
  const perClass = backend.name === 'cpu' ? Math.min(c.trainPerClass / 6, 1000) : c.trainPerClass;
  const data = await fashionSlice({ trainPerClass: perClass, testPerClass: 1000, shape: c.shape });
  const cfg: RunConfig = {
    seed: 1,
    dataset: { name: 'fashion-mnist', scale: 255 },
    model: c.model,
    train: {
      epochs,
      batch_size: 64,
      optimizer: { type: 'sgd', lr: 0.001, momentum: 0, nesterov: false, weight_decay: 0 },
      schedule: 'none',
      backend: backendName,
    },
  };
  const marks: EpochTimes[] = [];
  let lastCpu = process.cpuUsage();
  const out = await trainModel(cfg, data, {
    backend,
    // BNX_FAST_PATH=0: the tf engine on wasm too (the before/after figures of a fast-path change)
    fastPath: process.env.BNX_FAST_PATH !== '0',
    onEpoch: (m) => {
      marks.push({ wall: m.seconds, cpu: cpuSeconds(process.cpuUsage(lastCpu)) });
      lastCpu = process.cpuUsage();
    },
  });
  if (out.status !== 'FINISHED') throw new Error(`${caseName} on ${backend.name}: ${out.status} ${out.reason ?? ''}`);
  const t = performance.now();
  const c0 = process.cpuUsage();
  evaluate(out.model, data.test, data.inputShape);
  const result: ChildResult = {
    backend: backend.name + (backend.fallback_reason ? ` (fallback: ${backend.fallback_reason})` : ''),
    model: caseName,
    nTrain: data.train.n,
    nTest: data.test.n,
    epochs: marks,
    evalCpu: cpuSeconds(process.cpuUsage(c0)),
    evalSeconds: (performance.now() - t) / 1000,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    testAccuracy: out.epochs[out.epochs.length - 1]!.test_accuracy,
  };
  process.stdout.write(`${RESULT_TAG}${JSON.stringify(result)}\n`);
}

export const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The epochs after the first (the warm-up), or the only one. */
export const steady = <T>(epochs: T[]): T[] => (epochs.length > 1 ? epochs.slice(1) : epochs);
