/**
 * The wasm fast path: a training step that stays in bnx's own WebAssembly SIMD kernels from batch to
 * update. Each layer family's fast node (layers/fast-node.ts) runs its forward and backward in its
 * kernel module; the optimizer updates the flat parameter vector in place (optimizer-kernels.ts); all
 * of it on one KernelMemory per run that holds weights, gradients, optimizer state, the batch and the
 * activations. JavaScript orchestrates: it copies the batch's rows in, computes the softmax
 * cross-entropy of the logits (in float64 with Math.exp, as the tf engine: ~1% of a step at 64 x 10)
 * and calls kernels by offset. No tf op runs in a step.
 *
 * Used when the backend is wasm and every layer, and the optimizer, has a fast form (compile()
 * returns null otherwise: the tf engine, engine.ts, trains as before; cpu and tfjs-node always use
 * it). The kernels repeat the tf engine's float32 arithmetic op for op (fast-graph.test.ts checks the
 * gradients and trajectories bit for bit); inference equals tfjs-layers' predict bit for bit except
 * in BatchNorm and LayerNorm, whose tfjs-layers forms round differently (tf.batchNorm, moments): there
 * the fast path normalizes as in training (batch.wat bn_infer, layer.wat), within float32 rounding.
 *
 * The layers' variables are the model's truth between steps only after syncState() (the loop calls it
 * after every epoch and at the end), which writes the weights and BatchNorm statistics back.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { OptimizerConfig } from '../config/index.js';
import type { Rows } from '../data/index.js';
import { ConvFast, DENSE_KERNEL_WASM, DenseFast, IdentityFast, MaxPoolFast, familyOf, KernelMemory, kernelModule, ReluFast, roundUp, type Act, type FastNode, type FastParam, type Region, type StepContext } from '../layers/index.js';
import { BatchRows } from './batch-rows.js';
import { softmaxCrossEntropy, type StepResult } from './loss.js';
import { fastOptimizer, type FastOptimizer } from './optimizer-kernels.js';

export interface FastGraphOptions {
  /** The most rows one call handles: the larger of the batch size and the evaluation chunk. */
  rows: number;
  /** The most rows of a training step (the batch size; default `rows`). */
  batch?: number;
  optimizer: OptimizerConfig;
}

export class FastGraph {
  readonly nodes: FastNode[];
  readonly params: FastParam[];
  readonly input: Act;
  readonly rows: number;
  private readonly logits: Act;
  private readonly dz: Region;
  private readonly batchRows: BatchRows;
  private readonly firstWeighted: number;
  private readonly classes: number;

