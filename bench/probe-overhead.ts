/**
 * `npm run bench:probes`: what probes every epoch cost. The seed study's MLP (784-64-32-10, SGD lr
 * 0.001, batch 64) and the same with BatchNorm, on the full FashionMNIST (60k), trained 3 epochs
 * without probes and with `probes: { every: epoch }` (4 probes per run: the initial model and after
 * each epoch), in alternating order. Reported per model: CPU seconds and wall seconds of each
 * training (median of the repeats), the overhead (probed / plain - 1), the cost of one probe measured
 * directly, and whether the per-epoch metrics were bit-identical (they must be).
 *
 *   node dist-dev/bench/probe-overhead.js [--repeats 2] [--epochs 3]
 */
import { runConfig } from '../framework/config/index.js';
import { initBackend, trainModel, Prober, TrainGraph, type ProbeRecord } from '../framework/train/index.js';
import { fashionFull } from '../framework/train/testing.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const repeats = arg('repeats', 2);
const epochs = arg('epochs', 3);
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)]!;

const backend = await initBackend('wasm');
const data = await fashionFull();
console.log(`probe overhead: wasm, full FashionMNIST (${data.train.n} train), ${epochs} epochs, ${repeats} repeats, probes every epoch`);
console.log('model    plain cpu s  probed cpu s  overhead(cpu)  plain wall s  probed wall s  overhead(wall)  one probe ms  probes/run  identical');
for (const [name, norm] of [['mlp', 'none'], ['mlp-bn', 'batch']] as const) {
  const cfg = runConfig({ model: { norm }, train: { epochs, batch_size: 64, optimizer: { type: 'sgd', lr: 0.001 }, backend: 'wasm' } }, 1);
  const plain: { cpu: number; wall: number }[] = [];
  const probed: { cpu: number; wall: number }[] = [];
  let identical = true;
  let count = 0;
  let reference: string | null = null;
  for (let r = 0; r < repeats; r++) {
    for (const withProbes of r % 2 ? [true, false] : [false, true]) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const recs: ProbeRecord[] = [];
      const out = await trainModel(cfg, data, { backend, ...(withProbes ? { probes: { every: 'epoch' as const }, onProbe: (p) => recs.push(p) } : {}) });
      const wall = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      (withProbes ? probed : plain).push({ cpu: (c.user + c.system) / 1e6, wall });
      const figures = JSON.stringify(out.epochs.map(({ seconds: _s, ...m }) => m));
      if (reference === null) reference = figures;
      else if (figures !== reference) identical = false;
      if (withProbes) count = recs.length;
      out.model.dispose();
    }
  }
  // one probe, timed directly on a fresh model (the same work measure() does inside training)
  const { buildModel } = await import('../framework/model/index.js');
  const model = buildModel(cfg.model, data.inputShape, data.numClasses, 1);
  const prober = new Prober(model, new TrainGraph(model), data, 1, { every: 'epoch' }, 64);
  prober.measure(0, 0, 0.001);
  const t = performance.now();
  for (let i = 0; i < 5; i++) prober.measure(i + 1, 0, 0.001);
  const oneMs = (performance.now() - t) / 5;
  model.dispose();
  const pc = median(plain.map((x) => x.cpu));
  const qc = median(probed.map((x) => x.cpu));
  const pw = median(plain.map((x) => x.wall));
  const qw = median(probed.map((x) => x.wall));
  const pct = (a: number, b: number) => `${(((b / a) - 1) * 100).toFixed(1)}%`;
  console.log(
    [
      name.padEnd(8),
      pc.toFixed(2).padStart(11),
      qc.toFixed(2).padStart(13),
      pct(pc, qc).padStart(14),
      pw.toFixed(2).padStart(13),
      qw.toFixed(2).padStart(14),
      pct(pw, qw).padStart(15),
      oneMs.toFixed(1).padStart(13),
      String(count).padStart(11),
      String(identical).padStart(10),
    ].join(' '),
  );
}
console.log('Direct figure: (probes/run x one probe) / plain wall time is the overhead without the noise of a shared machine.');
