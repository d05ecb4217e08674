/**
 * Dense on the wasm fast path (fast-node.ts): y = x @ W + b (ReLU fused when the engine says so),
 * dW = x^T @ dy, db = column sums of dy, dx = dy @ W^T, all in dense-kernel.wat. W stays in its
 * natural [K, N] layout (K = the input's stride, N = units rounded up to 8, zero padding); dx runs
 * the forward kernel on W^T, a K x N copy per step (~2 us at 64 x 32) rather than a kernel reading W
 * by strides. Accumulation order is XNNPACK's (bias first, then k ascending, no FMA), so the products
 * equal the tf path's bit for bit.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { Act, FastBuild, FastNode, FastParam } from '../fast-node.js';
import { at } from '../fast-node.js';
import { roundUp, type KernelMemory, type Region } from '../kernel-memory.js';
import type { DenseKernels } from './dense-kernel.js';
import { WASM_BASE64 } from './dense-kernel.wasm.js';

export class DenseFast implements FastNode {
  /** Set by the engine when a ReLU follows (the ReLU then only masks in backward). */
  relu = false;
  readonly out: Act;
  readonly params: FastParam[];
  private readonly mem: KernelMemory;
  private readonly x: Act;
  private readonly K: number;
  private readonly N: number;
  private readonly wt: Region | null;
  private readonly zero: Region | null;
  private readonly dx: Region | null;
  /** Scratch for wgrad_skip's row list (the first weighted layer, whose input is the data). */
  private readonly skipRows: Region | null;
  private k!: DenseKernels;
  constructor(
    readonly layer: Layer,
    kernel: tf.Variable,
    bias: tf.Variable | null,
    b: FastBuild,
  ) {
    this.mem = b.mem;
    this.x = b.input;
    this.K = b.input.stride;
    const units = kernel.shape[1]!;
    this.N = roundUp(units, 8);
    const w: FastParam = { variable: kernel, region: b.mem.param(this.K * this.N), rows: kernel.shape[0]!, cols: units, stride: this.N };
    // no bias: a zero vector the optimizer never sees (not a parameter)
    const bv = bias ? [{ variable: bias, region: b.mem.param(this.N), rows: 1, cols: units, stride: this.N }] : [];
    this.params = [w, ...bv];
    this.biasRegion = bias ? bv[0]!.region : { p: b.mem.buffer(this.N), g: b.mem.buffer(this.N) };
    this.out = { buf: b.mem.buffer(b.rows * this.N), width: units, stride: this.N };
    this.wt = b.needDx ? b.mem.buffer(this.N * this.K) : null;
    this.zero = b.needDx ? b.mem.buffer(this.K) : null;
    this.dx = b.needDx ? b.mem.buffer(b.rows * this.K) : null;
    // Input data (images) is often half zeros: the weight gradient skips the all-zero row blocks
    // (38% of FashionMNIST's 4-pixel blocks), same bits. Hidden layers' inputs rarely have such blocks.
    this.skipRows = b.needDx ? null : b.mem.buffer(b.rows);
  }
  private readonly biasRegion: { p: Region; g: Region };
  init(): void {
    this.k = this.mem.instantiate<DenseKernels>(WASM_BASE64);
  }
  forward(rows: number): void {
    this.k.fwd(at(this.x.buf), at(this.params[0]!.region.p), at(this.biasRegion.p), at(this.out.buf), roundUp(rows, 4), this.K, this.N, this.relu ? 1 : 0);
  }
  backward(rows: number, dOut: Region, needDx: boolean): Region | null {
    const w = this.params[0]!.region;
    if (this.skipRows) this.k.wgrad_skip(at(this.x.buf), at(dOut), at(w.g), rows, this.K, this.N, at(this.skipRows));
    else this.k.wgrad(at(this.x.buf), at(dOut), at(w.g), rows, this.K, this.N);
    this.k.colsum(at(dOut), at(this.biasRegion.g), rows, this.N);
    if (!needDx || !this.dx) return null;
    this.k.transpose(at(w.p), at(this.wt!), this.K, this.N);
    this.k.fwd(at(dOut), at(this.wt!), at(this.zero!), at(this.dx), roundUp(rows, 4), this.N, this.K, 0);
    return this.dx;
  }
}