  /** The fast graph of a model, or null when the backend, a layer or the optimizer has no fast form. */
  static compile(model: LayersModel, opts: FastGraphOptions): FastGraph | null {
    if (tf.getBackend() !== 'wasm' || kernelModule(DENSE_KERNEL_WASM) === null) return null;
    const opt = fastOptimizer(opts.optimizer);
    if (!opt) return null;
    const mem = new KernelMemory();
    const rows = roundUp(Math.max(1, opts.rows), 4);
    const features = (model.inputs[0]!.shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
    const input: Act = { buf: mem.buffer(rows * roundUp(features, 8)), width: features, stride: roundUp(features, 8) };
    const nodes: FastNode[] = [];
    let act = input;
    let weighted = false;
    for (const l of model.layers) {
      const layer = l as unknown as Layer;
      // A functional model (a ResNet: InputLayer first, skip connections) is not a chain: tf engine.
      if (layer.getClassName() === 'InputLayer') return null;
      const family = familyOf(layer, 'engine');
      const node: FastNode | null = family.fast?.(layer, { mem, input: act, rows, batch: Math.min(rows, opts.batch ?? rows), needDx: weighted }) ?? null;
      if (!node) return null;
      nodes.push(node);
      weighted ||= node.params.length > 0;
      act = node.out;
    }
    return new FastGraph(model, mem, opt, nodes, input, rows);
  }

  private constructor(
    readonly model: LayersModel,
    private readonly mem: KernelMemory,
    private readonly optimizer: FastOptimizer,
    nodes: FastNode[],
    input: Act,
    rows: number,
  ) {
    this.nodes = nodes;
    this.input = input;
    this.rows = rows;
    this.params = nodes.flatMap((n) => n.params);
    this.firstWeighted = nodes.findIndex((n) => n.params.length > 0);
    // Dense or Conv2D directly followed by ReLU: the ReLU runs in the GEMM kernel's store (its
    // backward still masks by the output, which is the fused output).
    nodes.forEach((n, i) => {
      const next = nodes[i + 1];
      if ((n instanceof DenseFast || n instanceof ConvFast) && next instanceof ReluFast) {
        n.relu = true;
        next.applied = true;
      }
      // ReLU then max-pooling: the pooling's scatter applies the ReLU's mask, by the pooled outputs,
      // which must then stay as they are until the backward (no later node writes in place on them)
      if (n instanceof ReluFast && next instanceof MaxPoolFast && nodes.slice(i + 2).every((m) => m.out.buf !== next.out.buf || m instanceof IdentityFast)) {
        n.masked = true;
        next.reluBackward = true;
      }
    });
    this.logits = nodes[nodes.length - 1]!.out;
    this.classes = this.logits.width;
    this.dz = mem.buffer(rows * this.logits.stride);
    this.batchRows = new BatchRows(mem, input.width);
    mem.commit(optimizer.slots);
    for (const n of nodes) n.init();
    this.loadParams();
  }

  /** Copy example `row` of `src` (featureSize floats from `offset`) into row r of the batch. */
  setRow(r: number, src: Float32Array, offset: number): void {
    const { width, stride, buf } = this.input;
    this.mem.f32.set(src.subarray(offset, offset + width), buf.off + r * stride);
  }

  /** Write example `i` of `rows` into row r of the batch (bytes become floats on the way: batch-rows.ts). */
  setExample(r: number, rows: Rows, i: number): void {
    this.batchRows.write(rows, i, this.input.buf.off + r * this.input.stride);
  }

  private forward(rows: number, ctx: StepContext): Float32Array {
    for (const n of this.nodes) n.forward(rows, ctx);
    return this.mem.view(this.logits.buf, rows * this.logits.stride);
  }

  private backward(rows: number): void {
    let d: Region = this.dz;
    for (let i = this.nodes.length - 1; i >= this.firstWeighted; i--) {
      const dx = this.nodes[i]!.backward(rows, d, i > this.firstWeighted);
      if (dx) d = dx;
    }
  }

  /**
   * One training step on the `rows` examples set with setRow: forward, loss, and (when the loss is
   * finite) backward and the optimizer's update at learning rate `lr`.
   */
  step(rows: number, labels: ArrayLike<number>, lr: number, ctx: StepContext): StepResult {
    const logits = this.forward(rows, ctx);
    const dz = this.mem.view(this.dz, rows * this.logits.stride);
    const result = softmaxCrossEntropy(logits, labels, rows, this.classes, dz, this.optimizer.lossScale(lr), this.logits.stride);
    if (!Number.isFinite(result.loss)) return result;
    this.backward(rows);
    this.optimizer.update(this.mem, lr);
    return result;
  }

  /** dL/dparams (unpadded, in the params' order) of mean cross-entropy on the rows set; no update. */
  gradients(rows: number, labels: ArrayLike<number>, ctx: StepContext): Float32Array[] {
    const logits = this.forward(rows, ctx);
    softmaxCrossEntropy(logits, labels, rows, this.classes, this.mem.view(this.dz, rows * this.logits.stride), 1, this.logits.stride);
    this.backward(rows);
    return this.params.map((p) => this.unpad(p, p.region.g));
  }

  /** Inference-mode logits of the rows set (unpadded [rows, classes]). */
  predict(rows: number, ctx: StepContext): Float32Array {
    const logits = this.forward(rows, { ...ctx, training: false });
    const out = new Float32Array(rows * this.classes);
    for (let r = 0; r < rows; r++) out.set(logits.subarray(r * this.logits.stride, r * this.logits.stride + this.classes), r * this.classes);
    return out;
  }

  /** Mean loss and accuracy on the rows (inference mode), in chunks of up to `this.rows`. */
  evaluate(data: Rows, chunk: number, ctx: StepContext): { loss: number; accuracy: number } {
    const n = data.n;
    const c = Math.min(chunk, this.rows);
    let lossSum = 0;
    let correct = 0;
    for (let s = 0; s < n; s += c) {
      const m = Math.min(c, n - s);
      for (let r = 0; r < m; r++) this.setExample(r, data, s + r);
      const logits = this.forward(m, { ...ctx, training: false });
      const res = softmaxCrossEntropy(logits, data.labels.subarray(s, s + m), m, this.classes, null, 1, this.logits.stride);
      lossSum += res.loss * m;
      correct += res.correct;
    }
    return { loss: lossSum / n, accuracy: correct / n };
  }

  /** Write the weights and the nodes' state (BatchNorm running statistics) into the model's layers. */
  syncState(): void {
    tf.tidy(() => {
      for (const p of this.params) p.variable.assign(tf.tensor(this.unpad(p, p.region.p), p.variable.shape));
    });
    for (const n of this.nodes) n.syncState?.();
  }

  private loadParams(): void {
    for (const p of this.params) {
      const v = p.variable.dataSync() as Float32Array;
      for (let r = 0; r < p.rows; r++) this.mem.f32.set(v.subarray(r * p.cols, (r + 1) * p.cols), p.region.p.off + r * p.stride);
    }
  }

  private unpad(p: FastParam, region: Region): Float32Array {
    const out = new Float32Array(p.rows * p.cols);
    for (let r = 0; r < p.rows; r++) out.set(this.mem.f32.subarray(region.off + r * p.stride, region.off + r * p.stride + p.cols), r * p.cols);
    return out;
  }
}
