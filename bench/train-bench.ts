/**
 * `npm run bench`: training speed of the bnx engine, on real FashionMNIST.
 *
 * Default: when /usr/bin/python3 has torch, bnx (wasm) side by side with PyTorch's best single-thread
 * loop on the same models, interleaved, with CPU-time ratios and the load average (side-by-side.ts),
 * and the seed study end to end; without torch, a message and the per-backend table.
 *
 * `--table`: per backend and model, each in its own child process (clean backend state, its own peak
 * RSS), trained with trainModel exactly as `bnx run` does: median wall-clock s/epoch (training +
 * evaluation on the 10k test set), the training-only part, median CPU s/epoch (less sensitive to other
 * processes on a shared machine), training images/s, and peak RSS. The first epoch is reported
 * separately (warm-up) and excluded from the medians. The CNN, and every model on the cpu backend,
 * train on a subset; their full-set s/epoch is extrapolated from images/s.
 *
 *   node dist-dev/bench/train-bench.js [--models mlp,mlp-bn,mlp-ln,cnn] [--pairs 3] [--epochs 3] [--no-study]
 *   node dist-dev/bench/train-bench.js --table [--backends wasm,cpu] [--models mlp,mlp-bn,cnn] [--epochs 4]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BackendName } from '../framework/config/index.js';
import { benchChild, median, RESULT_TAG, steady, type ChildResult } from './bench-child.js';
import { sideBySide, torchVersion } from './side-by-side.js';

const SELF = fileURLToPath(import.meta.url);

/** One case in a fresh child process; its result, or why it failed. */
function spawnCase(backend: BackendName, model: string, epochs: number): ChildResult | { error: string } {
  const r = spawnSync(process.execPath, [SELF, '--child', model, '--backend', backend, '--epochs', String(epochs)], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith(RESULT_TAG));
  if (!line) return { error: (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ') };
  return JSON.parse(line.slice(RESULT_TAG.length)) as ChildResult;
}

function parseArgs(argv: string[]): Record<string, string> {
  const a: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i]!.startsWith('--')) continue;
    const next = argv[i + 1];
    a[argv[i]!.slice(2)] = next !== undefined && !next.startsWith('--') ? next : '';
  }
  return a;
}

function table(backends: BackendName[], models: string[], epochs: number): void {
  console.log(`bnx train bench: batch 64, SGD, ${epochs} epochs per case (first = warm-up), node ${process.versions.node}`);
  console.log('backend  model    train imgs  s/epoch(wall)  train-only  s/epoch(cpu)  imgs/s   full-60k s/epoch  1st epoch  peak RSS  test acc');
  for (const backend of backends) {
    for (const model of models) {
      // the cpu backend is ~20x slower: fewer epochs keep the bench short
      const res = spawnCase(backend, model, backend === 'cpu' ? Math.min(epochs, 3) : epochs);
      if ('error' in res) {
        console.log(`${backend.padEnd(8)} ${model.padEnd(8)} failed: ${res.error}`);
        continue;
      }
      const wall = median(steady(res.epochs).map((m) => m.wall));
      const cpu = median(steady(res.epochs).map((m) => m.cpu));
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

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.child !== undefined) return benchChild(args.backend as BackendName, args.child, Number(args.epochs));
  const list = (v: string | undefined, d: string) => (v || d).split(',');
  const torch = args.table === undefined ? torchVersion() : null;
  if (!torch || 'missing' in torch) {
    if (torch && 'missing' in torch) console.log(`PyTorch side by side skipped: ${torch.missing}. (Debian: apt-get install python3-torch)\n`);
    return table(list(args.backends, 'wasm,cpu') as BackendName[], list(args.models, 'mlp,mlp-bn,cnn'), Number(args.epochs || 4));
  }
  await sideBySide({
    torch: torch.version,
    models: list(args.models, 'mlp,mlp-bn,mlp-ln,cnn'),
    pairs: Number(args.pairs || 3),
    epochs: Number(args.epochs || 3),
    study: args['no-study'] === undefined,
    bnx: (model, epochs) => {
      const r = spawnCase('wasm', model, epochs);
      if ('error' in r) throw new Error(`bnx ${model} failed: ${r.error}`);
      return r;
    },
  });
}

await main();
