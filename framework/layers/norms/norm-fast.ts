/**
 * What the norms' fast nodes (batch-fast.ts, layer-fast.ts) share: gamma and beta as parameters, or,
 * without affine, constant buffers (gamma 1 on the real channels, beta 0) so the kernels have one
 * form; padding channels keep gamma 0, so they stay zero.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { vectorParam, type FastParam } from '../fast-node.js';
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
