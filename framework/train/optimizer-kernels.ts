/**
 * The optimizers' updates on the wasm fast path (fast-graph.ts): one call of optimizers.wat over the
 * run's whole flat parameter vector (KernelMemory keeps all parameters, then all gradients, then each
 * state slot, in the same order). The rules and their float32 arithmetic are optimizers.ts's, op for
 * op, scalars rounded to float32 as tf rounds them, so both engines give the same bits. Plain SGD
 * takes lr * dL/dp from the backward pass, as there. RMSprop and Adagrad have no kernel yet: models
 * with them train on the tf engine.
 */
import type { OptimizerConfig } from '../config/index.js';
import type { KernelMemory } from '../layers/index.js';
import { WASM_BASE64 } from './optimizers.wasm.js';

interface Kernels {
  sgd(p: number, g: number, n: number, useDecay: number, decay: number): void;
  momentum(p: number, g: number, buf: number, n: number, mu: number, lr: number, useWd: number, wd: number, nesterov: number): void;
  adam(p: number, g: number, m: number, v: number, n: number, b1: number, c1: number, b2: number, c2: number, sbc2: number, eps: number, step: number, useWd: number, wd: number, useDecay: number, decay: number): void;
}

export interface FastOptimizer {
  /** State vectors the memory must hold. */
  readonly slots: number;
  /** The loss-gradient scale the backward pass runs with (lr for plain SGD, else 1). */
  lossScale(lr: number): number;
  /** One update of every parameter from the gradients in the memory. */
  update(mem: KernelMemory, lr: number): void;
}

const kernels = (mem: KernelMemory): Kernels => mem.instantiate<Kernels>(WASM_BASE64);
const b = (x: boolean): number => (x ? 1 : 0);

/** The fast update of a resolved optimizer config, or null where there is none. */
export function fastOptimizer(cfg: OptimizerConfig): FastOptimizer | null {
  switch (cfg.type) {
    case 'sgd': {
      const { momentum: mu, nesterov, weight_decay: wd } = cfg;
      if (mu === 0) {
        return {
          slots: 0,
          lossScale: (lr) => lr,
          update: (mem, lr) => kernels(mem).sgd(mem.paramStart * 4, mem.gradStart * 4, mem.paramFloats, b(wd > 0), 1 - lr * wd),
        };
      }
      return {
        slots: 1,
        lossScale: () => 1,
        update: (mem, lr) => kernels(mem).momentum(mem.paramStart * 4, mem.gradStart * 4, mem.slotStarts[0]! * 4, mem.paramFloats, mu, lr, b(wd > 0), wd, b(nesterov)),
      };
    }
    case 'adam':
    case 'adamw': {
      const { beta1: b1, beta2: b2, epsilon: eps, weight_decay: wd } = cfg;
      const decoupled = cfg.type === 'adamw';
      let t = 0;
      return {
        slots: 2,
        lossScale: () => 1,
        update: (mem, lr) => {
          t++;
          const bc1 = 1 - b1 ** t;
          const bc2 = 1 - b2 ** t;
          const [m, v] = mem.slotStarts as [number, number];
          kernels(mem).adam(mem.paramStart * 4, mem.gradStart * 4, m * 4, v * 4, mem.paramFloats, b1, 1 - b1, b2, 1 - b2, Math.sqrt(bc2), eps, lr / bc1, b(!decoupled && wd > 0), wd, b(decoupled && wd > 0), 1 - lr * wd);
        },
      };
    }
    default:
      return null;
  }
}
