/**
 * `npm run bench:ort`: would a `backend: onnxruntime` earn its place (issue 14, "going beyond")?
 *
 * onnxruntime-node's JS packages have no training API (removed in 1.20+), so a training backend on it
 * would run each SGD step as a plain inference graph: forward, backward and the update written out as
 * ONNX ops, weights fed in and read back every step. This bench builds that graph for the seed MLP
 * (784-64-32-10, ReLU, softmax cross-entropy, plain SGD, batch 64), runs an epoch of it (937 steps of
 * 60k images + the 10k test evaluation) on ORT's CPU provider with one thread, and interleaves it
 * with bnx's own wasm fast path on the same model (a bench child, as `npm run bench` does). It prints
 * CPU s/epoch of each and the ratio ORT/bnx per pair. The images are random with one pixel marking the
 * class (a step's cost does not depend on the values): the falling loss shows the graph really trains.
 *
 *   node dist-dev/bench/ort-step.js [--pairs 3] [--epochs 2]
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { modelProtoType } from '../framework/export/index.js';
import { median, RESULT_TAG, type ChildResult } from './bench-child.js';

const TRAIN_BENCH = fileURLToPath(new URL('./train-bench.js', import.meta.url));
const FLOAT = 1;
const BATCH = 64;
const LR = 0.01;
const SIZES = [784, 64, 32, 10];

/** A float32 graph input or output of fixed shape. */
const vi = (name: string, dims: number[]): object => ({
  name,
  type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
});

/** An ONNX model of one graph at opset 17, encoded. */
function encode(name: string, graph: object): Uint8Array {
  const type = modelProtoType();
  const model = { irVersion: 8, opsetImport: [{ domain: '', version: 17 }], graph: { name, ...graph } };
  const err = type.verify(model);
  if (err) throw new Error(`bench:ort: invalid graph ${name}: ${err}`);
  return type.encode(type.fromObject(model)).finish();
}

type NodeObj = { name: string; opType: string; input: string[]; output: string[]; attribute: object[] };

/** The training step as one ONNX graph: inputs x, y (one-hot) and the weights; outputs the updated weights and the loss. */
function stepGraph(): Uint8Array {
  const nodes: NodeObj[] = [];
  let k = 0;
  // attributes: integers as INT (type 2), `{ f }` as FLOAT (type 1)
  const node = (opType: string, input: string[], attrs: Record<string, number | { f: number }> = {}, out?: string): string => {
    const o = out ?? `t${k++}`;
    const attribute = Object.entries(attrs).map(([name, v]) => (typeof v === 'number' ? { name, type: 2, i: v } : { name, type: 1, f: v.f }));
    nodes.push({ name: `n${nodes.length}`, opType, input, output: [o], attribute });
    return o;
  };
  const layers = SIZES.length - 1;
  const w = (i: number): string => `W${i}`;
  const b = (i: number): string => `b${i}`;
  // forward: h_i = relu(h_{i-1} W_i + b_i), logits without relu
  const h: string[] = ['x'];
  for (let i = 0; i < layers; i++) {
    const z = node('Gemm', [h[i]!, w(i), b(i)]);
    h.push(i < layers - 1 ? node('Relu', [z]) : z);
  }
  const p = node('Softmax', [h[layers]!], { axis: 1 });
  const logp = node('Log', [p]);
  const nll = node('Mul', [node('Mul', ['y', logp]), 'neg_inv_batch']);
  node('ReduceSum', [nll], { keepdims: 0 }, 'loss');
  // backward: dz = (p - y) / batch; dW = h^T dz; db = sum rows; dh = dz W^T * (h > 0)
  let dz = node('Mul', [node('Sub', [p, 'y']), 'inv_batch']);
  for (let i = layers - 1; i >= 0; i--) {
    // the update fused into the gradient's Gemm: W - lr * h^T dz
    const dh = i > 0 ? node('Mul', [node('Gemm', [dz, w(i)], { transB: 1 }), node('Sign', [h[i]!])]) : '';
    node('Gemm', [h[i]!, dz, w(i)], { transA: 1, alpha: { f: -LR }, beta: { f: 1 } }, `${w(i)}_next`);
    node('Sub', [b(i), node('Mul', [node('ReduceSum', [dz, 'axis0'], { keepdims: 0 }), 'lr'])], {}, `${b(i)}_next`);
    dz = dh;
  }
  const scalar = (name: string, v: number): object => ({ name, dims: [], dataType: FLOAT, floatData: [v] });
  const weights = SIZES.slice(1).flatMap((n, i) => [vi(w(i), [SIZES[i]!, n]), vi(b(i), [n])]);
  return encode('mlp_sgd_step', {
    node: nodes,
    initializer: [
      scalar('inv_batch', 1 / BATCH),
      scalar('neg_inv_batch', -1 / BATCH),
      scalar('lr', LR),
      { name: 'axis0', dims: [1], dataType: 7, int64Data: [0] },
    ],
    input: [vi('x', [BATCH, SIZES[0]!]), vi('y', [BATCH, SIZES.at(-1)!]), ...weights],
    output: [vi('loss', []), ...SIZES.slice(1).flatMap((n, i) => [vi(`${w(i)}_next`, [SIZES[i]!, n]), vi(`${b(i)}_next`, [n])])],
  });
}

