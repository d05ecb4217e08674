import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The bnx package root (where package.json is), whether running from framework/ (tests) or dist/. */
export const PACKAGE_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'bnx') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('bnx: cannot find the package root (package.json named "bnx")');
    dir = up;
  }
})();
