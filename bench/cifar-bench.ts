/**
 * `npm run bench:cifar`: CIFAR-10-shaped work without the real CIFAR-10 (no internet here).
 *
 *   node dist-dev/bench/cifar-bench.js archive FILE [--train 50000 --test 10000]
 *       writes a made-up cifar-10-binary.tar.gz in the official format (test-support/cifar-archive.ts),
 *       to `bnx data import cifar-10 FILE` and run experiments/cifar10-resnet-norms.yaml on;
 *   node dist-dev/bench/cifar-bench.js speed [--models study-resnet8,resnet20] [--steps 200] [--warmup 3]
 *                                            [--batch 128] [--backend wasm]
 *       s/epoch (wall and CPU, with the load average) of ResNets with BatchNorm on full-size shapes
 *       (50,000 x 32x32x3 train, 10,000 test): --steps training steps measured, extrapolated to the
 *       steps of one epoch (50,000 / batch), plus the evaluation of 10,000 test images.
 */
import { statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { runConfig, type BackendName } from '../framework/config/index.js';
import { FloatRows } from '../framework/data/index.js';
import { buildModel } from '../framework/model/index.js';
import { evaluate, FastGraph, initBackend, makeOptimizer, TrainGraph } from '../framework/train/index.js';
import * as tf from '@tensorflow/tfjs-core';
import { cifarFiles, writeCifarArchive } from '../test-support/cifar-archive.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
}

async function archive(file: string): Promise<void> {
  const train = Number(arg('train', '50000'));
  const test = Number(arg('test', '10000'));
  if (train % 5 !== 0) throw new Error('--train must be a multiple of 5 (five train batches)');
  const t0 = performance.now();
  await writeCifarArchive(file, cifarFiles({ perBatch: train / 5, test }));
  console.log(`wrote ${file}: ${train} train / ${test} test images, ${(statSync(file).size / 1e6).toFixed(1)} MB, in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/** The ResNets measured: the study's (experiments/cifar10-resnet-norms.yaml) and He et al.'s CIFAR widths. */
const MODELS: Record<string, { blocks: number; filters: number[] }> = {
  'study-resnet8': { blocks: 1, filters: [8, 16, 32] },
  resnet8: { blocks: 1, filters: [16, 32, 64] },
  resnet20: { blocks: 3, filters: [16, 32, 64] },
};

const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');
const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const hours = (s: number): string => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : `${(s / 60).toFixed(1)} min`);

/**
 * s/epoch of each model on 50,000 x 32x32x3 train + 10,000 test: `--steps` training steps of the
 * training loop's own kind (the fast path when every layer has a kernel, else the tf engine with the
 * study's optimizer, SGD + momentum + weight decay), timed in wall and CPU seconds after warm-up,
 * times the steps of an epoch, plus the evaluation of 1,000 test images times 10.
 */
async function speed(): Promise<void> {
  const backend = arg('backend', 'wasm') as BackendName;
  const info = await initBackend(backend);
  const batch = Number(arg('batch', '128'));
  const steps = Number(arg('steps', '200'));
  const warmup = Number(arg('warmup', '3'));
  const [nTrain, nTest] = [50000, 10000];
  const stepsPerEpoch = Math.ceil(nTrain / batch);
  const f = 32 * 32 * 3;
  // A few distinct batches of pixel-like values cycled through: speed does not depend on the values.
  const pool = 4;
  const rng = (i: number) => ((i * 2654435761) % 1000) / 1000 - 0.5;
  const xs = Array.from({ length: pool }, (_, k) => Float32Array.from({ length: batch * f }, (_, i) => rng(i + k * 7919)));
  const ys = Array.from({ length: pool }, (_, k) => Uint8Array.from({ length: batch }, (_, i) => (i + k) % 10));
  console.log(`cores ${cpus().length}, backend ${info.name}, batch ${batch}, ${steps} measured steps (+${warmup} warm-up) per model, load average ${load()} (1, 5, 15 min)`);
  for (const name of arg('models', 'study-resnet8,resnet20').split(',')) {
    const spec = MODELS[name];
    if (!spec) throw new Error(`unknown model ${name}: expected ${Object.keys(MODELS).join(', ')}`);
    const cfg = runConfig(
      {
        model: { type: 'resnet', norm: 'batch', resnet: { blocks: spec.blocks, filters: spec.filters } },
        train: { batch_size: batch, optimizer: { type: 'sgd', lr: 0.05, momentum: 0.9, weight_decay: 0.0005 }, backend },
      },
      1,
    );
    const model = buildModel(cfg.model, [32, 32, 3], 10, 1);
    const fast = info.name === 'wasm' ? FastGraph.compile(model, { rows: batch, optimizer: cfg.train.optimizer }) : null;
    const graph = fast ? null : new TrainGraph(model);
    const optimizer = makeOptimizer(cfg.train.optimizer);
    const ctx = { training: true, dropoutRng: () => 0.5 };
    const step = (s: number): void => {
      const [x, y] = [xs[s % pool]!, ys[s % pool]!];
      if (fast) {
        for (let r = 0; r < batch; r++) fast.setRow(r, x, r * f);
        fast.step(batch, y, 0.05, ctx);
        return;
      }
      tf.tidy(() => {
        const st = graph!.step(tf.tensor(x, [batch, 32, 32, 3]), y, ctx);
        optimizer.minimize(graph!.params, st.backprop, 0.05);
      });
    };
    for (let s = 0; s < warmup; s++) step(s);
    const loadBefore = load();
    const [w0, c0] = [performance.now(), cpuSeconds()];
    for (let s = 0; s < steps; s++) step(s);
    const wallStep = (performance.now() - w0) / 1000 / steps;
    const cpuStep = (cpuSeconds() - c0) / steps;
    if (fast) fast.syncState();
    else graph!.syncState();
    const test = new FloatRows(Float32Array.from({ length: 1000 * f }, (_, i) => rng(i)), new Uint8Array(1000), f);
    const [e0, ec0] = [performance.now(), cpuSeconds()];
    evaluate(model, test, [32, 32, 3], 250);
    const evalWall = ((performance.now() - e0) / 1000) * (nTest / 1000);
    const evalCpu = (cpuSeconds() - ec0) * (nTest / 1000);
    const epochWall = wallStep * stepsPerEpoch + evalWall;
    const epochCpu = cpuStep * stepsPerEpoch + evalCpu;
    console.log(
      `ResNet-${6 * spec.blocks + 2} ${spec.filters.join('/')} + BatchNorm (${name}, ${fast ? 'fast path' : 'tf engine'}): ` +
        `${wallStep.toFixed(3)} s/step wall, ${cpuStep.toFixed(3)} CPU (${(batch / wallStep).toFixed(0)} images/s); eval ${evalWall.toFixed(1)} s wall per 10k -> ` +
        `s/epoch (${stepsPerEpoch} steps + 10k eval): wall ${epochWall.toFixed(0)} (${hours(epochWall)}), CPU ${epochCpu.toFixed(0)} (${hours(epochCpu)}); ` +
        `load average ${loadBefore} -> ${load()}`,
    );
    optimizer.dispose();
    model.dispose();
  }
}

const [cmd, file] = process.argv.slice(2);
if (cmd === 'archive' && file) await archive(file);
else if (cmd === 'speed') await speed();
else {
  console.error('usage: cifar-bench archive FILE [--train N --test N] | speed [--models study-resnet8,resnet8,resnet20] [--steps 200] [--warmup 3] [--batch 128] [--backend wasm]');
  process.exitCode = 2;
}
