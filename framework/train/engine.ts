/**
 * The training engine: a tfjs-layers Sequential compiled into explicit forward/backward steps, one
 * node per layer from the layer families (framework/layers).
 *
 * Why not autodiff: on the wasm backend tf's gradient of matMul uses matMul with transposeA/B, which
 * costs ~3 ms at the first layer's shapes against ~0.25 ms for an explicit transpose plus a plain
 * matMul, and every recorded op adds tape overhead. Each family writes its backward with plain tf ops
 * (or a vector-Jacobian product of the layer's own call()); every family is checked against tf
 * autodiff of model.apply by the tests generated from the registry (layers/families.test.ts).
 *
 * The engine reads and writes the layers' own variables, so the LayersModel is always the trained
 * model (eval, save and ONNX export see the same weights), BatchNorm running statistics included.
 *
 * Gradients are gradients: gradients() returns dL/dparams. A step hands the optimizer a Backprop, a
 * function of the loss-gradient scale, so an optimizer whose update is linear in the gradient (plain
 * SGD) can take lr * dL/dparams in one backward pass (backprop is linear), as bnx always has: same
 * bits, no extra multiply per parameter. The learning rate is the optimizer's business alone.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { ActivationNode, BatchNormNode, Conv2DNode, DenseNode, familyOf, type Node, type StepContext } from '../layers/index.js';
import { softmaxCrossEntropy, type StepResult } from './loss.js';

export { softmaxCrossEntropy, type StepResult, type StepContext };

/**
 * dL/dparams (aligned with TrainGraph.params) of the batch just forwarded, with the loss gradient
 * multiplied by `scale` (1: the gradients). Call once per forward, inside the same tf.tidy.
 */
export type Backprop = (scale: number) => tf.Tensor[];

export interface ForwardStep {
  result: StepResult;
  backprop: Backprop;
}

/**
 * The graph order of a model that is not a chain (a ResNet): for each node (model.layers order, which
 * tfjs keeps topological), the nodes it reads (-1: the model input); null for a chain, which runs as
 * before.
 */
function graphInputs(model: LayersModel, layers: Layer[]): number[][] | null {
  const index = new Map(layers.map((l, i) => [l, i]));
  const inputs = layers.map((l) => {
    const inbound = (l.inboundNodes[0]?.inboundLayers ?? []) as Layer[];
    return inbound.map((p) => index.get(p) ?? -1);
  });
  const chain = inputs.every((ins, i) => ins.length === 1 && ins[0] === i - 1 && layers[i]!.outboundNodes.length <= 1);
  if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new Error('engine: bnx trains single-input, single-output models');
  return chain ? null : inputs;
}

/** A compiled model: forward/backward over the layers' own variables. */
export class TrainGraph {
  readonly nodes: Node[];
  /** For a model that is not a chain: the inputs of each node, in graph order (see graphInputs). */
  private readonly inputs: number[][] | null;
  readonly params: tf.Variable[];
  /** A batch of one cannot be normalized by batch statistics (PyTorch refuses it too). */
  readonly needsBatchStatistics: boolean;
  private readonly firstWeighted: number;
  private dz = new Float32Array(0);

  constructor(readonly model: LayersModel) {
    const layers = (model.layers as unknown as Layer[]).filter((l) => l.getClassName() !== 'InputLayer');
    this.nodes = layers.map((l) => familyOf(l, 'engine').node(l));
    this.inputs = graphInputs(model, layers);
    this.params = this.nodes.flatMap((n) => n.params);
    this.needsBatchStatistics = this.nodes.some((n) => n instanceof BatchNormNode);
    this.firstWeighted = this.nodes.findIndex((n) => n.params.length > 0);
    // Dense/Conv2D directly followed by ReLU: one fused kernel forward (the ReLU's backward still
    // masks by its output, which is the fused output).
    this.nodes.forEach((n, i) => {
      const next = this.nodes[i + 1];
      // In a graph only where the ReLU is the conv's one reader (a ResNet's conv1 -> norm -> ReLU is not).
      const only = !this.inputs || (this.inputs[i + 1]?.length === 1 && this.inputs[i + 1]![0] === i && this.inputs.filter((ins) => ins.includes(i)).length === 1);
      if (only && (n instanceof DenseNode || n instanceof Conv2DNode) && next instanceof ActivationNode && next.kind === 'relu') {
        n.fuseRelu = true;
        next.applied = true;
      }
    });
    // The first weighted layer needs no dx; when it is a Dense, its products (the biggest of an MLP)
    // run in the dense family's own kernel on the wasm backend: same results, no per-step repacking.
    const first = this.nodes[this.firstWeighted];
    if (first instanceof DenseNode && !this.inputs) first.ownKernel = true;
    const trainable = new Set(model.trainableWeights.map((w) => (w.read() as tf.Variable).id));
    const covered = new Set(this.params.map((p) => p.id));
    if (trainable.size !== covered.size || [...trainable].some((id) => !covered.has(id))) {
      throw new Error('engine: the compiled graph does not cover every trainable weight of the model');
    }
  }

