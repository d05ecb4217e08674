/**
 * 2D pooling kernels of the training engine (pooling.ts): windows of p x p with stride p and valid
 * padding (what bnx's conv blocks build), NHWC, on plain Float32Arrays.
 *
 * Why: the tf path records the pooling under a tape and runs tf's MaxPoolGrad, which costs 12-14 ms a
 * step on tfjs-wasm for the bench CNN's first pool (PyTorch: 0.2 ms). Max-pooling here keeps the
 * index of each window's maximum, so its backward is a scatter of dy into a zeroed dx.
 *
 * The maximum of a window is exact whichever kernel finds it. Its gradient goes to the first maximum
 * in row-major window order (a strict `>` scan), as in tfjs-cpu and PyTorch; windows do not overlap, so
 * every dx element is one dy or zero, bit for bit tfjs-cpu's MaxPoolGrad. tfjs-wasm's MaxPoolGrad
 * differs, and is wrong where a window's maximum is <= 0: it sends the gradient to the window's first
 * position even when that is not the maximum ([-2, -1, -1, -3] -> position 0), and among equal positive
 * maxima to the last one. Average pooling's gradient is dy times 1 / p^2 (float32 on wasm, float64 on
 * cpu, as each backend's AvgPoolGrad rounds). Both checked in pool-kernel.test.ts.
 *
 * Max-pooling runs in pool-kernel.wat (WebAssembly SIMD, four channels per vector; MaxPool below) when
 * the channels are a multiple of 4, else in the loops here. Same rule, same bits.
 */
import { kernelModule } from './kernel-memory.js';
import { WASM_BASE64 } from './pool-kernel.wasm.js';

export type Shape4 = readonly [number, number, number, number];

/** Output shape of p x p / stride p valid pooling over [n, h, w, c]. */
export const pooledShape = ([n, h, w, c]: Shape4, p: number): [number, number, number, number] => [n, Math.floor(h / p), Math.floor(w / p), c];

/**
 * y = max over each window; arg = the window position (u * p + v) of the first maximum, per output.
 * `arg` is reused between calls when its length fits (one allocation per shape, not per step).
 */
export function maxPoolForward(x: Float32Array, shape: Shape4, p: number, y: Float32Array, arg: Uint8Array): void {
  const [n, h, w, c] = shape;
  const [, oh, ow] = pooledShape(shape, p);
  const rowStride = w * c;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const base = (b * h + i * p) * rowStride + j * p * c;
        for (let ch = 0; ch < c; ch++, o++) {
          let best = -Infinity;
          let at = 0;
          for (let u = 0; u < p; u++) {
            const row = base + u * rowStride + ch;
            for (let v = 0; v < p; v++) {
              const val = x[row + v * c]!;
              if (val > best) {
                best = val;
                at = u * p + v;
              }
            }
          }
          y[o] = best;
          arg[o] = at;
        }
      }
    }
  }
}

/** dx of max-pooling: each dy to the input position its forward picked; zeros elsewhere. */
export function maxPoolBackward(dy: Float32Array, arg: Uint8Array, shape: Shape4, p: number, dx: Float32Array): void {
  const [n, h, w, c] = shape;
  const [, oh, ow] = pooledShape(shape, p);
  const rowStride = w * c;
  dx.fill(0);
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const base = (b * h + i * p) * rowStride + j * p * c;
        for (let ch = 0; ch < c; ch++, o++) {
          const at = arg[o]!;
          const u = (at / p) | 0;
          dx[base + u * rowStride + (at - u * p) * c + ch] = dy[o]!;
        }
      }
    }
  }
}

/**
 * dx of average pooling: dy / p^2 to every position of its window; zeros where no window reaches.
 * `f32`: the multiplier and product in float32 (tfjs-wasm's C++), else in float64 rounded once
 * (tfjs-cpu); the same for p = 2 (1/4 is exact).
 */
export function avgPoolBackward(dy: Float32Array, shape: Shape4, p: number, dx: Float32Array, f32: boolean): void {
  const [n, h, w, c] = shape;
  const [, oh, ow] = pooledShape(shape, p);
  const rowStride = w * c;
  // tf's AvgPoolGrad: the window's gradient sum (here one dy) times 1 / (window size)
  const scale = f32 ? Math.fround(1 / (p * p)) : 1 / (p * p);
  if (oh * p !== h || ow * p !== w) dx.fill(0);
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < oh; i++) {
      for (let j = 0; j < ow; j++) {
        const base = (b * h + i * p) * rowStride + j * p * c;
        for (let ch = 0; ch < c; ch++, o++) {
          const g = dy[o]! * scale; // exact in float64 for a float32 scale; rounded once on the store
          for (let u = 0; u < p; u++) {
            const row = base + u * rowStride + ch;
            for (let v = 0; v < p; v++) dx[row + v * c] = g;
          }
        }
      }
    }
  }
}

