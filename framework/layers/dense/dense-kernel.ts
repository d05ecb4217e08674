/**
 * The first Dense layer's two big products on the wasm backend, in a small WebAssembly SIMD module of
 * our own. Source: dense-kernel.wat beside this file (4-row x 8-column tiles, unrolled); after editing
 * it: `npx -p wabt@1.0.39 wat2wasm dense-kernel.wat -o /tmp/k.wasm && base64 -w0 /tmp/k.wasm` into
 * WASM_BASE64 (dense-kernel.test.ts checks the result against tf bit for bit).
 *
 * Why: tfjs-wasm hands matMul to XNNPACK, which caches an operator with the PACKED right-hand matrix
 * keyed by that tensor's id. Weights change every step, so every step repacks the 784x64 kernel
 * (~150 us of ~360 us for x @ W at batch 64), and the weight gradient needs an explicit transpose of
 * x (~40 us) plus a matMul (~240 us). These loops read W in its natural [K, N] layout (no packing) and
 * x^T by strides (no transpose): ~195 us and ~160 us. They accumulate as XNNPACK's wasm-simd gemm
 * does (bias first, then k ascending; separate mul and add, no FMA): the results are bit-identical to
 * the tf path (checked in dense-kernel.test.ts), so switching paths changes no metric.
 * Inputs are read in place on the tfjs-wasm heap (framework/tfjs/wasm.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { heapView as view, wasmHeapAvailable } from '../../tfjs/index.js';

const WASM_BASE64 = 'AGFzbQEAAAABFQJgCH9/f39/f39/AGAGf39/f39/AAMDAgABBQMBAEAHFQMDbWVtAgADZndkAAAFd2dyYWQAAQqKCgLDBQIIfw17IAVBAnQhDiAGQQJ0IQ9BACEIAkADQCAIIARPDQFBACEJAkADQCAJIAZPDQEgAiAJQQJ0av0ABAAhEyACIAlBAnRq/QAEECEUIBMhFSAUIRYgEyEXIBQhGCATIRkgFCEaIBMhGyAUIRwgACAIIA5saiELIAEgCUECdGohDCAFIQoCQANAIApFDQEgDP0ABAAhECAM/QAEECERIAsgDkEAbGr9CQIAIRIgFSASIBD95gH95AEhFSAWIBIgEf3mAf3kASEWIAsgDkEBbGr9CQIAIRIgFyASIBD95gH95AEhFyAYIBIgEf3mAf3kASEYIAsgDkECbGr9CQIAIRIgGSASIBD95gH95AEhGSAaIBIgEf3mAf3kASEaIAsgDkEDbGr9CQIAIRIgGyASIBD95gH95AEhGyAcIBIgEf3mAf3kASEcIAtBBGohCyAMIA9qIQwgCkEBayEKDAALCyAHBEAgFf0MAAAAAAAAAAAAAAAAAAAAAP3pASEVIBb9DAAAAAAAAAAAAAAAAAAAAAD96QEhFiAX/QwAAAAAAAAAAAAAAAAAAAAA/ekBIRcgGP0MAAAAAAAAAAAAAAAAAAAAAP3pASEYIBn9DAAAAAAAAAAAAAAAAAAAAAD96QEhGSAa/QwAAAAAAAAAAAAAAAAAAAAA/ekBIRogG/0MAAAAAAAAAAAAAAAAAAAAAP3pASEbIBz9DAAAAAAAAAAAAAAAAAAAAAD96QEhHAsgAyAIIAZsIAlqQQJ0aiENIA0gD0EAbGogFf0LBAAgDSAPQQBsaiAW/QsEECANIA9BAWxqIBf9CwQAIA0gD0EBbGogGP0LBBAgDSAPQQJsaiAZ/QsEACANIA9BAmxqIBr9CwQQIA0gD0EDbGogG/0LBAAgDSAPQQNsaiAc/QsEECAJQQhqIQkMAAsLIAhBBGohCAwACwsLwgQCCH8LeyAEQQJ0IQwgBUECdCENQQAhBgJAA0AgBiAETw0BQQAhBwJAA0AgByAFTw0B/QwAAAAAAAAAAAAAAAAAAAAAIRH9DAAAAAAAAAAAAAAAAAAAAAAhEv0MAAAAAAAAAAAAAAAAAAAAACET/QwAAAAAAAAAAAAAAAAAAAAAIRT9DAAAAAAAAAAAAAAAAAAAAAAhFf0MAAAAAAAAAAAAAAAAAAAAACEW/QwAAAAAAAAAAAAAAAAAAAAAIRf9DAAAAAAAAAAAAAAAAAAAAAAhGCAAIAZBAnRqIQkgASAHQQJ0aiEKIAMhCAJAA0AgCEUNASAK/QAEACEOIAr9AAQQIQ8gCf0JAgAhECARIBAgDv3mAf3kASERIBIgECAP/eYB/eQBIRIgCf0JAgQhECATIBAgDv3mAf3kASETIBQgECAP/eYB/eQBIRQgCf0JAgghECAVIBAgDv3mAf3kASEVIBYgECAP/eYB/eQBIRYgCf0JAgwhECAXIBAgDv3mAf3kASEXIBggECAP/eYB/eQBIRggCSAMaiEJIAogDWohCiAIQQFrIQgMAAsLIAIgBiAFbCAHakECdGohCyALIA1BAGxqIBH9CwQAIAsgDUEAbGogEv0LBBAgCyANQQFsaiAT/QsEACALIA1BAWxqIBT9CwQQIAsgDUECbGogFf0LBAAgCyANQQJsaiAW/QsEECALIA1BA2xqIBf9CwQAIAsgDUEDbGogGP0LBBAgB0EIaiEHDAALCyAGQQRqIQYMAAsLCw==';

interface Exports {
  mem: WebAssembly.Memory;
  /** out[M,N] = x[M,K] @ w[K,N] + b (max(., 0) when relu); M % 4 == 0, N % 8 == 0. Byte offsets. */
  fwd(x: number, w: number, b: number, out: number, M: number, K: number, N: number, relu: number): void;
  /** g[K,N] = x[M,K]^T @ d[M,N]; K % 4 == 0, N % 8 == 0. Byte offsets. */
  wgrad(x: number, d: number, g: number, M: number, K: number, N: number): void;
}

let kernel: Exports | null | undefined;

/** The x whose data is in the module's memory (denseForward leaves it there for denseWeightGrad). */
let resident: tf.Tensor | null = null;

function load(): Exports | null {
  if (kernel !== undefined) return kernel;
  try {
    const bytes = Buffer.from(WASM_BASE64, 'base64');
    const mod = new WebAssembly.Module(bytes);
    kernel = new WebAssembly.Instance(mod, {}).exports as unknown as Exports;
  } catch {
    kernel = null; // no WebAssembly SIMD: the tf path is used
  }
  return kernel;
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
