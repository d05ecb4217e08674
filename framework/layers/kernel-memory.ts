/**
 * One WebAssembly memory per training run for the wasm fast path (train/fast-graph.ts): the weights,
 * their gradients, the optimizer's state, the batch and every activation live in it, and each layer
 * family's kernel module (NAME.wat beside the family, compiled by `npm run kernels` into NAME.wasm.ts)
 * is instantiated on it, so kernels hand each other data by offset and JavaScript only orchestrates.
 *
 * Layout is planned before anything runs: nodes ask for regions while the graph is compiled
 * (param(), buffer()), commit() places them (all parameters contiguous, then their gradients in the
 * same order, then the optimizer's slots, then buffers) and creates the memory at its final size, so
 * it never grows and views of it stay valid. Offsets are in floats; kernels take bytes (off * 4).
 */

/** A run of floats in the memory; `off` is set by commit(). */
export interface Region {
  off: number;
  readonly len: number;
}

/** A parameter (in the layer's layout, padded) and its gradient, at the same relative place. */
export interface ParamRegion {
  p: Region;
  g: Region;
}

const compiled = new Map<string, WebAssembly.Module | null>();

/** The compiled module of a kernel (null when this runtime lacks WebAssembly SIMD). */
export function kernelModule(base64: string): WebAssembly.Module | null {
  let m = compiled.get(base64);
  if (m === undefined) {
    try {
      m = new WebAssembly.Module(Buffer.from(base64, 'base64'));
    } catch {
      m = null;
    }
    compiled.set(base64, m);
  }
  return m;
}

/** Rounded up to a multiple of `k`. */
export const roundUp = (n: number, k: number): number => Math.ceil(n / k) * k;

export class KernelMemory {
  private readonly params: Region[] = [];
  private readonly grads: Region[] = [];
  private readonly buffers: Region[] = [];
  private mem: WebAssembly.Memory | null = null;
  private readonly instances = new Map<string, unknown>();
  /** The whole memory as floats (valid after commit; the memory never grows). */
  f32 = new Float32Array(0);
  /** Floats of all parameters together (a multiple of 4), and where they start. */
  paramFloats = 0;
  paramStart = 0;
  gradStart = 0;
  /** Optimizer state: `slots` arrays shaped like the parameter vector. */
  readonly slotStarts: number[] = [];

  param(len: number): ParamRegion {
    const p = { off: -1, len: roundUp(len, 4) };
    const g = { off: -1, len: p.len };
    this.params.push(p);
    this.grads.push(g);
    return { p, g };
  }

  buffer(len: number): Region {
    const r = { off: -1, len: roundUp(len, 4) };
    this.buffers.push(r);
    return r;
  }

  get committed(): boolean {
    return this.mem !== null;
  }

  /** Place every region (zero-filled) and create the memory; `slots` optimizer state vectors. */
  commit(slots: number): void {
    if (this.mem) throw new Error('KernelMemory: commit() once');
    let at = 0;
    this.paramStart = at;
    for (const p of this.params) {
      p.off = at;
      at += p.len;
    }
    this.paramFloats = at - this.paramStart;
    this.gradStart = at;
    for (const g of this.grads) {
      g.off = at;
      at += g.len;
    }
    for (let s = 0; s < slots; s++) {
      this.slotStarts.push(at);
      at += this.paramFloats;
    }
    for (const b of this.buffers) {
      b.off = at;
      at += b.len;
    }
    this.mem = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil((at * 4) / 65536)) });
    this.f32 = new Float32Array(this.mem.buffer);
  }

  /** A kernel module instantiated on this memory (once per module). */
  instantiate<E>(base64: string): E {
    if (!this.mem) throw new Error('KernelMemory: instantiate after commit()');
    let e = this.instances.get(base64);
    if (!e) {
      const m = kernelModule(base64);
      if (!m) throw new Error('KernelMemory: WebAssembly SIMD is not available');
      e = new WebAssembly.Instance(m, { env: { mem: this.mem } }).exports;
      this.instances.set(base64, e);
    }
    return e as E;
  }

  /** A view of a region (valid for the memory's life). */
  view(r: Region, len = r.len): Float32Array {
    return this.f32.subarray(r.off, r.off + len);
  }
}
