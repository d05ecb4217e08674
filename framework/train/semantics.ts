/**
 * The training semantics version: part of every run key, so results computed by older engine code are
 * never reused as if the current code had produced them. framework/train/golden.test.ts pins the exact
 * per-epoch metrics of a tiny real training; when a change to the engine (layers, optimizers, schedules,
 * data order, initialisation) changes them, that test fails: bump this number together with the
 * golden figures. Kept in its own file, free of imports, so planning never loads TensorFlow.
 */
// 2: max-pooling's gradient on wasm goes to each window's first maximum (bnx's own kernel,
// layers/pool-kernel.ts), no longer where tfjs-wasm's MaxPoolGrad put it; CNN results on wasm change.
// 3: the wasm fast path (fast-graph.ts). Training is bit-identical to version 2; BatchNorm and
// LayerNorm inference round differently from tfjs-layers' predict (test/val loss in the last digits).
export const SEMANTICS_VERSION = 3;