  forward(x: tf.Tensor, ctx: StepContext): tf.Tensor {
    if (this.inputs) return this.forwardGraph(x, ctx);
    let h = x;
    for (const n of this.nodes) h = n.forward(h, ctx);
    return h;
  }

  /** Write state kept outside the model (BatchNorm running statistics) into the layers' variables. */
  syncState(): void {
    for (const n of this.nodes) n.syncState?.();
  }

  /**
   * Forward and loss for one batch (call inside tf.tidy); backprop() then runs the backward. The loss
   * and its gradient are computed in JavaScript from the logits (one small read per step, also needed
   * for the metrics and the NaN check).
   */
  step(x: tf.Tensor, labels: ArrayLike<number>, ctx: StepContext): ForwardStep {
    const logitsT = this.forward(x, ctx);
    const [n, classes] = logitsT.shape as [number, number];
    const logits = logitsT.dataSync() as Float32Array;
    const result = softmaxCrossEntropy(logits, labels, n, classes, null, 1);
    let used = false;
    const backprop: Backprop = (scale) => {
      if (used) throw new Error('engine: backprop() runs once per forward');
      used = true;
      if (this.dz.length !== n * classes) this.dz = new Float32Array(n * classes);
      softmaxCrossEntropy(logits, labels, n, classes, this.dz, scale);
      return this.backward(tf.tensor2d(this.dz, [n, classes]));
    };
    return { result, backprop };
  }

  /** dL/dparams of mean cross-entropy for one batch (call inside tf.tidy). */
  gradients(x: tf.Tensor, labels: ArrayLike<number>, ctx: StepContext): { grads: tf.Tensor[]; result: StepResult } {
    const s = this.step(x, labels, ctx);
    return { grads: s.backprop(1), result: s.result };
  }

  /** Each node on the outputs of the nodes it reads; the last node's output is the logits. */
  private forwardGraph(x: tf.Tensor, ctx: StepContext): tf.Tensor {
    const out: tf.Tensor[] = [];
    const at = (j: number) => (j < 0 ? x : out[j]!);
    this.nodes.forEach((n, i) => {
      const [first, ...more] = this.inputs![i]!.map(at);
      out[i] = n.forward(first!, ctx, more);
    });
    return out[out.length - 1]!;
  }

  /**
   * Reverse graph order: a node's output gradient is the sum over its readers (a block input feeds
   * the residual branch and the shortcut). Nodes upstream of every weight get no dx.
   */
  private backwardGraph(dLogits: tf.Tensor): tf.Tensor[] {
    const inputs = this.inputs!;
    const needs = this.nodes.map(() => false);
    this.nodes.forEach((n, i) => (needs[i] = n.params.length > 0 || inputs[i]!.some((j) => j >= 0 && needs[j])));
    const dOut: (tf.Tensor | undefined)[] = [];
    dOut[this.nodes.length - 1] = dLogits;
    const grads: tf.Tensor[][] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const dy = dOut[i];
      if (!dy || !needs[i]) continue;
      const needDx = inputs[i]!.some((j) => j >= 0 && needs[j]);
      const r = this.nodes[i]!.backward(dy, needDx);
      grads[i] = r.grads;
      [r.dx, ...(r.dxMore ?? [])].forEach((d, k) => {
        const j = inputs[i]![k]!;
        if (!d || j < 0 || !needs[j]) return;
        dOut[j] = dOut[j] ? tf.add(dOut[j]!, d) : d;
      });
    }
    return this.nodes.flatMap((_, i) => grads[i] ?? []);
  }

  private backward(dLogits: tf.Tensor): tf.Tensor[] {
    if (this.inputs) return this.backwardGraph(dLogits);
    let d = dLogits;
    const grads: tf.Tensor[][] = [];
    for (let i = this.nodes.length - 1; i >= this.firstWeighted; i--) {
      const { dx, grads: g } = this.nodes[i]!.backward(d, i > this.firstWeighted);
      grads[i] = g;
      if (dx) d = dx;
    }
    return grads.flat();
  }
}
