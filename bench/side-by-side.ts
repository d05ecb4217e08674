/**
 * `npm run bench` side by side with PyTorch: the same models trained by bnx (a child process per run,
 * bench-child.ts) and by PyTorch's fastest plain CPU loop (bench/torch_bench.py, one thread), back to
 * back and interleaved (bnx, PyTorch, bnx, PyTorch, ...), so both see the same load on a shared
 * machine. Compared: CPU seconds per epoch of the full 60k training set plus the 10k test evaluation
 * (subset cases extrapolated from their training CPU per image), one ratio bnx/PyTorch per pair, the
 * median over pairs. Also the seed study end to end: `bnx run` (startup to report) against PyTorch's
 * 6 runs in one process.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, steady, type ChildResult } from './bench-child.js';

export const PYTHON = '/usr/bin/python3';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SCRIPT = join(ROOT, 'bench/torch_bench.py');
const FULL_TRAIN = 60000;
const FULL_TEST = 10000;

/** PyTorch's version, or why it cannot be used. */
export function torchVersion(): { version: string } | { missing: string } {
  const r = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.error) return { missing: `${PYTHON} not found (${r.error.message})` };
  if (r.status !== 0) return { missing: `${PYTHON} has no torch (${r.stderr.trim().split('\n').pop()})` };
  return { version: r.stdout.trim() };
}

/** The full FashionMNIST split as bnx reads it, as raw bytes for torch_bench.py (same rows, same order). */
async function writeTorchData(dir: string): Promise<void> {
  const { fashionDataset } = await import('../framework/train/testing.js');
  const d = await fashionDataset();
  writeFileSync(join(dir, 'train-images.u8'), d.train.images);
  writeFileSync(join(dir, 'train-labels.u8'), d.train.labels);
  writeFileSync(join(dir, 'test-images.u8'), d.test.images);
  writeFileSync(join(dir, 'test-labels.u8'), d.test.labels);
}

interface TorchEpoch {
  train_cpu: number;
  eval_cpu: number;
  cpu: number;
  wall: number;
  test_accuracy: number;
}
interface TorchResult {
  torch: string;
  threads: number;
  blas: string;
  gemm_gflops: number;
  n_train: number;
  n_test: number;
  epochs: TorchEpoch[];
}

