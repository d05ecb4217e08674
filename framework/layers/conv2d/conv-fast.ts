/**
 * Conv2D (stride 1, 'same', channels last) on the wasm fast path (fast-node.ts), as im2col + the dense
 * family's GEMM on the run's memory:
 *   forward  cols = the input's patches (conv-kernel.wat im2col_bhw, rows in NHWC order), out = cols @ W
 *            + b (ReLU fused when the engine says so): the output [B*H*W, cout] is the next layer's
 *            NHWC input as it lies;
 *   dW       cols^T @ dy from the forward's patches, rows summed in (h, w, b) order (wgrad_hwb);
 *   db       column sums of dy (rows in NHWC order, as tf.sum over [0, 1, 2]);
 *   dx       the conv of dy with the flipped filter (flip_filter), again im2col + GEMM.
 * Same order of sums as the tf engine's kernels (XNNPACK's igemm for the forward and the input
 * gradient: bias first, then (u, v, c) ascending, mul then add; conv-kernel.ts's order for dW), so
 * both engines train bit-identically (fast-graph.test.ts).
 *
 * Shapes it covers (else the model trains on the tf engine): cout % 8 == 0 (the GEMM's 8-column tiles
 * write the output without padding channels), an input without row padding (H*W*cin % 8 == 0), and
 * cin % 8 == 0 where dx is needed. The patches are built for at most `batch` images at a time (the
 * evaluation's larger chunks run in blocks), so the patch buffer stays the size of one batch.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { DenseKernels } from '../dense/dense-kernel.js';
import { WASM_BASE64 as GEMM_WASM } from '../dense/dense-kernel.wasm.js';
import { at, type Act, type FastBuild, type FastNode, type FastParam } from '../fast-node.js';
import { roundUp, type KernelMemory, type Region } from '../kernel-memory.js';
import { WASM_BASE64 } from './conv-kernel.wasm.js';

/** conv-kernel.wat's exports the fast node calls (byte offsets). */
interface ConvKernels {
  im2col_bhw(x: number, cols: number, B: number, H: number, W: number, C: number, kh: number, kw: number, top: number, left: number, Kp: number): void;
  wgrad_hwb(x: number, d: number, g: number, B: number, HW: number, K: number, N: number, P: number): void;
  flip_filter(w: number, wf: number, kh: number, kw: number, I: number, O: number, Nw: number, Nf: number): void;
}

/** The conv's geometry: kernel kh x kw, 'same' padding top/left, images H x W, channels cin -> cout. */
interface Geometry {
  kh: number;
  kw: number;
  H: number;
  W: number;
  cin: number;
  cout: number;
}

/** Whether the fast node covers this conv (see the module comment). */
export function convFastFits(g: Geometry, input: Act, needDx: boolean): boolean {
  return g.cout % 8 === 0 && input.width === g.H * g.W * g.cin && input.stride === input.width && (!needDx || g.cin % 8 === 0);
}

export class ConvFast implements FastNode {
  /** Set by the engine when a ReLU follows (the ReLU then only masks in backward). */
  relu = false;
  readonly out: Act;
  readonly params: FastParam[];
  private readonly mem: KernelMemory;
  private readonly x: Act;
  private readonly HW: number;
  /** Patch width (kh * kw * cin) rounded up to 4, for the forward and dW; kh * kw * cout for dx. */
  private readonly Kp: number;
  private readonly Kd: number;
  private readonly block: number;
  private readonly bias: { p: Region; g: Region };
  private readonly cols: Region;
  private readonly back: { wf: Region; cols: Region; zero: Region; dx: Region } | null;
  private gemm!: DenseKernels;
  private k!: ConvKernels;
  constructor(
    readonly layer: Layer,
    kernel: tf.Variable,
    bias: tf.Variable | null,
    private readonly g: Geometry,
    b: FastBuild,
  ) {
    this.mem = b.mem;
    this.x = b.input;
    const { kh, kw, H, W, cin, cout } = g;
    this.HW = H * W;
    this.Kp = roundUp(kh * kw * cin, 4);
    this.Kd = kh * kw * cout;
    const w: FastParam = { variable: kernel, region: b.mem.param(this.Kp * cout), rows: kh * kw * cin, cols: cout, stride: cout };
    const bv = bias ? [{ variable: bias, region: b.mem.param(cout), rows: 1, cols: cout, stride: cout }] : [];
    this.params = [w, ...bv];
    // no bias: a zero vector the optimizer never sees (not a parameter)
    this.bias = bias ? bv[0]!.region : { p: b.mem.buffer(cout), g: b.mem.buffer(cout) };
    this.out = { buf: b.mem.buffer(b.rows * this.HW * cout), width: this.HW * cout, stride: this.HW * cout };
    this.block = Math.min(b.rows, roundUp(b.batch, 4));
    const pixels = roundUp(this.block * this.HW, 4);
    // + 4: im2col may write up to 3 floats past the last patch row
    this.cols = b.mem.buffer(pixels * this.Kp + 4);
    this.back = b.needDx
      ? { wf: b.mem.buffer(this.Kd * cin), cols: b.mem.buffer(pixels * this.Kd + 4), zero: b.mem.buffer(cin), dx: b.mem.buffer(pixels * cin) }
      : null;
  }
  init(): void {
    this.gemm = this.mem.instantiate<DenseKernels>(GEMM_WASM);
    this.k = this.mem.instantiate<ConvKernels>(WASM_BASE64);
  }
  /** 'same' padding: floor((k - 1) / 2) before, the rest after. */
  private get top(): number {
    return (this.g.kh - 1) >> 1;
  }
  private get left(): number {
    return (this.g.kw - 1) >> 1;
  }
  forward(rows: number): void {
    const { kh, kw, H, W, cin, cout } = this.g;
    for (let s = 0; s < rows; s += this.block) {
      const n = Math.min(this.block, rows - s);
      this.k.im2col_bhw(at(this.x.buf) + s * this.x.stride * 4, at(this.cols), n, H, W, cin, kh, kw, this.top, this.left, this.Kp);
      const out = at(this.out.buf) + s * this.out.stride * 4;
      this.gemm.fwd(at(this.cols), at(this.params[0]!.region.p), at(this.bias.p), out, roundUp(n * this.HW, 4), this.Kp, cout, this.relu ? 1 : 0);
    }
  }
  backward(rows: number, dOut: Region, needDx: boolean): Region | null {
    // the patches are the forward's: one block holds a training batch
    if (rows > this.block) throw new Error(`ConvFast ${this.layer.name}: backward of ${rows} rows, more than the batch (${this.block})`);
    const { kh, kw, H, W, cin, cout } = this.g;
    const w = this.params[0]!.region;
    // chunks of ~64 KB of patch and dy rows (see conv-kernel.wat)
    const P = Math.max(1, Math.floor(16384 / (rows * (this.Kp + cout))));
    this.k.wgrad_hwb(at(this.cols), at(dOut), at(w.g), rows, this.HW, this.Kp, cout, P);
    this.gemm.colsum(at(dOut), at(this.bias.g), rows * this.HW, cout);
    const back = this.back;
    if (!needDx || !back) return null;
    this.k.flip_filter(at(w.p), at(back.wf), kh, kw, cin, cout, cout, cin);
    this.k.im2col_bhw(at(dOut), at(back.cols), rows, H, W, cout, kh, kw, kh - 1 - this.top, kw - 1 - this.left, this.Kd);
    this.gemm.fwd(at(back.cols), at(back.wf), at(back.zero), at(back.dx), roundUp(rows * this.HW, 4), this.Kd, cin, 0);
    return back.dx;
  }
}
