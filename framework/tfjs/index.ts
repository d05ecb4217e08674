/**
 * Adapters for tfjs internals, one module per backend (core: every backend). No other folder reaches
 * into tfjs private APIs: upgrading tfjs means checking these files.
 */
export { fusedMatMul, conv2dBackpropFilter } from './core.js';
export { heapView, wasmHeapAvailable } from './wasm.js';
export { silenceCpuBanner } from './cpu.js';
export { usingGpuDevice } from './node.js';
