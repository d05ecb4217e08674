/**
 * Run a TypeScript module of this repository as a separate Node process (tests that need a real
 * second process, e.g. a server that goes away). Node 20 cannot run .ts files, so the module and
 * every module it imports relatively are transpiled (typescript's transpileModule, no type check)
 * into a temporary tree with the same layout, once per test process.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '..');
const built = new Map<string, string>();
let outRoot: string | undefined;

/** The path of a runnable .js for `entry` (a .ts path relative to the repository root). */
export function nodeEntry(entry: string): string {
  outRoot ??= mkdtempSync(join(tmpdir(), 'bnx-node-entry-'));
  // ESM, and named bnx so util/paths.ts finds a package root in the copy instead of throwing.
  writeFileSync(join(outRoot, 'package.json'), '{"name":"bnx","type":"module"}');
  const pending = [resolve(ROOT, entry)];
  while (pending.length) {
    const src = pending.pop()!;
    if (built.has(src)) continue;
    const text = readFileSync(src, 'utf8');
    const out = join(outRoot, relative(ROOT, src)).replace(/\.ts$/, '.js');
    built.set(src, out);
    const js = ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }, fileName: src }).outputText;
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, js);
    for (const m of text.matchAll(/from\s+'(\.{1,2}\/[^']+)\.js'/g)) pending.push(resolve(dirname(src), `${m[1]}.ts`));
  }
  return built.get(resolve(ROOT, entry))!;
}