function runTorch(args: string[], threads = 1): TorchResult {
  // torch.set_num_threads does not reach OpenBLAS's own pool, whose idle threads spin (CPU time)
  const env = threads > 0 ? { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) } : process.env;
  const r = spawnSync(PYTHON, [SCRIPT, ...args, '--threads', String(threads)], { encoding: 'utf8', maxBuffer: 1 << 24, env });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('TORCH_RESULT '));
  if (!line) throw new Error(`torch_bench.py ${args.join(' ')} failed: ${(r.stderr || r.stdout || String(r.error)).trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(line.slice('TORCH_RESULT '.length)) as TorchResult;
}

/** CPU s/epoch of the full set: steady epochs' median training CPU per image x 60k, plus the 10k evaluation. */
function bnxFullEpochCpu(r: ChildResult): number {
  const train = median(steady(r.epochs).map((e) => e.cpu)) - r.evalCpu;
  return (train * FULL_TRAIN) / r.nTrain + (r.evalCpu * FULL_TEST) / r.nTest;
}
function torchFullEpochCpu(r: TorchResult): number {
  const s = steady(r.epochs);
  return (median(s.map((e) => e.train_cpu)) * FULL_TRAIN) / r.n_train + (median(s.map((e) => e.eval_cpu)) * FULL_TEST) / r.n_test;
}

export interface SideBySideOptions {
  /** PyTorch's version (torchVersion()). */
  torch: string;
  models: string[];
  pairs: number;
  epochs: number;
  /** Runs one bnx bench child (train-bench.ts). */
  bnx: (model: string, epochs: number) => ChildResult;
  study: boolean;
}

const fmt = (v: number, d = 2) => v.toFixed(d);
const range = (v: number[]) => `${fmt(Math.min(...v))}-${fmt(Math.max(...v))}`;

export async function sideBySide(o: SideBySideOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bnx-bench-'));
  try {
    await writeTorchData(dir);
    console.log(`\nbnx (wasm) vs PyTorch ${o.torch} (1 thread, tensors in memory, no DataLoader): CPU s/epoch of 60k train + 10k test,`);
    console.log(`${o.pairs} interleaved pairs per model (bnx then PyTorch), ${o.epochs} epochs per process (first = warm-up, excluded).`);
    console.log('model    bnx s/epoch  PyTorch s/epoch (layout)   ratio bnx/PyTorch (median; per pair)   bnx peak RSS  load avg (1 min)');
    let warned = false;
    for (const model of o.models) {
      const pairs: { bnx: number; torch: number; layout: string; rss: number; load: number }[] = [];
      for (let p = 0; p < o.pairs; p++) {
        const load = loadavg()[0]!;
        const b = o.bnx(model, o.epochs);
        const nTrain = String(b.nTrain);
        // the CNN in both memory formats; its fastest counts (NCHW is PyTorch's default, channels_last
        // its fastest on CPU here)
        const layouts = model === 'cnn' ? ['channels_last', 'nchw'] : ['nchw'];
        let best = { cpu: Infinity, layout: '' };
        for (const layout of layouts) {
          const t = runTorch(['--data', dir, '--model', model, '--layout', layout, '--train', nTrain, '--epochs', String(o.epochs)]);
          const cpu = torchFullEpochCpu(t);
          if (t.blas === 'reference' && !warned) {
            warned = true;
            console.log(`warning: PyTorch runs on the reference BLAS (${fmt(t.gemm_gflops, 1)} GFLOP/s), ~10x slower than OpenBLAS: the ratios flatter bnx (Debian: apt-get install libopenblas0-pthread)`);
          }
          if (cpu < best.cpu) best = { cpu, layout };
        }
        pairs.push({ bnx: bnxFullEpochCpu(b), torch: best.cpu, layout: best.layout, rss: b.peakRssMb, load });
      }
      const ratios = pairs.map((p) => p.bnx / p.torch);
      const layouts = [...new Set(pairs.map((p) => p.layout))].join('/');
      console.log(
        [
          model.padEnd(8),
          fmt(median(pairs.map((p) => p.bnx))).padStart(11),
          `${fmt(median(pairs.map((p) => p.torch)))} (${layouts})`.padStart(26),
          `${fmt(median(ratios))}; ${ratios.map((r) => fmt(r)).join(' ')}`.padStart(40),
          `${fmt(median(pairs.map((p) => p.rss)), 0)} MB`.padStart(13),
          range(pairs.map((p) => p.load)).padStart(17),
        ].join('  '),
      );
    }
    if (o.study) studyEndToEnd(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The seed study end to end: `bnx run` in a scratch folder (fresh tracking store) vs PyTorch's 6 runs. */
function studyEndToEnd(dataDir: string): void {
  const work = join(dataDir, 'study');
  mkdirSync(work);
  const load = loadavg()[0]!;
  const bnx = [process.execPath, join(ROOT, 'dist/framework/cli/main.js'), 'run', join(ROOT, 'experiments/bn-vs-baseline.yaml'), '--tracking-uri', join(work, 'mlruns')];
  // through torch_bench.py --measure: Node cannot read its descendants' peak RSS, Python can
  const r = spawnSync(PYTHON, [SCRIPT, '--measure', ...bnx], {
    cwd: work,
    encoding: 'utf8',
    maxBuffer: 1 << 24,
    env: { ...process.env, BNX_OFFLINE: '1', BNX_SPOOL_DIR: join(work, 'spool') },
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('TORCH_RESULT '));
  const m = line ? (JSON.parse(line.slice('TORCH_RESULT '.length)) as { status: number; wall: number; max_rss_mb: number; stderr: string }) : null;
  if (!m || m.status !== 0) {
    console.log(`seed study: bnx run failed (exit ${m?.status ?? r.status}): ${(m?.stderr ?? r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}`);
    return;
  }
  const bnxWall = m.wall;
  // wall time as seen from here: python's start and torch's import count, as bnx's startup does
  const timed = (threads: number) => {
    const t0 = performance.now();
    const res = runTorch(['--data', dataDir, '--study'], threads);
    return { wall: (performance.now() - t0) / 1000, threads: res.threads };
  };
  // one thread: PyTorch's fastest setting for these small models (OpenBLAS's extra threads only spin)
  const one = timed(1);
  console.log(
    `\nseed study end to end (6 runs x 5 epochs), wall: bnx run ${fmt(bnxWall, 1)} s (default --jobs, startup to report, load ${fmt(load)}); ` +
      `PyTorch's 6 runs in one process ${fmt(one.wall, 1)} s (1 thread, load ${fmt(loadavg()[0]!)}); ratio ${fmt(bnxWall / one.wall)}. ` +
      `Peak RSS of bnx's largest process (a training job): ${fmt(m.max_rss_mb, 0)} MB`,
  );
}
