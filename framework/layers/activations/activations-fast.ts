/**
 * Activations on the wasm fast path (fast-node.ts): ReLU in place (activations.wat; forward skipped
 * when the Dense before it applied it in its kernel), linear as the identity. Other activations have
 * no fast node, so their models train on the tf engine.
 */
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { at, type Act, type FastBuild, type FastNode, type FastParam } from '../fast-node.js';
import { roundUp, type KernelMemory, type Region } from '../kernel-memory.js';
import { WASM_BASE64 } from './activations.wasm.js';

interface Kernels {
  relu(x: number, n: number): void;
  relu_bwd(y: number, d: number, n: number): void;
}

export class ReluFast implements FastNode {
  /** Set when the preceding Dense or Conv2D applied the ReLU in its kernel. */
  applied = false;
  /** Set when the max-pooling after it applies the ReLU's backward in its own (MaxPoolFast). */
  masked = false;
  readonly params: FastParam[] = [];
  readonly out: Act;
  private readonly mem: KernelMemory;
  private k!: Kernels;
  constructor(
    readonly layer: Layer,
    b: FastBuild,
  ) {
    this.mem = b.mem;
    this.out = b.input; // in place: backward needs only the output, which later layers do not overwrite
  }
  init(): void {
    this.k = this.mem.instantiate<Kernels>(WASM_BASE64);
  }
  forward(rows: number): void {
    if (!this.applied) this.k.relu(at(this.out.buf), roundUp(rows, 4) * this.out.stride);
  }
  backward(rows: number, dOut: Region): Region {
    if (!this.masked) this.k.relu_bwd(at(this.out.buf), at(dOut), rows * this.out.stride);
    return dOut;
  }
}

/** linear activation, Flatten of a row-major input: nothing to compute. */
export class IdentityFast implements FastNode {
  readonly params: FastParam[] = [];
  readonly out: Act;
  constructor(
    readonly layer: Layer,
    b: FastBuild,
  ) {
    this.out = b.input;
  }
  init(): void {}
  forward(): void {}
  backward(_rows: number, dOut: Region): Region {
    return dOut;
  }
}
