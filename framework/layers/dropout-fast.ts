/**
 * Dropout on the wasm fast path (fast-node.ts): the mask is drawn in JavaScript from the run's seeded
 * stream exactly as the tf engine draws it (drawMask, shared with dropout.ts: one value per real unit, row-major),
 * written into the memory with the rows' padding, and applied by dropout.wat.
 */
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { StepContext } from './family.js';
import { at, type Act, type FastBuild, type FastNode, type FastParam } from './fast-node.js';
import { roundUp, type KernelMemory, type Region } from './kernel-memory.js';
import { WASM_BASE64 } from './dropout.wasm.js';

/**
 * Fill `buf` with an inverted-dropout mask (0 or 1 / (1 - rate)). One draw from the seeded stream
 * per mask seeds a mulberry32 generator for the mask itself: deterministic, a new mask every step,
 * and ~10x cheaper than a seedrandom call per unit. Both engines draw masks here, in the same order.
 */
export function drawMask(buf: Float32Array, rate: number, rng: () => number): void {
  const keep = 1 / (1 - rate);
  let state = Math.floor(rng() * 4294967296) >>> 0;
  const threshold = rate * 4294967296;
  for (let i = 0; i < buf.length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    buf[i] = ((t ^ (t >>> 14)) >>> 0) >= threshold ? keep : 0;
  }
}

interface Kernels {
  mul(a: number, b: number, out: number, n: number): void;
}

export class DropoutFast implements FastNode {
  readonly params: FastParam[] = [];
  readonly out: Act;
  private readonly mem: KernelMemory;
  private readonly x: Act;
  private readonly mask: Region;
  private dense = new Float32Array(0);
  private masked = false;
  private k!: Kernels;
  constructor(
    readonly layer: Layer,
    private readonly rate: number,
    b: FastBuild,
  ) {
    this.mem = b.mem;
    this.x = b.input;
    this.out = { ...b.input, buf: b.mem.buffer(b.rows * b.input.stride) };
    this.mask = b.mem.buffer(b.rows * b.input.stride);
  }
  init(): void {
    this.k = this.mem.instantiate<Kernels>(WASM_BASE64);
  }
  forward(rows: number, ctx: StepContext): void {
    const { width, stride } = this.x;
    const n = roundUp(rows, 4) * stride;
    this.masked = ctx.training && this.rate > 0;
    if (!this.masked) {
      this.mem.f32.copyWithin(this.out.buf.off, this.x.buf.off, this.x.buf.off + n);
      return;
    }
    if (this.dense.length !== rows * width) this.dense = new Float32Array(rows * width);
    drawMask(this.dense, this.rate, ctx.dropoutRng);
    const m = this.mem.view(this.mask);
    if (width === stride) m.set(this.dense);
    else for (let r = 0; r < rows; r++) m.set(this.dense.subarray(r * width, (r + 1) * width), r * stride);
    this.k.mul(at(this.x.buf), at(this.mask), at(this.out.buf), n);
  }
  backward(rows: number, dOut: Region): Region {
    if (this.masked) this.k.mul(at(dOut), at(this.mask), at(dOut), rows * this.x.stride);
    return dOut;
  }
}
