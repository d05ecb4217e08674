/** `dataset: { path }` on an ImageFolder-style folder of real PNG files written with pngjs. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../util/errors.js';
import { loadDataset } from './load.js';
import { dataShape } from './shape.js';

const tmp = mkdtempSync(join(tmpdir(), 'bnx-imagefolder-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A w x h PNG whose pixel p has RGB `rgb(p)`; colorType 2 (RGB) or 0 (grey, from R). */
function png(path: string, w: number, h: number, rgb: (p: number) => [number, number, number], colorType: 0 | 2 = 2): void {
  const img = new PNG({ width: w, height: h });
  for (let p = 0; p < w * h; p++) {
    const [r, g, b] = rgb(p);
    img.data.set(colorType === 0 ? [r, r, r, 255] : [r, g, b, 255], p * 4);
  }
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, PNG.sync.write(img, { colorType, inputColorType: 6 }));
}

function folder(name: string, o: { colorType?: 0 | 2; classes?: string[] } = {}): string {
  const dir = join(tmp, name);
  const classes = o.classes ?? ['dog', 'cat', 'bird'];
  for (const split of ['train', 'test']) {
    classes.forEach((c, ci) => {
      for (let k = 0; k < (split === 'train' ? 3 : 2); k++) png(join(dir, split, c, `img${k}.png`), 4, 3, (p) => [10 * ci + k, 100 + p, 200 + (split === 'test' ? 1 : 0)], o.colorType);
    });
  }
  return dir;
}

describe('ImageFolder-style PNG folders', () => {
  it('decodes RGB PNGs channels-last, classes in sorted folder order, class by class', async () => {
    const dir = folder('rgb');
    const ds = await loadDataset({ path: dir });
    expect([ds.height, ds.width, ds.channels, ds.train.count, ds.test.count]).toEqual([3, 4, 3, 9, 6]);
    expect(ds.classNames).toEqual(['bird', 'cat', 'dog']);
    expect([...ds.train.labels]).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2]);
    // train image 4 = cat (written as class index 1) img1: R = 10 * 1 + 1, G = 100 + p, B = 200.
    const at = (k: number, p: number) => [...ds.train.images.subarray((k * 12 + p) * 3, (k * 12 + p) * 3 + 3)];
    expect(at(4, 0)).toEqual([11, 100, 200]);
    expect(at(4, 11)).toEqual([11, 111, 200]);
    expect([...ds.test.images.subarray(0, 3)]).toEqual([20, 100, 201]); // bird (written as index 2) img0
    expect(ds.identity.source).toBe(`path:${dir}`);
    expect((await loadDataset({ path: dir })).identity.digest).toBe(ds.identity.digest);
    expect(dataShape({ path: dir })).toEqual({ height: 3, width: 4, channels: 3, train: 9, test: 6 });
  });

  it('a folder of grey PNGs is one channel', async () => {
    const ds = await loadDataset({ path: folder('grey', { colorType: 0 }) });
    expect(ds.channels).toBe(1);
    expect(ds.train.images.length).toBe(9 * 12);
    expect(ds.train.images[4 * 12]).toBe(11);
  });

  it('names the image of the wrong size, the unreadable file and the stray class', async () => {
    const dir = folder('bad');
    png(join(dir, 'train', 'cat', 'big.png'), 5, 3, () => [0, 0, 0]);
    const err = (await loadDataset({ path: dir }).catch((e: unknown) => e)) as UserError;
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toBe(`dataset path: ${join(dir, 'train', 'cat', 'big.png')} is 5x3; the images of this folder are 4x3 (from ${join(dir, 'train', 'bird', 'img0.png')}): resize it or remove it`);
    rmSync(join(dir, 'train', 'cat', 'big.png'));
    writeFileSync(join(dir, 'test', 'dog', 'broken.png'), 'not a png');
    await expect(loadDataset({ path: dir })).rejects.toThrow(/broken\.png: not a readable PNG/);
    rmSync(join(dir, 'test', 'dog', 'broken.png'));
    mkdirSync(join(dir, 'test', 'fish'));
    await expect(loadDataset({ path: dir })).rejects.toThrow(/test\/fish: class "fish" has no folder in train\//);
  });
});
