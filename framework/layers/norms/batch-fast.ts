/**
 * BatchNorm on the wasm fast path (fast-node.ts): batch.wat computes the statistics, the normalized
 * batch, and the backward in one pass per 4 channels, with the tf engine's arithmetic op for op
 * (batch.ts BatchNormNode), so both give the same bits in training. The running statistics are kept
 * in float64 in JavaScript as there (updateRunning, shared), from the batch mean and variance the
 * kernel leaves in the memory. Inference normalizes with them in batch.wat (bn_infer).
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { StepContext } from '../family.js';
import { at, type FastBuild } from '../fast-node.js';
import type { Region } from '../kernel-memory.js';
import { WASM_BASE64 } from './batch.wasm.js';
import { NormFast } from './norm-fast.js';

interface Kernels {
  bn_train(x: number, y: number, xh: number, mean: number, v: number, inv: number, gamma: number, beta: number, M: number, S: number, eps: number): void;
  bn_bwd(dy: number, xh: number, inv: number, gamma: number, dx: number, dgamma: number, dbeta: number, M: number, S: number, needDx: number): void;
  bn_infer(x: number, y: number, mean: number, v: number, gamma: number, beta: number, M: number, S: number, eps: number): void;
}

/** PyTorch's running statistics: the unbiased batch variance, momentum m (PyTorch's convention). */
export function updateRunning(runMean: Float64Array, runVar: Float64Array, mean: ArrayLike<number>, variance: ArrayLike<number>, n: number, m: number): void {
  const unbias = n / Math.max(1, n - 1);
  for (let c = 0; c < runMean.length; c++) {
    runMean[c] = (1 - m) * runMean[c]! + m * mean[c]!;
    runVar[c] = (1 - m) * runVar[c]! + m * unbias * variance[c]!;
  }
}

export interface BatchNormState {
  momentum: number;
  epsilon: number;
  runMean: Float64Array;
  runVar: Float64Array;
  /** Called after the running statistics moved. */
  moved(): void;
  /** Write the running statistics into the layer's variables. */
  syncState(): void;
}

export class BatchNormFast extends NormFast<Kernels> {
  private readonly mean: Region;
  private readonly variance: Region;
  private readonly inv: Region;
  constructor(
    layer: Layer,
    gamma: tf.Variable | null,
    beta: tf.Variable | null,
    private readonly state: BatchNormState,
    b: FastBuild,
  ) {
    super(layer, gamma, beta, b, WASM_BASE64);
    this.mean = b.mem.buffer(b.input.stride);
    this.variance = b.mem.buffer(b.input.stride);
    this.inv = b.mem.buffer(b.input.stride);
  }
  forward(rows: number, ctx: StepContext): void {
    const { aff, k, x } = this;
    if (!ctx.training) {
      // running statistics rounded to float32, as the layer's variables hold them
      this.mem.view(this.mean, x.width).set(this.state.runMean);
      this.mem.view(this.variance, x.width).set(this.state.runVar);
      k.bn_infer(at(x.buf), at(this.out.buf), at(this.mean), at(this.variance), at(aff.gamma.p), at(aff.beta.p), rows, x.stride, this.state.epsilon);
      return;
    }
    k.bn_train(at(x.buf), at(this.out.buf), at(this.xhat), at(this.mean), at(this.variance), at(this.inv), at(aff.gamma.p), at(aff.beta.p), rows, x.stride, this.state.epsilon);
    const s = this.state;
    updateRunning(s.runMean, s.runVar, this.mem.view(this.mean, x.width), this.mem.view(this.variance, x.width), rows, s.momentum);
    s.moved();
  }
  syncState(): void {
    this.state.syncState();
  }
  backward(rows: number, dOut: Region, needDx: boolean): Region | null {
    const { aff } = this;
    const dx = needDx ? this.dx : null;
    this.k.bn_bwd(at(dOut), at(this.xhat), at(this.inv), at(aff.gamma.p), dx ? at(dx) : 0, at(aff.gamma.g), at(aff.beta.g), rows, this.x.stride, dx ? 1 : 0);
    return dx;
  }
}
