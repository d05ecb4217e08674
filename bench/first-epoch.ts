/**
 * How soon a large plan trains: a study of N short runs (default 1,000: 2 variants x 500 seeds on a
 * 256-image subset), time from `bnx run` to its first epoch line, then Ctrl-C and a count of the
 * records left RUNNING or SCHEDULED (must be 0). Prints the load average: the machine may be shared.
 * Usage: node dist-dev/bench/first-epoch.js [runs=1000] [jobs=2]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../framework/util/paths.js';

const runs = Number(process.argv[2] ?? 1000);
const jobs = Number(process.argv[3] ?? 2);
const seeds = Array.from({ length: Math.ceil(runs / 2) }, (_, i) => i + 1);
const cwd = mkdtempSync(join(tmpdir(), 'bnx-first-epoch-'));
writeFileSync(
  join(cwd, 'large.yaml'),
  `name: large\ndataset: { name: fashion-mnist, subset: { train: 256, test: 64 } }\nmodel: { hidden: [8] }\ntrain: { epochs: 1, batch_size: 64 }\nseeds: [${seeds.join(', ')}]\nvariants:\n  a: {}\n  b: { model: { norm: batch } }\n`,
);

const load = loadavg().map((x) => x.toFixed(1)).join(' ');
const t0 = performance.now();
const child = spawn(process.execPath, [join(PACKAGE_ROOT, 'dist/framework/cli/main.js'), 'run', 'large.yaml', '--jobs', String(jobs)], {
  cwd,
  env: { ...process.env, MLFLOW_TRACKING_URI: '' },
});
let err = '';
let firstEpoch = 0;
let planned = 0;
child.stderr.on('data', (d: Buffer) => {
  err += d.toString();
  if (!planned && /runs planned/.test(err)) planned = performance.now() - t0;
  if (!firstEpoch && /epoch 1\/1/.test(err)) {
    firstEpoch = performance.now() - t0;
    child.kill('SIGINT');
  }
});
const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
const statuses = new Map<string, number>();
const names: Record<string, string> = { '1': 'RUNNING', '2': 'SCHEDULED', '3': 'FINISHED', '4': 'FAILED', '5': 'KILLED' };
const root = join(cwd, 'mlruns');
for (const exp of existsSync(root) ? readdirSync(root).filter((e) => /^[1-9]\d*$/.test(e)) : []) {
  for (const run of readdirSync(join(root, exp))) {
    const meta = join(root, exp, run, 'meta.yaml');
    if (!existsSync(meta)) continue;
    const s = names[/^status: (\d)$/m.exec(readFileSync(meta, 'utf8'))?.[1] ?? ''] ?? '?';
    statuses.set(s, (statuses.get(s) ?? 0) + 1);
  }
}
console.log(`plan of ${seeds.length * 2} runs, --jobs ${jobs}, load average before: ${load}`);
console.log(`  'runs planned' line after ${(planned / 1000).toFixed(2)} s; first epoch after ${(firstEpoch / 1000).toFixed(2)} s`);
console.log(`  Ctrl-C then: exit ${code}; records: ${[...statuses].map(([k, v]) => `${v} ${k}`).join(', ')}`);
const left = (statuses.get('RUNNING') ?? 0) + (statuses.get('SCHEDULED') ?? 0);
if (left || code !== 130 || !firstEpoch) {
  console.error(`FAILED: ${left} records left RUNNING/SCHEDULED, exit ${code}\n${err.slice(-2000)}`);
  process.exitCode = 1;
}
rmSync(cwd, { recursive: true, force: true });