/** pool-kernel.wat's exports. */
export interface MaxPoolKernels {
  /** Byte offsets; C % 4 == 0. arg: i32 per output. */
  max_fwd(x: number, y: number, arg: number, B: number, H: number, W: number, C: number, p: number): void;
  /** y: 0, or the pooled outputs of a ReLU, whose backward it then applies too. */
  max_bwd(dy: number, arg: number, dx: number, B: number, H: number, W: number, C: number, p: number, y: number): void;
}

interface MaxPoolExports extends MaxPoolKernels {
  mem: WebAssembly.Memory;
}

let simd: MaxPoolExports | null | undefined;

function simdKernel(): MaxPoolExports | null {
  if (simd !== undefined) return simd;
  try {
    // a memory of its own (the fast path, pool-fast.ts, instantiates the module on the run's memory)
    const mem = new WebAssembly.Memory({ initial: 1 });
    const mod = kernelModule(WASM_BASE64);
    if (!mod) throw new Error('no WebAssembly SIMD');
    simd = { ...(new WebAssembly.Instance(mod, { env: { mem } }).exports as unknown as Omit<MaxPoolExports, 'mem'>), mem };
  } catch {
    simd = null; // no WebAssembly SIMD: the JavaScript loops above
  }
  return simd;
}

/** The module's memory as floats, grown to hold `floats`. */
function memory(k: MaxPoolExports, floats: number): Float32Array {
  const need = floats * 4 - k.mem.buffer.byteLength;
  if (need > 0) k.mem.grow(Math.ceil(need / 65536));
  return new Float32Array(k.mem.buffer);
}

/**
 * Max-pooling with the window positions of the maxima kept for the backward, in pool-kernel.wat (four
 * channels per SIMD vector) when C % 4 == 0 and WebAssembly SIMD is there, else in maxPoolForward.
 * Returns y (a view of the module's memory, valid until the next call: copy it out at once).
 */
export class MaxPool {
  private arg = new Int32Array(0);
  private args8 = new Uint8Array(0);
  private simd = false;
  constructor(private readonly p: number) {}

  forward(x: Float32Array, shape: Shape4): Float32Array {
    const out = pooledShape(shape, this.p);
    const m = out[0] * out[1] * out[2] * out[3];
    const k = shape[3] % 4 === 0 ? simdKernel() : null;
    this.simd = k !== null;
    if (!k) {
      if (this.args8.length !== m) this.args8 = new Uint8Array(m);
      const y = new Float32Array(m);
      maxPoolForward(x, shape, this.p, y, this.args8);
      return y;
    }
    const n = x.length;
    const f = memory(k, n + 2 * m);
    f.set(x, 0);
    k.max_fwd(0, n * 4, (n + m) * 4, shape[0], shape[1], shape[2], shape[3], this.p);
    if (this.arg.length !== m) this.arg = new Int32Array(m);
    this.arg.set(new Int32Array(k.mem.buffer, (n + m) * 4, m));
    return f.subarray(n, n + m);
  }

  /** dx for the last forward's shape (a view of the module's memory on the SIMD path: copy it out). */
  backward(dy: Float32Array, shape: Shape4): Float32Array {
    const n = shape[0] * shape[1] * shape[2] * shape[3];
    const k = simdKernel();
    if (!this.simd || !k) {
      const dx = new Float32Array(n);
      maxPoolBackward(dy, this.args8, shape, this.p, dx);
      return dx;
    }
    const m = dy.length;
    const f = memory(k, 2 * m + n);
    f.set(dy, 0);
    new Int32Array(k.mem.buffer, m * 4, m).set(this.arg);
    const dx = f.subarray(2 * m, 2 * m + n);
    const [, oh, ow] = pooledShape(shape, this.p);
    if (oh * this.p !== shape[1] || ow * this.p !== shape[2]) dx.fill(0);
    k.max_bwd(0, m * 4, 2 * m * 4, shape[0], shape[1], shape[2], shape[3], this.p, 0);
    return dx;
  }
}
