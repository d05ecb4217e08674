/**
 * What the norms' fast nodes (batch-fast.ts, layer-fast.ts) share: gamma and beta as parameters, or,
 * without affine, constant buffers (gamma 1 on the real channels, beta 0) so the kernels have one
 * form; padding channels keep gamma 0, so they stay zero.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { StepContext } from '../family.js';
import { vectorParam, type Act, type FastBuild, type FastNode, type FastParam } from '../fast-node.js';
import type { KernelMemory, Region } from '../kernel-memory.js';

export interface Affine {
  params: FastParam[];
  gamma: { p: Region; g: Region };
  beta: { p: Region; g: Region };
  /** After commit: write the constant gamma (ones) where there is no parameter. */
  init(): void;
}

export function affine(mem: KernelMemory, gamma: tf.Variable | null, beta: tf.Variable | null, width: number, stride: number): Affine {
  const g = gamma ? vectorParam(mem, gamma, stride) : null;
  const b = beta ? vectorParam(mem, beta, stride) : null;
  const gr = g ? g.region : { p: mem.buffer(stride), g: mem.buffer(stride) };
  const br = b ? b.region : { p: mem.buffer(stride), g: mem.buffer(stride) };
  return {
    params: [g, b].filter((p): p is FastParam => p !== null),
    gamma: gr,
    beta: br,
    init: () => {
      if (!g) mem.view(gr.p, width).fill(1);
    },
  };
}

/** What both norms' fast nodes hold: input, output, gamma and beta, xhat, dx, and their kernel module K. */
export abstract class NormFast<K> implements FastNode {
  readonly out: Act;
  readonly params: FastParam[];
  protected readonly mem: KernelMemory;
  protected readonly x: Act;
  protected readonly aff: Affine;
  protected readonly xhat: Region;
  protected readonly dx: Region | null;
  protected k!: K;
  constructor(
    readonly layer: Layer,
    gamma: tf.Variable | null,
    beta: tf.Variable | null,
    b: FastBuild,
    private readonly wasm: string,
  ) {
    this.mem = b.mem;
    this.x = b.input;
    const { stride, width } = b.input;
    this.aff = affine(b.mem, gamma, beta, width, stride);
    this.params = this.aff.params;
    this.out = { ...b.input, buf: b.mem.buffer(b.rows * stride) };
    this.xhat = b.mem.buffer(b.rows * stride);
    this.dx = b.needDx ? b.mem.buffer(b.rows * stride) : null;
  }
  init(): void {
    this.k = this.mem.instantiate<K>(this.wasm);
    this.aff.init();
  }
  abstract forward(rows: number, ctx: StepContext): void;
  abstract backward(rows: number, dOut: Region, needDx: boolean): Region | null;
}
