/**
 * model.type resnet: the layer structure of He et al.'s CIFAR ResNets (depth 6n + 2 counts the
 * weighted layers), shortcuts, refusals, and real training on colour images, bit-identical when
 * repeated. Gradients and ONNX parity of ResNets are the residual family's generated tests
 * (layers/families.test.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runConfig, type RunConfig } from '../config/index.js';
import { FloatRows } from '../data/index.js';
import { initBackend, trainModel, type TrainData } from '../train/index.js';
import { rngFor } from '../util/random.js';
import { buildModel } from './build.js';

const model = (resnet: object, norm: unknown = 'batch'): RunConfig['model'] => runConfig({ model: { type: 'resnet', norm: norm as never, resnet } }).model;
const classes = (m: ReturnType<typeof buildModel>) => m.layers.map((l) => l.getClassName());

describe('model.type resnet', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('ResNet-20 and ResNet-8 have 6n + 2 weighted layers, ending in global pooling and the logits', () => {
    for (const [blocks, depth] of [[3, 20], [1, 8]] as const) {
      const m = buildModel(model({ blocks }), [32, 32, 3], 10, 1);
      const cls = classes(m);
      expect(cls.filter((c) => c === 'Conv2D' || c === 'Dense').length).toBe(depth);
      expect(cls.filter((c) => c === 'Add').length).toBe(3 * blocks);
      expect(cls.filter((c) => c === 'BatchNormalization').length).toBe(depth - 1);
      expect(cls.slice(-2)).toEqual(['GlobalAveragePooling2D', 'Dense']);
      expect(m.outputs[0]!.shape).toEqual([null, 10]);
      // Stages at 32x32x16, 16x16x32, 8x8x64; zero-padded shortcuts add no weights.
      expect(m.getLayer('s2b1_short').outputShape).toEqual([null, 16, 16, 32]);
      expect(m.getLayer('s3b1_add').outputShape).toEqual([null, 8, 8, 64]);
      m.dispose();
    }
  });

  it('projection shortcuts are a 1x1 conv with its norm; norm none leaves no norm layers', () => {
    const p = buildModel(model({ blocks: 1, shortcut: 'projection' }), [32, 32, 3], 10, 1);
    expect(p.getLayer('s2b1_proj').getConfig().kernelSize).toEqual([1, 1]);
    expect(p.getLayer('s2b1_proj_norm').getClassName()).toBe('BatchNormalization');
    p.dispose();
    const none = buildModel(model({ blocks: 1 }, 'none'), [32, 32, 3], 10, 1);
    expect(classes(none).some((c) => c.includes('Normalization'))).toBe(false);
    none.dispose();
  });

  it('refuses flat input and shrinking zero_pad stages, saying what to do', () => {
    expect(() => buildModel(model({ blocks: 1 }), [784], 10, 1)).toThrow(/model.type resnet needs image input \[height, width, channels\], got \[784\]/);
    expect(() => buildModel(model({ blocks: 1, filters: [8, 4] }), [8, 8, 1], 10, 1)).toThrow(/stage 2 has fewer channels \(4\) than the one before \(8\); .*use shortcut: projection/);
  });

  it('trains on colour images on wasm, bit-identical when repeated', async () => {
    await initBackend('wasm');
    const rng = rngFor(4, 'resnet-test');
    const n = 48;
    const x = Float32Array.from({ length: n * 8 * 8 * 3 }, () => rng() - 0.5);
    const y = Uint8Array.from({ length: n }, (_, i) => i % 3);
    // Class-dependent colour shift so there is something to learn.
    for (let i = 0; i < n; i++) for (let p = 0; p < 64; p++) x[(i * 64 + p) * 3 + y[i]!]! += 1;
    const rows = new FloatRows(x, y, 192);
    const data: TrainData = { train: rows, test: rows, inputShape: [8, 8, 3], featureSize: 192, numClasses: 3 };
    const cfg = runConfig({ model: { type: 'resnet', norm: 'batch', resnet: { blocks: 1, filters: [4, 8] } }, train: { epochs: 3, batch_size: 16, optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 }, backend: 'wasm' } }, 2);
    const runs = [];
    for (let k = 0; k < 2; k++) {
      const o = await trainModel(cfg, data);
      expect(o.status).toBe('FINISHED');
      runs.push(o.epochs.map(({ seconds: _s, ...m }) => m));
      o.model.dispose();
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[0]!.at(-1)!.train_loss).toBeLessThan(runs[0]![0]!.train_loss);
  });
});
