/**
 * Examples as a run reads them: one row at a time, written as model-input floats straight into the
 * buffer that needs them (a training batch, the wasm fast path's memory, an evaluation chunk, the
 * ONNX verification). Prepared data keeps the dataset's bytes and a 256-entry table per channel, not a
 * float32 copy of the set: the full FashionMNIST is 55 MB as bytes, 220 MB as floats, per job. Every
 * float written is the table's entry for its byte, so it is bit for bit what a float copy held.
 */

export interface Rows {
  /** Number of examples. */
  readonly n: number;
  /** Floats per example (the model input of one row, NHWC order for images). */
  readonly features: number;
  /** One label per example, in row order. */
  readonly labels: Uint8Array;
  /** Write example `i` (features floats) into `dst` from index `at`. */
  copyRow(i: number, dst: Float32Array, at: number): void;
}

/**
 * Rows over packed bytes (`images`, features per example) through `table` (256 floats per channel,
 * channel = position % channels). `index` maps row i to an example of `images`; without it row i is
 * example i. The bytes are shared, never copied.
 */
export class ByteRows implements Rows {
  readonly n: number;

  constructor(
    private readonly images: Uint8Array,
    readonly labels: Uint8Array,
    readonly features: number,
    /** 256 floats per channel (never changed once made: a consumer may keep its own copy). */
    readonly table: Float32Array,
    readonly channels: number,
    private readonly index: Uint32Array | null = null,
  ) {
    this.n = labels.length;
    let examples = index ? 0 : this.n;
    if (index) for (let i = 0; i < index.length; i++) examples = Math.max(examples, index[i]! + 1);
    if (index && index.length !== this.n) throw new Error(`ByteRows: ${index.length} indices for ${this.n} labels`);
    if (images.length < examples * features) throw new Error(`ByteRows: ${images.length} bytes cannot hold ${examples} examples of ${features}`);
  }

  /** The bytes of example `i` (a view), for a consumer that applies the table itself (train/batch-rows.ts). */
  rowBytes(i: number): Uint8Array {
    const from = (this.index ? this.index[i]! : i) * this.features;
    return this.images.subarray(from, from + this.features);
  }

  copyRow(i: number, dst: Float32Array, at: number): void {
    const f = this.features;
    const from = (this.index ? this.index[i]! : i) * f;
    const src = this.images;
    const table = this.table;
    if (this.channels === 1) {
      for (let p = 0; p < f; p++) dst[at + p] = table[src[from + p]!]!;
    } else {
      const c = this.channels;
      for (let p = 0; p < f; p++) dst[at + p] = table[(p % c) * 256 + src[from + p]!]!;
    }
  }
}

/** Rows over floats already in model-input form (n x features); tests and benches with synthetic data. */
export class FloatRows implements Rows {
  readonly n: number;

  constructor(
    private readonly x: Float32Array,
    readonly labels: Uint8Array,
    readonly features: number,
  ) {
    this.n = labels.length;
    if (x.length !== this.n * features) throw new Error(`FloatRows: ${x.length} values, expected ${this.n} examples x ${features}`);
  }

  copyRow(i: number, dst: Float32Array, at: number): void {
    dst.set(this.x.subarray(i * this.features, (i + 1) * this.features), at);
  }
}

/** Rows [from, to) as one float array (to defaults to the end): an evaluation chunk, a test's input. */
export function rowFloats(rows: Rows, from = 0, to = rows.n, out = new Float32Array((to - from) * rows.features)): Float32Array {
  for (let i = from; i < to; i++) rows.copyRow(i, out, (i - from) * rows.features);
  return out;
}
