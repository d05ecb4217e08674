/**
 * `bnx run ... | head -1`: a reader that leaves early is not a failure. The study finishes, exits 0
 * and records its parent FINISHED, with no EPIPE trace.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../util/paths.js';
import { FileStore } from '../track/index.js';

const BIN = join(PACKAGE_ROOT, 'dist/framework/cli/main.js');

describe('closed output', () => {
  it('a study whose stdout reader is gone before the first line still finishes and records its parent FINISHED', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'bnx-epipe-'));
    writeFileSync(
      join(cwd, 'p.yaml'),
      'name: pipe\ndataset: { name: fashion-mnist, subset: { train: 600, test: 200 } }\nmodel: { hidden: [8] }\ntrain: { epochs: 1, batch_size: 32 }\nseeds: [1]\nvariants: { a: {} }\nexport: { onnx: false }\n',
    );
    // `true` exits at once: every write bnx makes to stdout meets a closed pipe.
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${BIN}" run p.yaml --jobs 1 | true; echo "bnx exit \${PIPESTATUS[0]}" >&2`], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, MLFLOW_TRACKING_URI: '' },
      timeout: 180_000,
    });
    expect(r.stderr).toMatch(/bnx exit 0/);
    expect(r.stderr).not.toMatch(/EPIPE|Error:/);
    const store = new FileStore(join(cwd, 'mlruns'));
    const exp = (await store.listExperiments()).find((e) => e.name === 'pipe')!;
    const runs = await store.searchRuns(exp.experiment_id);
    expect(runs.map((x) => x.info.status)).toEqual(['FINISHED', 'FINISHED']);
  });
});
