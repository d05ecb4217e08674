/** The tfjs cpu backend's internals bnx touches (tfjs-backend-cpu 4.22). */
import * as tf from '@tensorflow/tfjs-core';

/** The cpu backend prints a banner advising tfjs-node on first use; bnx reports the backend itself. */
export function silenceCpuBanner(): void {
  (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
}
