/**
 * The first Dense layer's two big products on the wasm backend, in a small WebAssembly SIMD module of
 * our own. Source: dense-kernel.wat beside this file (4-row x 8-column tiles, unrolled); after editing
 * it, `npm run kernels` regenerates dense-kernel.wasm.ts (dense-kernel.test.ts checks the results
 * against tf bit for bit). The same module runs the dense layers of the wasm fast path
 * (dense-fast.ts), there on the run's one memory.
 *
 * Why: tfjs-wasm hands matMul to XNNPACK, which caches an operator with the PACKED right-hand matrix
 * keyed by that tensor's id. Weights change every step, so every step repacks the 784x64 kernel
 * (~150 us of ~360 us for x @ W at batch 64), and the weight gradient needs an explicit transpose of
 * x (~40 us) plus a matMul (~240 us). These loops read W in its natural [K, N] layout (no packing) and
 * x^T by strides (no transpose): ~195 us and ~160 us. They accumulate as XNNPACK's wasm-simd gemm
 * does (bias first, then k ascending; separate mul and add, no FMA): the results are bit-identical to
 * the tf path (checked in dense-kernel.test.ts), so switching paths changes no metric.
 * Inputs are read in place on the tfjs-wasm heap (framework/tfjs/wasm.ts). The conv2d family's filter
 * gradient (conv2d/conv-kernel.ts) runs its im2col product in this same module (gemmInstance).
 */
import * as tf from '@tensorflow/tfjs-core';
import { heapView as view, wasmHeapAvailable } from '../../tfjs/index.js';
import { kernelModule } from '../kernel-memory.js';
import { WASM_BASE64 } from './dense-kernel.wasm.js';

export interface DenseKernels {
  /** out[M,N] = x[M,K] @ w[K,N] + b (max(., 0) when relu); M % 4 == 0, N % 8 == 0. Byte offsets. */
  fwd(x: number, w: number, b: number, out: number, M: number, K: number, N: number, relu: number): void;
  /** g[K,N] = x[M,K]^T @ d[M,N]; K % 4 == 0, N % 8 == 0. Byte offsets. */
  wgrad(x: number, d: number, g: number, M: number, K: number, N: number): void;
  /** wgrad, skipping rows whose 4 inputs of a k-block are all zero (same bits); rows: M i32 of scratch. */
  wgrad_skip(x: number, d: number, g: number, M: number, K: number, N: number, rows: number): void;
  /** out[N] = column sums of d[M,N] (rows ascending); N % 4 == 0. */
  colsum(d: number, out: number, M: number, N: number): void;
  /** wt[N,K] = w[K,N]^T. */
  transpose(w: number, wt: number, K: number, N: number): void;
}

interface Exports extends DenseKernels {
  mem: WebAssembly.Memory;
}

let kernel: Exports | null | undefined;

/** The x whose data is in the module's memory (denseForward leaves it there for denseWeightGrad). */
let resident: tf.Tensor | null = null;

function load(): Exports | null {
  if (kernel !== undefined) return kernel;
  try {
    const mod = kernelModule(WASM_BASE64);
    if (!mod) throw new Error('no WebAssembly SIMD');
    // this module's own memory (the fast path instantiates the same module on the run's memory)
    const mem = new WebAssembly.Memory({ initial: 64 });
    kernel = { ...(new WebAssembly.Instance(mod, { env: { mem } }).exports as unknown as DenseKernels), mem };
  } catch {
    kernel = null; // no WebAssembly SIMD: the tf path is used
  }
  return kernel;
}

/** The GEMM module on a memory of its own: other families' products (conv2d's im2col) run in one. */
export type GemmInstance = Exports;

/** A fresh instance of this module (its own memory), or null without WebAssembly SIMD. */
export function gemmInstance(): GemmInstance | null {
  const mod = kernelModule(WASM_BASE64);
  if (!mod) return null;
  const mem = new WebAssembly.Memory({ initial: 64 });
  return { ...(new WebAssembly.Instance(mod, { env: { mem } }).exports as unknown as DenseKernels), mem };
}

/** Whether the fast path applies: wasm backend, SIMD available, shapes the kernels handle. */
export function denseKernelFits(x: tf.Tensor, w: tf.Tensor): boolean {
  if (x.rank !== 2 || w.rank !== 2 || x.dtype !== 'float32') return false;
  const [m, k] = x.shape as [number, number];
  const n = w.shape[1]!;
  return wasmHeapAvailable() && m % 4 === 0 && k % 4 === 0 && n % 8 === 0 && load() !== null;
}

/** Float offsets of each buffer in the module's memory, grown on demand. */
function layout(m: number, k: number, n: number) {
  const ex = load()!;
  const x = 0;
  const w = x + m * k;
  const b = w + k * n;
  const out = b + n;
  const d = out + m * n;
  const g = d + m * n;
  const end = g + k * n;
  const need = end * 4 - ex.mem.buffer.byteLength;
  if (need > 0) ex.mem.grow(Math.ceil(need / 65536));
  return { ex, f: new Float32Array(ex.mem.buffer), x, w, b, out, d, g };
}

/**
 * x @ w + bias (then ReLU when asked), x [m, k]. x stays in the module's memory, so denseWeightGrad
 * of the same step does not copy it again.
 */
export function denseForward(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor | null, relu: boolean): tf.Tensor2D {
  const m = x.shape[0]!;
  const [k, n] = w.shape as [number, number];
  const L = layout(m, k, n);
  L.f.set(view(x), L.x);
  resident = x;
  L.f.set(view(w), L.w);
  if (bias) L.f.set(view(bias), L.b);
  else L.f.fill(0, L.b, L.b + n);
  L.ex.fwd(L.x * 4, L.w * 4, L.b * 4, L.out * 4, m, k, n, relu ? 1 : 0);
  return tf.tensor2d(L.f.subarray(L.out, L.out + m * n), [m, n]);
}

/** x^T @ dy, x [m, k], dy [m, n]. */
export function denseWeightGrad(x: tf.Tensor, dy: tf.Tensor): tf.Tensor2D {
  const [m, k] = x.shape as [number, number];
  const n = dy.shape[1]!;
  const L = layout(m, k, n);
  if (resident !== x) {
    L.f.set(view(x), L.x);
    resident = x;
  }
  L.f.set(view(dy), L.d);
  L.ex.wgrad(L.x * 4, L.d * 4, L.g * 4, m, k, n);
  return tf.tensor2d(L.f.subarray(L.g, L.g + k * n), [k, n]);
}
