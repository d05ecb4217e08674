/**
 * The filter gradient of a stride-1 'same' Conv2D on the wasm backend as im2col + GEMM: the patches
 * and the row reordering of dy in conv-kernel.wat, the product in the dense family's GEMM
 * (dense/dense-kernel.ts), both modules on one memory. dL/dW[K, N] = cols^T @ dy with cols [M, K]
 * the input patches (K = kh * kw * cin), one row per output position.
 *
 * Why: tfjs-wasm has no Conv2DBackpropFilter; the tf path (conv-grads.ts) computes it as a conv of
 * transposes whose "filter" is the whole dy image, 3-5 ms a step for each of the bench CNN's convs.
 *
 * Same bits: rows are ordered (h, w, b), the order in which XNNPACK sums that conv of transposes,
 * and the GEMM accumulates row by row in float32 (mul then add) as XNNPACK does, so the result is
 * bit-identical to conv2dFilterGradByConv (conv-kernel.test.ts). K is padded to a multiple of 4 with
 * zero columns and N to a multiple of 8 with zero columns of dy (the GEMM's tiles); the padded rows
 * and columns of the product are dropped.
 */
import * as tf from '@tensorflow/tfjs-core';
import { heapView, wasmHeapAvailable } from '../../tfjs/index.js';
import { gemmInstance, type GemmInstance } from '../dense/dense-kernel.js';
import { WASM_BASE64 } from './conv-kernel.wasm.js';

interface Im2col {
  /** Byte offsets (see conv-kernel.wat). */
  im2col_hwb(x: number, cols: number, B: number, H: number, W: number, C: number, kh: number, kw: number, Kp: number): void;
  rows_hwb(dy: number, d: number, B: number, H: number, W: number, N: number, Np: number): void;
}

let kernels: { gemm: GemmInstance; im2col: Im2col } | null | undefined;

function load(): typeof kernels {
  if (kernels !== undefined) return kernels;
  const gemm = gemmInstance();
  try {
    const mod = new WebAssembly.Module(Buffer.from(WASM_BASE64, 'base64'));
    kernels = gemm && { gemm, im2col: new WebAssembly.Instance(mod, { env: { mem: gemm.mem } }).exports as unknown as Im2col };
  } catch {
    kernels = null; // no WebAssembly SIMD: the tf path
  }
  return kernels;
}

const roundUp = (n: number, k: number): number => Math.ceil(n / k) * k;

/** Whether conv2dFilterGradGemm applies: wasm backend with its heap, WebAssembly SIMD. */
export function convKernelFits(x: tf.Tensor): boolean {
  return x.rank === 4 && x.dtype === 'float32' && wasmHeapAvailable() && load() != null;
}

/** dL/dfilter [kh, kw, cin, cout] of a stride-1 'same' conv of x [B, H, W, cin] with output gradient dy. */
export function conv2dFilterGradGemm(x: tf.Tensor4D, dy: tf.Tensor4D, filterShape: [number, number, number, number]): tf.Tensor4D {
  const { gemm, im2col } = load()!;
  const [B, H, W, C] = x.shape;
  const [kh, kw, , N] = filterShape;
  const M = B * H * W;
  const K = kh * kw * C;
  const Kp = roundUp(K, 4);
  const Np = roundUp(N, 8);
  // float offsets: x and dy copied in, the patches, dy's rows, the product (im2col_hwb may read 3
  // floats past x, here dy's copy, and write 3 past the patches, here dy's rows, written after it)
  const xs = 0;
  const dys = xs + x.size;
  const cols = roundUp(dys + dy.size, 4);
  const d = cols + M * Kp;
  const g = d + M * Np;
  const need = (g + Kp * Np) * 4 - gemm.mem.buffer.byteLength;
  if (need > 0) gemm.mem.grow(Math.ceil(need / 65536));
  const f = new Float32Array(gemm.mem.buffer);
  f.set(heapView(x), xs);
  f.set(heapView(dy), dys);
  im2col.im2col_hwb(xs * 4, cols * 4, B, H, W, C, kh, kw, Kp);
  im2col.rows_hwb(dys * 4, d * 4, B, H, W, N, Np);
  gemm.wgrad(cols * 4, d * 4, g * 4, M, Kp, Np);
  const out = new Float32Array(K * N);
  for (let r = 0; r < K; r++) out.set(f.subarray(g + r * Np, g + r * Np + N), r * N);
  return tf.tensor4d(out, filterShape);
}
