/** Softmax cross-entropy computed in JavaScript from the logits (one small read per step). */

/** Output of one training step, for the caller's metrics. */
export interface StepResult {
  /** Mean cross-entropy over the batch. */
  loss: number;
  correct: number;
}

/**
 * Cross-entropy of logits against labels, written to `dz` as scale * (softmax - onehot) / n. Rows are
 * `stride` apart in logits and dz (the fast path pads them; dz's padding is left as it is).
 */
export function softmaxCrossEntropy(
  logits: Float32Array,
  labels: ArrayLike<number>,
  n: number,
  classes: number,
  dz: Float32Array | null,
  scale: number,
  stride = classes,
): StepResult {
  let loss = 0;
  let correct = 0;
  const g = scale / n;
  for (let r = 0; r < n; r++) {
    const o = r * stride;
    let max = -Infinity;
    let arg = 0;
    for (let c = 0; c < classes; c++) {
      const v = logits[o + c]!;
      if (v > max) {
        max = v;
        arg = c;
      }
    }
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[o + c]! - max);
    const y = labels[r]!;
    loss += Math.log(sum) + max - logits[o + y]!;
    if (arg === y) correct++;
    if (dz) {
      for (let c = 0; c < classes; c++) dz[o + c] = (Math.exp(logits[o + c]! - max) / sum - (c === y ? 1 : 0)) * g;
    }
  }
  // A NaN or infinite logit makes `sum` NaN (exp(NaN) or exp(Inf - Inf)), so the loss reports it.
  return { loss: loss / n, correct };
}
