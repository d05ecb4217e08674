/**
 * Data augmentation of training batches (`train.augment`), as torchvision's RandomCrop(size,
 * padding) followed by RandomHorizontalFlip(): each training example, each time it is drawn, is
 * shifted by (dy, dx) in [-padding, padding]^2 (pixels shifted in from outside the image are black,
 * as torchvision pads the image before ToTensor/Normalize) and mirrored left-right with probability
 * 1/2. The draws come from one stream seeded by the run seed, consumed in batch order, so the same
 * config and seed augment bit-identically, and every epoch draws anew. Test and validation data are
 * never augmented. Off (no draws at all) when the config has no `augment`.
 */
import type { RunConfig } from '../config/index.js';

export type AugmentConfig = NonNullable<RunConfig['train']['augment']>;

/** Augments `rows` NHWC images of `x` in place. */
export type Augmenter = (x: Float32Array, rows: number) => void;

export function makeAugmenter(
  cfg: AugmentConfig | undefined,
  shape: readonly number[],
  /** Per channel: the model input of a black pixel (byte 0), what shifted-in pixels become. */
  black: readonly number[],
  rng: () => number,
): Augmenter | undefined {
  if (!cfg || (!cfg.crop && !cfg.flip)) return undefined;
  const [h, w, c] = shape as [number, number, number];
  const pad = cfg.crop?.padding ?? 0;
  const flip = cfg.flip === 'horizontal';
  const size = h * w * c;
  const src = new Float32Array(size);
  return (x, rows) => {
    for (let r = 0; r < rows; r++) {
      // Draw order (fixed: it is part of what a seed means): crop offsets y then x, then the flip.
      const dy = pad ? Math.floor(rng() * (2 * pad + 1)) - pad : 0;
      const dx = pad ? Math.floor(rng() * (2 * pad + 1)) - pad : 0;
      const mirror = flip && rng() < 0.5;
      if (dy === 0 && dx === 0 && !mirror) continue;
      const row = x.subarray(r * size, (r + 1) * size);
      src.set(row);
      for (let y = 0; y < h; y++) {
        const sy = y + dy;
        for (let v = 0; v < w; v++) {
          const sx = (mirror ? w - 1 - v : v) + dx;
          const to = (y * w + v) * c;
          if (sy < 0 || sy >= h || sx < 0 || sx >= w) {
            for (let k = 0; k < c; k++) row[to + k] = black[k] ?? black[0]!;
          } else {
            const from = (sy * w + sx) * c;
            for (let k = 0; k < c; k++) row[to + k] = src[from + k]!;
          }
        }
      }
    }
  };
}
