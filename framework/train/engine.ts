/**
 * The training engine: a tfjs-layers Sequential compiled into explicit forward/backward steps.
 *
 * Why not autodiff: on the wasm backend tf's gradient of matMul uses matMul with transposeA/B, which
 * costs ~3 ms at the first layer's shapes against ~0.25 ms for an explicit transpose plus a plain
 * matMul, and every recorded op adds tape overhead. Here each layer kind has a backward written with
 * plain tf ops (Dense, Conv2D, Batch/Layer/Group/RMS norm, ReLU, tanh, sigmoid, Dropout, Flatten);
 * the rest (other activations, pooling) use a vector-Jacobian product from tf.grads over the layer's
 * own call(). Every path is checked against tf autodiff of model.apply in engine.test.ts.
 *
 * The engine reads and writes the layers' own variables, so the LayersModel is always the trained
 * model (eval, save and ONNX export see the same weights), BatchNorm running statistics included.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { softmaxCrossEntropy, type StepResult } from './loss.js';
import { ActivationNode, BatchNormNode, Conv2DNode, DenseNode, nodeFor, type Node, type StepContext } from './nodes.js';

export { softmaxCrossEntropy, type StepResult, type StepContext };

export interface GradStep {
  /** Per-parameter gradients (already multiplied by gradScale), aligned with `params`. */
  grads: tf.Tensor[];
  result: StepResult;
}

/** A compiled model: forward/backward over the layers' own variables. */
export class TrainGraph {
  readonly nodes: Node[];
  readonly params: tf.Variable[];
  readonly hasBatchNorm: boolean;
  private readonly firstWeighted: number;
  private dz = new Float32Array(0);

  constructor(readonly model: LayersModel) {
    this.nodes = model.layers.map((l) => nodeFor(l as unknown as Layer));
    this.params = this.nodes.flatMap((n) => n.params);
    this.hasBatchNorm = this.nodes.some((n) => n instanceof BatchNormNode);
    this.firstWeighted = this.nodes.findIndex((n) => n.params.length > 0);
    // Dense/Conv2D directly followed by ReLU: one fused kernel forward (the ReLU's backward still
    // masks by its output, which is the fused output).
    this.nodes.forEach((n, i) => {
      const next = this.nodes[i + 1];
      if ((n instanceof DenseNode || n instanceof Conv2DNode) && next instanceof ActivationNode && next.kind === 'relu') {
        n.fuseRelu = true;
        next.applied = true;
      }
    });
    // The first weighted layer needs no dx; when it is a Dense, its products (the biggest of an MLP)
    // run in dense-kernel.ts on the wasm backend: same results, no per-step weight repacking.
    const first = this.nodes[this.firstWeighted];
    if (first instanceof DenseNode) first.ownKernel = true;
    const trainable = new Set(model.trainableWeights.map((w) => (w.read() as tf.Variable).id));
    const covered = new Set(this.params.map((p) => p.id));
    if (trainable.size !== covered.size || [...trainable].some((id) => !covered.has(id))) {
      throw new Error('engine: the compiled graph does not cover every trainable weight of the model');
    }
  }

  forward(x: tf.Tensor, ctx: StepContext): tf.Tensor {
    let h = x;
    for (const n of this.nodes) h = n.forward(h, ctx);
    return h;
  }

  /** Write state kept outside the model (BatchNorm running statistics) into the layers' variables. */
  syncState(): void {
    for (const n of this.nodes) if (n instanceof BatchNormNode) n.syncState();
  }

  /**
   * Forward, loss and backward for one batch (call inside tf.tidy). The loss gradient is computed in
   * JavaScript from the logits (one small read per step, also needed for the metrics and the NaN check).
   */
  gradients(x: tf.Tensor, labels: ArrayLike<number>, ctx: StepContext, gradScale: number): GradStep {
    const logits = this.forward(x, ctx);
    const [n, classes] = logits.shape as [number, number];
    if (this.dz.length !== n * classes) this.dz = new Float32Array(n * classes);
    const result = softmaxCrossEntropy(logits.dataSync() as Float32Array, labels, n, classes, this.dz, gradScale);
    let d: tf.Tensor = tf.tensor2d(this.dz, [n, classes]);
    const grads: tf.Tensor[][] = [];
    for (let i = this.nodes.length - 1; i >= this.firstWeighted; i--) {
      const { dx, grads: g } = this.nodes[i]!.backward(d, i > this.firstWeighted);
      grads[i] = g;
      if (dx) d = dx;
    }
    return { grads: grads.flat(), result };
  }
}
