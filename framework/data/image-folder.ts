/**
 * `dataset: { path: DIR }` as an image folder, torchvision ImageFolder style: DIR/train/<class>/*.png
 * and DIR/test/<class>/*.png. Classes are the train sub-folders in sorted order (label 0 = first);
 * examples are taken class by class, files in sorted order, so a folder always gives the same bytes
 * and digest. PNGs are decoded with pngjs; every image must have the size of the first. A folder of
 * grey PNGs gives 1 channel; any colour PNG makes the set RGB (grey ones are repeated over R, G, B;
 * alpha is dropped).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { IdxError } from './idx.js';
import { makeSet, type IdxSet } from './idx-set.js';

export const IMAGE_SPLITS = ['train', 'test'] as const;
const isPng = (f: string) => f.toLowerCase().endsWith('.png');
const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

/** DIR holds train/ and test/ folders of class folders. */
export function isImageFolder(dir: string): boolean {
  return IMAGE_SPLITS.every((s) => isDir(join(dir, s)));
}

/** The class names (sorted train sub-folders) and each split's files, class by class. */
export function listImageFolder(dir: string): { classNames: string[]; files: Record<(typeof IMAGE_SPLITS)[number], { path: string; label: number }[]> } {
  const classNames = readdirSync(join(dir, 'train'))
    .filter((c) => isDir(join(dir, 'train', c)))
    .sort();
  if (classNames.length === 0) throw new IdxError(`${dir}/train holds no class folders (expected train/<class>/*.png)`);
  if (classNames.length > 256) throw new IdxError(`${dir}/train holds ${classNames.length} class folders; bnx takes at most 256 classes`);
  const files = { train: [], test: [] } as Record<(typeof IMAGE_SPLITS)[number], { path: string; label: number }[]>;
  for (const split of IMAGE_SPLITS) {
    for (const c of readdirSync(join(dir, split)).filter((c) => isDir(join(dir, split, c)))) {
      if (!classNames.includes(c)) throw new IdxError(`${dir}/${split}/${c}: class "${c}" has no folder in train/ (classes: ${classNames.join(', ')})`);
    }
    classNames.forEach((c, label) => {
      const folder = join(dir, split, c);
      if (!isDir(folder)) return;
      for (const f of readdirSync(folder).filter(isPng).sort()) files[split].push({ path: join(folder, f), label });
    });
    if (files[split].length === 0) throw new IdxError(`${dir}/${split} holds no PNG images (expected ${split}/<class>/*.png)`);
  }
  return { classNames, files };
}

function decode(path: string): PNG {
  try {
    return PNG.sync.read(readFileSync(path));
  } catch (err) {
    throw new IdxError(`${path}: not a readable PNG (${(err as Error).message}); replace or remove it`);
  }
}

/** PNG colour types 0 (grey) and 4 (grey + alpha). pngjs sets `colorType` when it reads a file; its
 * type declarations leave it out. */
const GREY_TYPES = new Set([0, 4]);
const isGrey = (png: PNG) => GREY_TYPES.has((png as PNG & { colorType: number }).colorType);

/** The size and channel count the first image sets (cheap: one image is decoded). */
export function imageFolderShape(dir: string): { height: number; width: number; channels: number; train: number; test: number } {
  const { files } = listImageFolder(dir);
  const first = decode(files.train[0]!.path);
  return { height: first.height, width: first.width, channels: isGrey(first) ? 1 : 3, train: files.train.length, test: files.test.length };
}

/** Decode the whole folder into a set (NHWC bytes). */
export function imageFolderSet(dir: string): { set: IdxSet; classNames: string[]; files: string[] } {
  const { classNames, files } = listImageFolder(dir);
  const decoded = { train: files.train.map((f) => decode(f.path)), test: files.test.map((f) => decode(f.path)) };
  const { height, width } = decoded.train[0]!;
  const all = [...decoded.train, ...decoded.test];
  const channels = all.every(isGrey) ? 1 : 3;
  const split = (s: (typeof IMAGE_SPLITS)[number]) => {
    const images = new Uint8Array(decoded[s].length * height * width * channels);
    decoded[s].forEach((png, k) => {
      if (png.height !== height || png.width !== width) {
        throw new IdxError(`${files[s][k]!.path} is ${png.width}x${png.height}; the images of this folder are ${width}x${height} (from ${files.train[0]!.path}): resize it or remove it`);
      }
      const out = k * height * width * channels;
      for (let p = 0; p < height * width; p++) for (let c = 0; c < channels; c++) images[out + p * channels + c] = png.data[p * 4 + c]!;
    });
    return { images, labels: Uint8Array.from(files[s], (f) => f.label) };
  };
  return { set: makeSet(height, width, split('train'), split('test'), channels), classNames, files: [...files.train, ...files.test].map((f) => f.path) };
}
