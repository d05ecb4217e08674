/**
 * The tfjs-wasm backend's internals bnx reads (tfjs-backend-wasm 4.22): tensors' data in place on the
 * module's heap, through BackendWasm.getMemoryOffset, so bnx's own kernels read inputs without the
 * copy tensor.dataSync() allocates.
 */
import * as tf from '@tensorflow/tfjs-core';

interface WasmBackend {
  getMemoryOffset(dataId: object): number;
  wasm: { HEAPU8: Uint8Array };
}

/** True when the active backend is tfjs-wasm and exposes its heap. */
export function wasmHeapAvailable(): boolean {
  return tf.getBackend() === 'wasm' && typeof (tf.backend() as unknown as Partial<WasmBackend>).getMemoryOffset === 'function';
}

/** A view of a float32 tensor's data on the tfjs-wasm heap (valid until the next tf op). */
export function heapView(t: tf.Tensor): Float32Array {
  const be = tf.backend() as unknown as WasmBackend;
  const heap = be.wasm.HEAPU8;
  return new Float32Array(heap.buffer, heap.byteOffset + be.getMemoryOffset(t.dataId), t.size);
}
