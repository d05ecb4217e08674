/**
 * The export step of a run: write model.onnx, score the full test set with both runtimes, and report
 * the parity figures plus an error string when the export is not faithful (the caller fails the run
 * with it; the figures are still worth logging).
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { DatasetConfig } from '../config/index.js';
import { atomicWriteFile } from '../util/fs.js';
import { BNX_VERSION } from '../util/version.js';
import { preprocessingOf, type Rows } from '../data/index.js';
import { exportOnnx } from './export.js';
import { assertParity, PARITY_TOLERANCE, verifyOnnx, type ParityResult } from './verify.js';

/** The parity figures a run logs: verify.ts' ParityResult, its ONNX accuracy as the run's test_accuracy. */
export type ExportFigures = Omit<ParityResult, 'onnx_accuracy'> & {
  /** ONNX accuracy on the test set (the run's exported-model accuracy). */
  test_accuracy: number;
};

export interface ExportStepOptions {
  runKey: string;
  classNames: string[];
  /** The run's dataset config: its scale/normalize become the model's preprocessing metadata. */
  dataset: Pick<DatasetConfig, 'scale' | 'normalize'>;
  layout: 'flat' | 'nhwc';
  outPath: string;
  bnxVersion?: string;
  tolerance?: number;
}

export async function exportAndVerify(
  model: LayersModel,
  data: { test: Rows; inputShape: number[] },
  o: ExportStepOptions,
): Promise<{ figures: ExportFigures; error?: string }> {
  const bytes = exportOnnx(model, {
    bnxVersion: o.bnxVersion ?? BNX_VERSION,
    runKey: o.runKey,
    classNames: o.classNames,
    preprocessing: preprocessingOf(o.dataset),
    inputLayout: o.layout,
  });
  atomicWriteFile(o.outPath, bytes);
  const r = await verifyOnnx(bytes, model, data.test, { inputShape: data.inputShape });
  const { onnx_accuracy, ...rest } = r;
  const figures: ExportFigures = { test_accuracy: onnx_accuracy, ...rest };
  try {
    assertParity(r, o.tolerance ?? PARITY_TOLERANCE);
    return { figures };
  } catch (err) {
    return { figures, error: (err as Error).message };
  }
}
