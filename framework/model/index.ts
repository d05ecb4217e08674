export { buildModel, modelLayers } from './build.js';
export { NORM_LAYERS, resolveNorm, PYTORCH_NORM_DEFAULTS, type NormSpec, type NormSite, type NormFactory } from './norms.js';
export { GroupNormalization, groupNorm } from './group-normalization.js';
export { RMSNormalization, rmsNorm } from './rms-normalization.js';
export { ACTIVATION_LAYERS, LEAKY_RELU_SLOPE } from './activations.js';
export { INITIALIZER_FNS, initValues, layerSeeds } from './initializers.js';
export { saveModelArtifacts, loadModelArtifacts } from './io.js';
