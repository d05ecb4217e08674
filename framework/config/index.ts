export { loadStudy, parseStudy, ConfigError, formatProblem, type LoadedStudy, type Problem } from './load.js';
export { deepMerge, getPath, setPath, cells, resolveCell, runConfig, matrixValueText, type Cell, type MatrixCell } from './resolve.js';
export * from './schema.js';
export * from './names.js';
export * from './hypotheses.js';
export { hypothesisProblems } from './hypothesis-checks.js';
export { dataProblems, modelProblems, type DataShape } from './rules.js';
export { normalizeConfig, resolveRunFields, type NormalizedConfig } from './normalize.js';
