export { planStudy, runKey, runName, studyConfigSha256, KEY_VERSION, type PlannedRun, type StudyPlan, type MatrixValues } from './plan.js';
