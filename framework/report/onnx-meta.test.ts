import * as ort from 'onnxruntime-node';
import { expect, test } from 'vitest';
import { onnxModelType, preprocessPixels, readOnnxInfo } from './onnx-meta.js';
import { buildTinyOnnx } from './testing.js';

test('the test model is a valid ONNX model that onnxruntime runs, with the metadata the exporter writes', async () => {
  const bytes = buildTinyOnnx({ seed: 3 });
  const info = readOnnxInfo(bytes);
  expect(info).toMatchObject({
    inputName: 'input',
    outputName: 'logits',
    inputShape: [-1, 784],
    layout: 'flat',
    preprocessing: { scale: 255, mean: [0.286], std: [0.353] },
  });
  const session = await ort.InferenceSession.create(bytes);
  expect(session.inputNames).toEqual(['input']);
  const out = await session.run({ input: new ort.Tensor('float32', new Float32Array(2 * 784).fill(0.5), [2, 784]) });
  expect(out.logits!.dims).toEqual([2, 10]);
  const v = out.logits!.data as Float32Array;
  expect(v.every(Number.isFinite)).toBe(true);
  expect(v.slice(0, 10)).toEqual(v.slice(10)); // same input, same output
  await session.release();
});

test('NCHW input: layout from metadata, shape read from the graph', async () => {
  const bytes = buildTinyOnnx({ layout: 'nchw', preprocessing: { scale: 255 } });
  const info = readOnnxInfo(bytes);
  expect(info.layout).toBe('nchw');
  expect(info.inputShape).toEqual([-1, 1, 28, 28]);
  expect(info.preprocessing).toEqual({ scale: 255 });
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ input: new ort.Tensor('float32', new Float32Array(784), [1, 1, 28, 28]) });
  expect(out.logits!.dims).toEqual([1, 10]);
  await session.release();
});

test('without metadata: layout from the input rank, scale 255', () => {
  const T = onnxModelType();
  const m = T.toObject(T.decode(buildTinyOnnx({ layout: 'nchw' }))) as { metadataProps?: unknown[] };
  delete m.metadataProps;
  const info = readOnnxInfo(T.encode(T.fromObject(m)).finish());
  expect(info.metadata).toEqual({});
  expect(info.layout).toBe('nchw');
  expect(info.preprocessing).toEqual({ scale: 255 });
});

test('garbage is a clear error', () => {
  expect(() => readOnnxInfo(new Uint8Array([1, 2, 3, 4, 5]), 'runs/x/model.onnx')).toThrow(/runs\/x\/model\.onnx/);
});

test('preprocessing: (pixel / scale - mean) / std', () => {
  const x = preprocessPixels(new Uint8Array([0, 255, 51]), { scale: 255, mean: [0.5], std: [0.25] });
  expect(Array.from(x)).toEqual([-2, 2, Math.fround((0.2 - 0.5) / 0.25)]);
  expect(Array.from(preprocessPixels(new Uint8Array([255]), { scale: 255 }))).toEqual([1]);
});
