/**
 * The one preprocessing rule, from a pixel byte to a model input: value = (pixel / scale - mean[c]) /
 * std[c] (a single mean/std serves every channel). Training (prepare.ts builds its lookup table from
 * it), the ONNX metadata (framework/export writes `preprocessing` in this shape), `bnx eval` (through
 * prepareData) and the report's browser demo (its page embeds these functions' source, so the demo
 * cannot drift from training) all use it. The functions are self-contained for that reason: no
 * imports, no outer variables.
 */

/** How pixels become model input, as the exporter records it in the model's metadata. */
export interface Preprocessing {
  scale: number;
  mean?: number[];
  std?: number[];
}

/** One byte value `v` of channel `c`. */
export function pixelValue(v: number, c: number, p: Preprocessing): number {
  const mean = p.mean ? (p.mean[c] ?? p.mean[0]!) : 0;
  const std = p.std ? (p.std[c] ?? p.std[0]!) : 1;
  return (v / p.scale - mean) / std;
}

/** Pixels in channels-last order (channel = index % channels) to model input floats. */
export function preprocessPixels(pixels: ArrayLike<number>, p: Preprocessing, channels = 1): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = pixelValue(pixels[i]!, i % channels, p);
  return out;
}
