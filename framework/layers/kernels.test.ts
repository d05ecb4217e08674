/** Every WebAssembly kernel module is exactly its .wat source compiled by wabt (no opaque binary). */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
// @ts-expect-error: a plain .mjs script without types
import { generated, watFiles } from '../../scripts/kernels.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const files = (watFiles as () => string[])();

describe('kernel modules (npm run kernels)', () => {
  test('there are kernels', () => {
    expect(files.length).toBeGreaterThanOrEqual(6);
  });
  for (const wat of files) {
    test(`${relative(root, wat)}: NAME.wasm.ts is up to date`, async () => {
      const ts = wat.replace(/\.wat$/, '.wasm.ts');
      expect(readFileSync(ts, 'utf8'), 'run `npm run kernels`').toBe(await (generated as (w: string) => Promise<string>)(wat));
    });
  }
});
