/** The tfjs-node(-gpu) backend's internals bnx reads (tfjs-node 4.22). */
import * as tf from '@tensorflow/tfjs-core';

/** True when tfjs-node-gpu runs on a CUDA device. */
export function usingGpuDevice(): boolean {
  return (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
}
