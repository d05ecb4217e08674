/**
 * CIFAR-10 binary archives in the official format, made up (no real CIFAR-10 here): tests import
 * them, and `npm run bench:cifar -- archive FILE` (bench/cifar-bench.ts) writes one for users to import.
 *
 * The format (https://www.cs.toronto.edu/~kriz/cifar.html): cifar-10-batches-bin/ holds
 * data_batch_1..5.bin, test_batch.bin (records of 1 label byte + 1024 R + 1024 G + 1024 B bytes)
 * and batches.meta.txt. Images are learnable but not trivial: each class has its own mean colour and
 * stripe direction, under per-image noise, brightness and shift.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { create } from 'tar';

export const CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];
const PLANE = 1024;
const RECORD = 1 + 3 * PLANE;

/** One record: label, then the R, G and B planes. `pixel(i, c)` is pixel i (row-major) of channel c. */
export function cifarRecord(label: number, pixel: (i: number, c: number) => number): Uint8Array {
  const r = new Uint8Array(RECORD);
  r[0] = label;
  for (let c = 0; c < 3; c++) for (let i = 0; i < PLANE; i++) r[1 + c * PLANE + i] = pixel(i, c);
  return r;
}

/** `n` synthetic records, labels cycling 0..classes-1 (every class present). */
export function syntheticBatch(n: number, seed: number, classes = 10): Uint8Array {
  const rng = seedrandom(`cifar-synth-${seed}`);
  const out = new Uint8Array(n * RECORD);
  for (let k = 0; k < n; k++) {
    const label = k % classes;
    const hue = [(label * 97) % 256, (label * 53 + 80) % 256, (label * 151 + 40) % 256];
    const angle = (label * Math.PI) / classes;
    const [dx, dy] = [Math.cos(angle), Math.sin(angle)];
    const shift = rng() * 8;
    const gain = 0.6 + 0.4 * rng();
    out.set(
      cifarRecord(label, (i, c) => {
        const [y, x] = [Math.floor(i / 32), i % 32];
        const stripe = Math.sin(((x * dx + y * dy + shift) * Math.PI) / 4);
        const v = gain * (hue[c]! * 0.6 + 50 * stripe) + 40 + (rng() - 0.5) * 90;
        return Math.max(0, Math.min(255, Math.round(v)));
      }),
      k * RECORD,
    );
  }
  return out;
}

export interface ArchiveSpec {
  /** Records per train batch (5 batches) and in the test batch. */
  perBatch: number;
  test: number;
  seed?: number;
  classes?: number;
  /** Replace or drop files (undefined = drop), to make broken archives. */
  override?: Record<string, Uint8Array | undefined>;
}

/** The batch files of a synthetic archive, by name. */
export function cifarFiles(spec: ArchiveSpec): Record<string, Uint8Array | undefined> {
  const seed = spec.seed ?? 0;
  const classes = spec.classes ?? 10;
  const files: Record<string, Uint8Array | undefined> = {};
  for (let b = 1; b <= 5; b++) files[`data_batch_${b}.bin`] = syntheticBatch(spec.perBatch, seed * 10 + b, classes);
  files['test_batch.bin'] = syntheticBatch(spec.test, seed * 10 + 9, classes);
  files['batches.meta.txt'] = Buffer.from(`${CLASS_NAMES.slice(0, classes).join('\n')}\n\n`);
  return { ...files, ...spec.override };
}

/** Write `files` as the official archive does: a gzipped tar of cifar-10-batches-bin/. */
export async function writeCifarArchive(file: string, files: Record<string, Uint8Array | undefined>): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'bnx-cifar-archive-'));
  try {
    const dir = join(tmp, 'cifar-10-batches-bin');
    mkdirSync(dir);
    const names = Object.keys(files).filter((f) => files[f] !== undefined);
    for (const f of names) writeFileSync(join(dir, f), files[f]!);
    await create({ gzip: true, file, cwd: tmp, portable: true }, names.map((f) => `cifar-10-batches-bin/${f}`));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The batch files written into a folder (`dataset: { path }` takes one). */
export function writeCifarFolder(dir: string, files: Record<string, Uint8Array | undefined>): void {
  mkdirSync(dir, { recursive: true });
  for (const [f, bytes] of Object.entries(files)) if (bytes) writeFileSync(join(dir, f), bytes);
}
