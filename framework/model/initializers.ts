/**
 * Weight initializers by name (names.ts INITIALIZERS), drawn in JavaScript from seeded streams so the
 * values do not depend on the backend. Each Dense/Conv2D layer gets its own integer seed derived from
 * rngFor(runSeed, 'init'), in layer order.
 *
 * Conventions (PyTorch's, since bnx compares with PyTorch studies): fan_in = in features, or
 * kh*kw*cin for a conv; normal draws are plain (not truncated) normals.
 *   pytorch        kernel and bias U(-1/sqrt(fan_in), +1/sqrt(fan_in))  (nn.Linear / nn.Conv2d default)
 *   glorot_uniform U(+-sqrt(6/(fan_in+fan_out))), bias 0
 *   glorot_normal  N(0, 2/(fan_in+fan_out)), bias 0
 *   he_uniform     U(+-sqrt(6/fan_in)), bias 0
 *   he_normal      N(0, 2/fan_in), bias 0
 *   lecun_normal   N(0, 1/fan_in), bias 0
 */
import type { InitializerName } from '../config/index.js';
import { rngFor, type Rng } from '../util/random.js';

export interface Fans {
  fanIn: number;
  fanOut: number;
}

export interface InitValues {
  kernel: Float32Array;
  bias: Float32Array;
}

type Init = (kernelSize: number, biasSize: number, fans: Fans, rng: Rng) => InitValues;

function uniform(n: number, bound: number, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * rng() - 1) * bound;
  return out;
}

function normal(n: number, std: number, rng: Rng): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    // Box-Muller; 1 - rng() is in (0, 1] so the log is finite.
    const r = Math.sqrt(-2 * Math.log(1 - rng()));
    const t = 2 * Math.PI * rng();
    out[i] = r * Math.cos(t) * std;
    if (i + 1 < n) out[i + 1] = r * Math.sin(t) * std;
  }
  return out;
}

const zeroBias =
  (kernel: (n: number, f: Fans, rng: Rng) => Float32Array): Init =>
    (k, b, f, rng) => ({ kernel: kernel(k, f, rng), bias: new Float32Array(b) });

export const INITIALIZER_FNS: Record<InitializerName, Init> = {
  pytorch: (k, b, f, rng) => {
    const bound = 1 / Math.sqrt(f.fanIn);
    return { kernel: uniform(k, bound, rng), bias: uniform(b, bound, rng) };
  },
  glorot_uniform: zeroBias((n, f, rng) => uniform(n, Math.sqrt(6 / (f.fanIn + f.fanOut)), rng)),
  glorot_normal: zeroBias((n, f, rng) => normal(n, Math.sqrt(2 / (f.fanIn + f.fanOut)), rng)),
  he_uniform: zeroBias((n, f, rng) => uniform(n, Math.sqrt(6 / f.fanIn), rng)),
  he_normal: zeroBias((n, f, rng) => normal(n, Math.sqrt(2 / f.fanIn), rng)),
  lecun_normal: zeroBias((n, f, rng) => normal(n, Math.sqrt(1 / f.fanIn), rng)),
};

/** One integer seed per weight layer, in order, from the run seed. */
export function layerSeeds(runSeed: number, count: number): number[] {
  const rng = rngFor(runSeed, 'init');
  return Array.from({ length: count }, () => Math.floor(rng() * 2 ** 31));
}

export function initValues(name: InitializerName, kernelSize: number, biasSize: number, fans: Fans, layerSeed: number): InitValues {
  return INITIALIZER_FNS[name](kernelSize, biasSize, fans, rngFor(layerSeed, 'layer-init'));
}
