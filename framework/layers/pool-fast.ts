/**
 * Max-pooling (p x p windows, stride p, valid, channels last) on the wasm fast path (fast-node.ts):
 * pool-kernel.wat's max_fwd keeps each window's argmax in the run's memory and max_bwd scatters dy
 * with it, the kernels the tf engine's PoolNode runs (pool-kernel.ts), so the bits are the same.
 * Covers C % 4 == 0 (four channels a vector) with rows unpadded (H*W*C and the pooled size multiples
 * of 8); average pooling and other shapes train on the tf engine.
 */
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { at, type Act, type FastBuild, type FastNode, type FastParam } from './fast-node.js';
import { roundUp, type KernelMemory, type Region } from './kernel-memory.js';
import { pooledShape, type MaxPoolKernels, type Shape4 } from './pool-kernel.js';
import { WASM_BASE64 } from './pool-kernel.wasm.js';

export class MaxPoolFast implements FastNode {
  /** Set by the engine when a ReLU comes before: its backward runs here (the ReLU's is skipped). */
  reluBackward = false;
  readonly params: FastParam[] = [];
  readonly out: Act;
  private readonly mem: KernelMemory;
  private readonly x: Act;
  private readonly arg: Region;
  private readonly dx: Region | null;
  private k!: MaxPoolKernels;
  private constructor(
    readonly layer: Layer,
    private readonly shape: Shape4,
    private readonly p: number,
    b: FastBuild,
  ) {
    this.mem = b.mem;
    this.x = b.input;
    const [, oh, ow, c] = pooledShape(shape, p);
    const width = oh * ow * c;
    this.out = { buf: b.mem.buffer(b.rows * width), width, stride: width };
    this.arg = b.mem.buffer(b.rows * width);
    this.dx = b.needDx ? b.mem.buffer(roundUp(Math.min(b.rows, b.batch), 4) * b.input.stride) : null;
  }

  /** The fast node of a p x p / stride p max-pooling of [H, W, C] images, or null where it does not apply. */
  static of(layer: Layer, hwc: readonly number[], p: number, b: FastBuild): MaxPoolFast | null {
    const [H, W, C] = hwc as [number, number, number];
    const [, oh, ow] = pooledShape([1, H, W, C], p);
    const fits = C % 4 === 0 && b.input.width === H * W * C && b.input.stride === b.input.width && (oh * ow * C) % 8 === 0;
    return fits ? new MaxPoolFast(layer, [1, H, W, C], p, b) : null;
  }

  init(): void {
    this.k = this.mem.instantiate<MaxPoolKernels>(WASM_BASE64);
  }
  forward(rows: number): void {
    const [, H, W, C] = this.shape;
    this.k.max_fwd(at(this.x.buf), at(this.out.buf), at(this.arg), rows, H, W, C, this.p);
  }
  backward(rows: number, dOut: Region, needDx: boolean): Region | null {
    if (!needDx || !this.dx) return null;
    const [, H, W, C] = this.shape;
    const [, oh, ow] = pooledShape(this.shape, this.p);
    // positions in no window (odd H or W) get no gradient: max_bwd does not write them
    if (oh * this.p !== H || ow * this.p !== W) this.mem.view(this.dx, rows * this.x.stride).fill(0);
    this.k.max_bwd(at(dOut), at(this.arg), at(this.dx), rows, H, W, C, this.p, this.reluBackward ? at(this.out.buf) : 0);
    return this.dx;
  }
}
