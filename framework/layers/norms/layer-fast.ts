/**
 * LayerNorm over the last axis on the wasm fast path (fast-node.ts): layer.wat, row statistics over
 * the real features with the tf engine's arithmetic op for op (group-stats.ts GroupStatsNode with
 * G = 1), so both give the same bits.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { at, type FastBuild } from '../fast-node.js';
import type { Region } from '../kernel-memory.js';
import { WASM_BASE64 } from './layer.wasm.js';
import { NormFast } from './norm-fast.js';

interface Kernels {
  ln_fwd(x: number, y: number, xh: number, inv: number, gamma: number, beta: number, M: number, S: number, C: number, eps: number): void;
  ln_bwd(dy: number, xh: number, inv: number, gamma: number, dx: number, dgamma: number, dbeta: number, M: number, S: number, C: number, needDx: number): void;
}

export class LayerNormFast extends NormFast<Kernels> {
  private readonly inv: Region;
  constructor(
    layer: Layer,
    gamma: tf.Variable | null,
    beta: tf.Variable | null,
    private readonly epsilon: number,
    b: FastBuild,
  ) {
    super(layer, gamma, beta, b, WASM_BASE64);
    this.inv = b.mem.buffer(b.rows);
  }
  forward(rows: number): void {
    const { aff, x } = this;
    this.k.ln_fwd(at(x.buf), at(this.out.buf), at(this.xhat), at(this.inv), at(aff.gamma.p), at(aff.beta.p), rows, x.stride, x.width, this.epsilon);
  }
  backward(rows: number, dOut: Region, needDx: boolean): Region | null {
    const { aff, x } = this;
    const dx = needDx ? this.dx : null;
    this.k.ln_bwd(at(dOut), at(this.xhat), at(this.inv), at(aff.gamma.p), dx ? at(dx) : 0, at(aff.gamma.g), at(aff.beta.g), rows, x.stride, x.width, dx ? 1 : 0);
    return dx;
  }
}
