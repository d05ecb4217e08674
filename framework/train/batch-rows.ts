/**
 * The wasm fast path's batch copy (fast-graph.ts): an example of byte rows (data/rows.ts ByteRows) is
 * copied into the run's KernelMemory as bytes and turned into floats there by batch-rows.wat, with the
 * rows' own table: the same lookup as ByteRows.copyRow, so the same bits, at the cost of the float
 * copy it replaces (the JavaScript lookup is slower). Any other rows are copied by their copyRow.
 */
import { ByteRows, type Rows } from '../data/index.js';
import type { KernelMemory, Region } from '../layers/index.js';
import { WASM_BASE64 } from './batch-rows.wasm.js';

interface Kernels {
  gray(src: number, dst: number, n: number, table: number): void;
  channels(src: number, dst: number, n: number, table: number, c: number): void;
}

/** Channels whose tables the memory holds; rows with more take copyRow. */
const MAX_CHANNELS = 4;

export class BatchRows {
  private readonly stage: Region;
  private readonly table: Region;
  private loaded: Float32Array | null = null;
  private u8: Uint8Array | null = null;
  private kernels: Kernels | null = null;

  /** Plans its regions: call while the graph compiles, before mem.commit(). */
  constructor(
    private readonly mem: KernelMemory,
    private readonly features: number,
  ) {
    this.stage = mem.buffer(Math.ceil(features / 4));
    this.table = mem.buffer(256 * MAX_CHANNELS);
  }

  /** Example `i` of `rows` as floats at float offset `at` of the memory. */
  write(rows: Rows, i: number, at: number): void {
    if (!(rows instanceof ByteRows) || rows.channels > MAX_CHANNELS || rows.features !== this.features) {
      rows.copyRow(i, this.mem.f32, at);
      return;
    }
    if (rows.table !== this.loaded) {
      this.mem.f32.set(rows.table, this.table.off);
      this.loaded = rows.table;
    }
    this.u8 ??= new Uint8Array(this.mem.f32.buffer);
    this.u8.set(rows.rowBytes(i), this.stage.off * 4);
    const k = (this.kernels ??= this.mem.instantiate<Kernels>(WASM_BASE64));
    if (rows.channels === 1) k.gray(this.stage.off * 4, at * 4, this.features, this.table.off * 4);
    else k.channels(this.stage.off * 4, at * 4, this.features, this.table.off * 4, rows.channels);
  }
}