/** Evaluation: the forward pass alone, on chunks of the test set. */
function forwardGraph(rows: number): Uint8Array {
  const nodes: NodeObj[] = [];
  let h = 'x';
  for (let i = 0; i < SIZES.length - 1; i++) {
    const z = `z${i}`;
    nodes.push({ name: `g${i}`, opType: 'Gemm', input: [h, `W${i}`, `b${i}`], output: [z], attribute: [] });
    if (i < SIZES.length - 2) {
      nodes.push({ name: `r${i}`, opType: 'Relu', input: [z], output: [`h${i}`], attribute: [] });
      h = `h${i}`;
    } else h = z;
  }
  return encode('mlp_forward', {
    node: nodes,
    input: [vi('x', [rows, SIZES[0]!]), ...SIZES.slice(1).flatMap((n, i) => [vi(`W${i}`, [SIZES[i]!, n]), vi(`b${i}`, [n])])],
    output: [vi(h, [rows, SIZES.at(-1)!])],
  });
}

const cpuSeconds = (u: NodeJS.CpuUsage): number => (u.user + u.system) / 1e6;

/** One process: `epochs` epochs of ORT training steps; CPU s of each (steady ones are the later). */
async function ortChild(epochs: number): Promise<void> {
  const ort = await import('onnxruntime-node');
  const opts = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' as const, graphOptimizationLevel: 'all' as const };
  const step = await ort.InferenceSession.create(stepGraph(), opts);
  const EVAL = 1000;
  const fwd = await ort.InferenceSession.create(forwardGraph(EVAL), opts);
  let seed = 1;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
  const train = Float32Array.from({ length: 60000 * 784 }, rand);
  const test = Float32Array.from({ length: 10000 * 784 }, rand);
  const labels = Uint8Array.from({ length: 60000 }, (_, i) => (i * 7) % 10);
  for (let i = 0; i < 60000; i++) train[i * 784 + labels[i]!] = 3;
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  for (let i = 0; i < SIZES.length - 1; i++) {
    feeds[`W${i}`] = new ort.Tensor('float32', Float32Array.from({ length: SIZES[i]! * SIZES[i + 1]! }, () => rand() * 0.1), [SIZES[i]!, SIZES[i + 1]!]);
    feeds[`b${i}`] = new ort.Tensor('float32', new Float32Array(SIZES[i + 1]!), [SIZES[i + 1]!]);
  }
  const x = new Float32Array(BATCH * 784);
  const y = new Float32Array(BATCH * 10);
  const out: number[] = [];
  const losses: number[] = [];
  for (let e = 0; e < epochs; e++) {
    const t0 = process.cpuUsage();
    for (let s = 0; s + BATCH <= 60000; s += BATCH) {
      x.set(train.subarray(s * 784, (s + BATCH) * 784));
      y.fill(0);
      for (let r = 0; r < BATCH; r++) y[r * 10 + labels[s + r]!] = 1;
      const res = await step.run({ ...feeds, x: new ort.Tensor('float32', x, [BATCH, 784]), y: new ort.Tensor('float32', y, [BATCH, 10]) });
      if (s === 0 || s + 2 * BATCH > 60000) losses.push(res.loss!.data[0] as number);
      for (let i = 0; i < SIZES.length - 1; i++) {
        feeds[`W${i}`] = res[`W${i}_next`]!;
        feeds[`b${i}`] = res[`b${i}_next`]!;
      }
    }
    for (let s = 0; s < 10000; s += EVAL) {
      await fwd.run({ ...feeds, x: new ort.Tensor('float32', test.subarray(s * 784, (s + EVAL) * 784), [EVAL, 784]) });
    }
    out.push(cpuSeconds(process.cpuUsage(t0)));
  }
  console.log(`${RESULT_TAG}${JSON.stringify({ cpu: out, losses })}`);
}

function runChild(args: string[]): string {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = r.stdout.split('\n').find((l) => l.startsWith(RESULT_TAG));
  if (!line) throw new Error(`bench:ort: child ${args.join(' ')} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return line.slice(RESULT_TAG.length);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const arg = (name: string, dflt: number): number => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
  };
  const epochs = arg('epochs', 2);
  if (argv.includes('--child')) return ortChild(epochs);
  try {
    await import('onnxruntime-node');
  } catch {
    console.log('bench:ort: onnxruntime-node is not installed (an optional dependency); nothing to measure.');
    return;
  }
  const pairs = arg('pairs', 3);
  console.log(`MLP 784-64-32-10, SGD, batch 64: CPU s/epoch (60k train + 10k eval), one thread each, ${epochs} epochs per process (first = warm-up).`);
  console.log('pair  bnx wasm fast path  ORT step graph  ratio ORT/bnx  load (1 min)');
  const ratios: number[] = [];
  for (let p = 0; p < pairs; p++) {
    const bnx = JSON.parse(runChild([TRAIN_BENCH, '--child', 'mlp', '--backend', 'wasm', '--epochs', String(epochs)])) as ChildResult;
    const bnxCpu = median(bnx.epochs.slice(1).map((e) => e.cpu));
    const ort = JSON.parse(runChild([fileURLToPath(import.meta.url), '--child', '--epochs', String(epochs)])) as { cpu: number[]; losses: number[] };
    const ortCpu = median(ort.cpu.slice(1));
    if (p === 0) console.log(`(ORT step graph's loss at each epoch's first and last step: ${ort.losses.map((l) => l.toFixed(3)).join(', ')})`);
    ratios.push(ortCpu / bnxCpu);
    console.log(`${String(p + 1).padEnd(5)} ${bnxCpu.toFixed(2).padStart(18)} ${ortCpu.toFixed(2).padStart(15)} ${(ortCpu / bnxCpu).toFixed(2).padStart(14)}  ${loadavg()[0]!.toFixed(2)}`);
  }
  console.log(`median ratio ORT/bnx: ${median(ratios).toFixed(2)} (below 1: the ORT step is faster)`);
}

await main();
