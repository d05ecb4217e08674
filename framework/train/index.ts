export { initBackend, currentBackendInfo, type BackendInfo } from './backend.js';
export { trainModel, evaluate, type TrainData, type EpochMetrics, type TrainOutcome, type TrainOptions } from './loop.js';
export { TrainGraph, softmaxCrossEntropy, type Backprop, type ForwardStep, type StepContext, type StepResult } from './engine.js';
export { makeOptimizer, OPTIMIZERS_IMPL, type Optimizer, type OptimizerParams } from './optimizers.js';
export { makeSchedule, SCHEDULE_FNS, type LrAt } from './schedules.js';
export { Prober, DEFAULT_LANDSCAPE_STEPS, type ProbeRecord, type ProbeSettings } from './probes.js';
export { FastGraph, type FastGraphOptions } from './fast-graph.js';
