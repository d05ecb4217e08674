/**
 * Layer families: one module per kind of layer (dense, conv2d, pooling, flatten, dropout, activations,
 * and each norm), holding its tfjs layer or builder, its training forward/backward (with its fast
 * kernels), its ONNX converter and its YAML options; one typed registry ties them. See
 * ARCHITECTURE.md ("Add a layer"). The light half (names, options; no TensorFlow): ./options.ts.
 */
export { LAYER_FAMILIES, NORM_FAMILIES, SUPPORTED_CLASSES, familyOf } from './registry.js';
export type { Converter, FamilyExample, LayerFamily, Node, StepContext } from './family.js';
export type { NormFamily, NormSite } from './norms/family.js';
export * from './options.js';
export type { Attr, OnnxGraph, TensorRef } from './onnx.js';
export { denseLayer, DenseNode } from './dense/dense.js';
export { denseForward, denseKernelFits, denseWeightGrad } from './dense/dense-kernel.js';
export { conv2dLayer, Conv2DNode } from './conv2d/conv2d.js';
export { conv2dFilterGrad, conv2dFilterGradByConv, conv2dInputGrad } from './conv2d/conv-grads.js';
export { poolLayer } from './pooling.js';
export { addLayer, AddNode, globalPoolLayer } from './residual/residual.js';
export { Subsample, subsampleLayer } from './residual/subsample.js';
export { flattenLayer } from './flatten.js';
export { dropoutLayer } from './dropout.js';
export { ACTIVATION_LAYERS, LEAKY_RELU_SLOPE, ActivationNode } from './activations/activations.js';
export { emitActivation, SUPPORTED_ACTIVATIONS } from './activations/onnx-activations.js';
export { BatchNormNode } from './norms/batch.js';
export { BatchRenormalization, renormCorrection, renormLimits } from './norms/batch-renorm.js';
export { GroupNormalization, groupNorm } from './norms/group-normalization.js';
export { RMSNormalization, rmsNorm } from './norms/rms-normalization.js';
export { KernelMemory, kernelModule, roundUp, type ParamRegion, type Region } from './kernel-memory.js';
export type { Act, FastBuild, FastNode, FastParam } from './fast-node.js';
export { DenseFast } from './dense/dense-fast.js';
export { ConvFast } from './conv2d/conv-fast.js';
export { IdentityFast, ReluFast } from './activations/activations-fast.js';
export { MaxPoolFast } from './pool-fast.js';
export { WASM_BASE64 as DENSE_KERNEL_WASM } from './dense/dense-kernel.wasm.js';
