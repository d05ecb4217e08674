/**
 * `npm run bench`: training speed of the bnx engine per backend and model, on real FashionMNIST.
 *
 * Each (backend, model) runs in its own child process (clean backend state, its own peak RSS) and
 * trains with trainModel exactly as `bnx run` does. Reported per configuration: median wall-clock
 * s/epoch (training + evaluation on the 10k test set), the training-only part, median CPU s/epoch
 * (less sensitive to other processes on a shared machine), training images/s, and peak RSS.
 * The first epoch is reported separately (warm-up) and excluded from the medians. The CNN, and every
 * model on the cpu backend, train on a subset; their full-set s/epoch is extrapolated from images/s.
 *
 *   node dist-dev/bench/train-bench.js [--backends wasm,cpu] [--models mlp,mlp-bn,cnn] [--epochs 4]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type RunConfig, runConfig, type BackendName } from '../framework/config/index.js';

interface BenchCase {
  model: RunConfig['model'];
  /** Training images per class (6000 = the full 60k set). */
  trainPerClass: number;
  shape: 'flat' | 'image';
}

/** The seed study's MLP (784-64-32-10, ReLU, PyTorch init): the schema's defaults. */
const MLP: RunConfig['model'] = runConfig().model;

const CASES: Record<string, BenchCase> = {
  mlp: { model: MLP, trainPerClass: 6000, shape: 'flat' },
  'mlp-bn': { model: { ...MLP, norm: 'batch' }, trainPerClass: 6000, shape: 'flat' },
  // a small CNN on a 6,000-image subset (full-set s/epoch is extrapolated from images/s)
  cnn: { model: { ...MLP, type: 'cnn', hidden: [64], conv: { filters: [8, 16], kernel_size: 3, pool: 'max' } }, trainPerClass: 600, shape: 'image' },
};

interface ChildResult {
  backend: string;
  model: string;
  nTrain: number;
  epochs: { wall: number; cpu: number }[];
  evalSeconds: number;
  peakRssMb: number;
  testAccuracy: number;
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function child(backendName: BackendName, caseName: string, epochs: number): Promise<void> {
  const { initBackend, trainModel, evaluate } = await import('../framework/train/index.js');
  const { fashionSlice } = await import('../framework/train/testing.js');
  const c = CASES[caseName]!;
  const backend = await initBackend(backendName);
  // the plain-JavaScript cpu backend is ~20x slower: smaller subsets, extrapolated like the CNN
  const perClass = backend.name === 'cpu' ? Math.min(c.trainPerClass / 6, 1000) : c.trainPerClass;
  const data = fashionSlice({ trainPerClass: perClass, testPerClass: 1000, shape: c.shape });
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
  const marks: { wall: number; cpu: number }[] = [];
  let lastCpu = process.cpuUsage();
  const out = await trainModel(cfg, data, {
    backend,
    onEpoch: (m) => {
      const cpu = process.cpuUsage(lastCpu);
      lastCpu = process.cpuUsage();
      marks.push({ wall: m.seconds, cpu: (cpu.user + cpu.system) / 1e6 });
    },
  });
  if (out.status !== 'FINISHED') throw new Error(`${caseName} on ${backend.name}: ${out.status} ${out.reason ?? ''}`);
  const t = performance.now();
  evaluate(out.model, data.testX, data.testY, data.nTest, data.inputShape);
  const result: ChildResult = {
    backend: backend.name + (backend.fallback_reason ? ` (fallback: ${backend.fallback_reason})` : ''),
    model: caseName,
    nTrain: data.nTrain,
    epochs: marks,
    evalSeconds: (performance.now() - t) / 1000,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    testAccuracy: out.epochs[out.epochs.length - 1]!.test_accuracy,
  };
  process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
}

function parseArgs(argv: string[]): Record<string, string> {
  const a: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) if (argv[i]!.startsWith('--')) a[argv[i]!.slice(2)] = argv[i + 1] ?? '';
  return a;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.child !== undefined) return child(args.backend as BackendName, args.child, Number(args.epochs));
  const backends = (args.backends ?? 'wasm,cpu').split(',') as BackendName[];
  const models = (args.models ?? 'mlp,mlp-bn,cnn').split(',');
  const epochs = Number(args.epochs ?? 4);
  const self = fileURLToPath(import.meta.url);
  console.log(`bnx train bench: batch 64, SGD, ${epochs} epochs per case (first = warm-up), node ${process.versions.node}`);
  console.log('backend  model    train imgs  s/epoch(wall)  train-only  s/epoch(cpu)  imgs/s   full-60k s/epoch  1st epoch  peak RSS  test acc');
  for (const backend of backends) {
    for (const model of models) {
      // the cpu backend is ~20x slower: fewer epochs keep the bench short
      const e = backend === 'cpu' ? Math.min(epochs, 3) : epochs;
      const r = spawnSync(process.execPath, [self, '--child', model, '--backend', backend, '--epochs', String(e)], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      const line = r.stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (!line) {
        console.log(`${backend.padEnd(8)} ${model.padEnd(8)} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
        continue;
      }
      const res = JSON.parse(line.slice('BENCH_RESULT '.length)) as ChildResult;
      const steady = res.epochs.length > 1 ? res.epochs.slice(1) : res.epochs;
      const wall = median(steady.map((m) => m.wall));
      const cpu = median(steady.map((m) => m.cpu));
      const trainOnly = Math.max(0, wall - res.evalSeconds);
      const ips = res.nTrain / trainOnly;
      console.log(
        [
          res.backend.padEnd(8),
          model.padEnd(8),
          String(res.nTrain).padStart(10),
          wall.toFixed(2).padStart(14),
          trainOnly.toFixed(2).padStart(11),
          cpu.toFixed(2).padStart(13),
          ips.toFixed(0).padStart(8),
          (60000 / ips + res.evalSeconds).toFixed(2).padStart(17),
          res.epochs[0]!.wall.toFixed(2).padStart(10),
          `${res.peakRssMb.toFixed(0)} MB`.padStart(9),
          `${(100 * res.testAccuracy).toFixed(1)}%`.padStart(9),
        ].join(' '),
      );
    }
  }
  console.log('Medians over the epochs after the first. Wall time is sensitive to other processes on the machine; CPU time less so.');
}

await main();
