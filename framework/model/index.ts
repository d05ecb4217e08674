export { buildModel, modelLayers } from './build.js';
export { INITIALIZER_FNS, initValues, layerSeeds } from './initializers.js';
export { saveModelArtifacts, loadModelArtifacts } from './io.js';
export { inputLayout, type InputLayout } from './layout.js';
