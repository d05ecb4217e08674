/**
 * `npm run build`: a clean dist/ from product sources only (tsconfig.build.json), with the bnx
 * command executable (tsc writes files without the exec bit, and a stale dist/ could ship files
 * whose sources are gone). `--link-bin` (npm's prepare step in a clone) also puts node_modules/.bin/bnx
 * in place: npm links the bins of dependencies, never the project's own, and without the link
 * `npx bnx` copies the whole project into npm's exec cache first.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BIN = join(root, 'dist/framework/cli/main.js');

rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
chmodSync(BIN, 0o755);

if (process.argv.includes('--link-bin') && existsSync(join(root, 'node_modules'))) {
  const binDir = join(root, 'node_modules/.bin');
  const link = join(binDir, 'bnx');
  mkdirSync(binDir, { recursive: true });
  rmSync(link, { force: true });
  try {
    symlinkSync(relative(binDir, BIN), link);
  } catch (err) {
    // Windows without symlink rights: `node dist/framework/cli/main.js` still works.
    console.warn(`bnx: could not link node_modules/.bin/bnx (${err.code ?? err.message}); run node dist/framework/cli/main.js instead`);
  }
}
