/**
 * onnxruntime-node is optional: a real trained model verifies with either runtime, the two agree,
 * and when onnxruntime-node cannot be loaded (as after a consumer install where npm dropped it) bnx
 * falls back to onnxruntime-web on its own.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { runConfig } from '../config/index.js';
import { rowFloats } from '../data/index.js';
import { initBackend, trainModel, type TrainData } from '../train/index.js';
import { fashionSlice } from '../train/testing.js';
import { PACKAGE_ROOT } from '../util/paths.js';
import { UserError } from '../util/errors.js';
import { exportOnnx } from './export.js';
import { loadOrt } from './ort.js';
import { createSession, onnxLogits, onnxModelInfo } from './runtime.js';
import { assertParity, verifyOnnx } from './verify.js';

let data: TrainData;
let model: LayersModel;
let bytes: Uint8Array;

beforeAll(async () => {
  await initBackend('wasm');
  data = await fashionSlice({ trainPerClass: 20, testPerClass: 20, shape: 'image' });
  const cfg = runConfig(
    {
      dataset: { scale: 255 },
      model: { type: 'cnn', hidden: [16], conv: { filters: [4], kernel_size: 3, pool: 'max' }, norm: 'batch' },
      train: { epochs: 1, batch_size: 32, optimizer: { type: 'adam', lr: 0.003 }, backend: 'wasm' },
    },
    3,
  );
  const outcome = await trainModel(cfg, data);
  expect(outcome.status).toBe('FINISHED');
  model = outcome.model;
  bytes = exportOnnx(model, { bnxVersion: '0.0.0-test', runKey: 'ort', classNames: data.classNames!, preprocessing: { scale: 255 }, inputLayout: 'nhwc' });
});

describe('either onnxruntime verifies an export', () => {
  for (const choice of ['node', 'web'] as const) {
    it(`BNX_ONNX_RUNTIME=${choice}`, async () => {
      const prev = process.env.BNX_ONNX_RUNTIME;
      process.env.BNX_ONNX_RUNTIME = choice;
      try {
        const r = await verifyOnnx(bytes, model, data.test, { inputShape: data.inputShape });
        expect(r.runtime).toMatch(new RegExp(`^onnxruntime-${choice} \\d+\\.\\d+\\.\\d+`));
        assertParity(r);
        expect(r.n).toBe(data.test.n);
      } finally {
        if (prev === undefined) delete process.env.BNX_ONNX_RUNTIME;
        else process.env.BNX_ONNX_RUNTIME = prev;
      }
    });
  }

  it('the two runtimes give the same logits', async () => {
    const info = onnxModelInfo(bytes);
    const [a, b] = [await createSession(bytes, 'node'), await createSession(bytes, 'web')];
    const x = rowFloats(data.test);
    const la = (await onnxLogits(a, info, x)).logits;
    const lb = (await onnxLogits(b, info, x)).logits;
    let max = 0;
    for (let i = 0; i < la.length; i++) max = Math.max(max, Math.abs(la[i]! - lb[i]!));
    expect(la.length).toBe(data.test.n * 10);
    expect(max).toBeLessThan(1e-5);
    await a.session.release();
    await b.session.release();
  });

  it('an unknown BNX_ONNX_RUNTIME is bad input', async () => {
    await expect(loadOrt('cuda')).rejects.toThrow(UserError);
    await expect(loadOrt('cuda')).rejects.toThrow(/BNX_ONNX_RUNTIME must be node, web or auto \(got "cuda"\)/);
  });
});

it('without a loadable onnxruntime-node, auto falls back to onnxruntime-web (and node is refused clearly)', () => {
  // A resolve hook that makes onnxruntime-node unresolvable, as when npm dropped the optional package.
  const hook =
    'export async function resolve(s, c, next) { if (s === "onnxruntime-node" || s.startsWith("onnxruntime-node/")) ' +
    '{ const e = new Error("Cannot find package onnxruntime-node"); e.code = "ERR_MODULE_NOT_FOUND"; throw e; } return next(s, c); }';
  const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});`;
  const entry = pathToFileURL(join(PACKAGE_ROOT, 'dist/framework/export/index.js')).href;
  const run = (choice: string) =>
    spawnSync(
      process.execPath,
      [
        '--import',
        `data:text/javascript,${encodeURIComponent(register)}`,
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(entry)}); try { console.log((await m.loadOrt(${JSON.stringify(choice)})).name); } catch (e) { console.log('error: ' + e.message); }`,
      ],
      { encoding: 'utf8' },
    );
  const auto = run('auto');
  expect(auto.stderr).toBe('');
  expect(auto.stdout.trim()).toMatch(/^onnxruntime-web \d+\.\d+\.\d+ \(wasm\)$/);
  expect(run('node').stdout.trim()).toMatch(/^error: BNX_ONNX_RUNTIME=node but onnxruntime-node does not load: Cannot find package onnxruntime-node$/);
});
