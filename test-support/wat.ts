/**
 * A .wat kernel source compiled by wabt, as base64: tests compare it with the module a layer family
 * embeds (NAME.wasm.ts), so no opaque binary sits in the repo.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';

export async function compiledWat(url: URL): Promise<string> {
  const { default: wabtInit } = await import('wabt');
  const wabt = await wabtInit();
  const path = fileURLToPath(url);
  const { buffer } = wabt.parseWat(basename(path), readFileSync(path, 'utf8'), { simd: true }).toBinary({});
  return Buffer.from(buffer).toString('base64');
}
