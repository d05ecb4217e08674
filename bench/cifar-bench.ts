/**
 * `npm run bench:cifar`: CIFAR-10-shaped work without the real CIFAR-10 (no internet here).
 *
 *   node dist-dev/bench/cifar-bench.js archive FILE [--train 50000 --test 10000]
 *       writes a made-up cifar-10-binary.tar.gz in the official format (test-support/cifar-archive.ts),
 *       to `bnx data import cifar-10 FILE` and run experiments/cifar10-resnet-norms.yaml on;
 *   node dist-dev/bench/cifar-bench.js speed [--blocks 1,3] [--steps 30] [--batch 128] [--backend wasm]
 *       s/epoch of ResNet-(6n+2) with BatchNorm on full-size shapes (50,000 x 32x32x3): the median
 *       wall time of a training step (batches of real 32x32x3 pixels, after warm-up steps), times the
 *       steps of one epoch (50,000 / batch), plus the evaluation of 10,000 test images, measured.
 */
import { statSync } from 'node:fs';
import { runConfig, type BackendName } from '../framework/config/index.js';
import { buildModel } from '../framework/model/index.js';
import { evaluate, initBackend, TrainGraph } from '../framework/train/index.js';
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

async function speed(): Promise<void> {
  const backend = arg('backend', 'wasm') as BackendName;
  const info = await initBackend(backend);
  const batch = Number(arg('batch', '128'));
  const steps = Number(arg('steps', '30'));
  const [nTrain, nTest] = [50000, 10000];
  for (const blocks of arg('blocks', '1,3').split(',').map(Number)) {
    const cfg = runConfig({ model: { type: 'resnet', norm: 'batch', resnet: { blocks } }, train: { batch_size: batch, optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 }, backend } }, 1);
    const model = buildModel(cfg.model, [32, 32, 3], 10, 1);
    const graph = new TrainGraph(model);
    const x = Float32Array.from({ length: batch * 3072 }, (_, i) => ((i * 2654435761) % 1000) / 1000 - 0.5);
    const y = Uint8Array.from({ length: batch }, (_, i) => i % 10);
    const times: number[] = [];
    const ctx = { training: true, dropoutRng: () => 0.5 };
    for (let s = 0; s < steps + 3; s++) {
      const t0 = performance.now();
      tf.tidy(() => {
        const grads = graph.gradients(tf.tensor(x, [batch, 32, 32, 3]), y, ctx).grads;
        // The optimizer's work is small next to the backward; a plain SGD update keeps the step honest.
        graph.params.forEach((p, i) => p.assign(tf.sub(p, tf.mul(grads[i]!, 0.001))));
      });
      if (s >= 3) times.push((performance.now() - t0) / 1000);
    }
    times.sort((a, b) => a - b);
    const step = times[Math.floor(times.length / 2)]!;
    graph.syncState();
    const testX = new Float32Array(1000 * 3072).fill(0.1);
    const te = performance.now();
    evaluate(model, testX, new Uint8Array(1000), 1000, [32, 32, 3], 250);
    const evalSeconds = ((performance.now() - te) / 1000) * (nTest / 1000);
    const epoch = step * Math.ceil(nTrain / batch) + evalSeconds;
    console.log(
      `ResNet-${6 * blocks + 2} (BatchNorm) on ${info.name}, batch ${batch}: ${step.toFixed(3)} s/step (median of ${steps}), ` +
        `${(batch / step).toFixed(0)} images/s, eval ${evalSeconds.toFixed(1)} s per 10k -> ${epoch.toFixed(0)} s/epoch (${(epoch / 60).toFixed(1)} min) on 50,000 x 32x32x3`,
    );
    model.dispose();
  }
}

const [cmd, file] = process.argv.slice(2);
if (cmd === 'archive' && file) await archive(file);
else if (cmd === 'speed') await speed();
else {
  console.error('usage: cifar-bench archive FILE [--train N --test N] | speed [--blocks 1,3] [--steps 30] [--batch 128] [--backend wasm]');
  process.exitCode = 2;
}
