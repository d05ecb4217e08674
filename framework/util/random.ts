import seedrandom from 'seedrandom';

/** A seeded generator of floats in [0, 1). Every random draw in bnx comes from one of these. */
export type Rng = () => number;

/** Derive an independent stream for one purpose (init, shuffle, dropout, split) from a run seed. */
export function rngFor(seed: number, purpose: string): Rng {
  const g = seedrandom(`bnx:${seed}:${purpose}`);
  return () => g.quick();
}

/** Fisher-Yates shuffle of 0..n-1 in place into `out` (reused across epochs to avoid allocation). */
export function permutation(n: number, rng: Rng, out: Uint32Array = new Uint32Array(n)): Uint32Array {
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}
