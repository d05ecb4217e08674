/**
 * Probes of training dynamics (`probes:` in a study; off by default). At step 0 and then every epoch
 * (or every N optimizer steps), on one fixed probe batch drawn from the training set, per weighted
 * layer (Dense/Conv2D, named by the layer: fc1, conv1, logits):
 *   pre_mean, pre_std       the input of the layer's activation (after its norm), over all elements
 *   post_mean, post_std     the activation's output
 *   dead_fraction           ReLU only: units (channels) that output 0 for every example of the batch
 *   grad_norm, weight_norm  ||dL/dkernel||, ||kernel|| (Frobenius)
 *   update_ratio            ||W after - W before|| / ||W before|| of the last optimizer step (the
 *                           optimizer's real update, whatever the optimizer)
 *   ics, ics_cosine         internal covariate shift after Santurkar et al. 2018 (Def. 2.1): G is the
 *                           layer's kernel gradient, G' the same gradient after the layers BEFORE it
 *                           took a gradient step of the current lr (plain SGD's update); ||G - G'|| and
 *                           cos(G, G'). Not for the first weighted layer (nothing precedes it).
 * and for the whole network, the loss landscape along the gradient g (their Fig. 4), over steps
 * eta = c * lr for c in landscape_steps:
 *   loss_range              max - min of the loss over eta in {0} and the steps
 *   grad_change             max over the steps of ||g - g(eta)|| (gradient predictiveness: small is
 *                           predictive)
 *   beta_smoothness         max over the steps of ||g - g(eta)|| / ||eta g|| (effective beta-smoothness)
 *
 * Probes must not change training (they are not part of the run key): they use only the engine's
 * public API on FRESH TrainGraphs over the same model (a fresh graph copies the running statistics
 * and keeps its updates to itself: it is never synced back), their own random stream for the probe
 * batch and for dropout masks (the same masks for every pass of one probe, so G and G' differ only by
 * the update), and they put every weight they move back exactly (assign of a saved copy). A test
 * trains with and without probes and compares every metric and weight bit for bit.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { Rows } from '../data/index.js';
import { familyOf } from '../layers/index.js';
import { permutation, rngFor } from '../util/random.js';
import { TrainGraph, type StepContext } from './engine.js';

export interface ProbeSettings {
  /** 'epoch': at step 0 and after each epoch's last step; a number: every that many optimizer steps. */
  every: 'epoch' | number;
  /** Examples in the probe batch (default: the training batch size). */
  batch?: number;
  /** Step sizes along the gradient for the landscape, as multiples of the current lr. */
  landscape_steps?: number[];
}

export const DEFAULT_LANDSCAPE_STEPS = [0.5, 1, 2, 4];

/** One probe: values keyed `<layer>/<name>` or `model/<name>` (MLflow adds the `probe/` prefix). */
export interface ProbeRecord {
  /** Optimizer steps taken before the probe (0: the initial model). */
  step: number;
  /** The epoch whose steps led here (0 for the initial model). */
  epoch: number;
  values: Record<string, number>;
}

interface Block {
  name: string;
  /** Node index of the Dense/Conv2D. */
  weighted: number;
  /** Node index of its activation, when one follows before the next weighted layer. */
  activation?: number;
  relu: boolean;
  kernel: tf.Variable;
}

const WEIGHTED = new Set(['dense', 'conv2d']);

function blocksOf(graph: TrainGraph): Block[] {
  const blocks: Block[] = [];
  graph.nodes.forEach((n, i) => {
    const family = familyOf(n.layer, 'probes').name;
    if (WEIGHTED.has(family)) {
      blocks.push({ name: n.layer.name, weighted: i, relu: false, kernel: n.params[0]! });
    } else if (family === 'activations') {
      const b = blocks[blocks.length - 1];
      if (b && b.activation === undefined) {
        b.activation = i;
        const c = n.layer.getClassName();
        b.relu = c === 'ReLU' || (c === 'Activation' && (n.layer.getConfig() as { activation?: string }).activation === 'relu');
      }
    }
  });
  return blocks;
}

/** Euclidean norm of a difference (b absent: of a), accumulated in float64. */
function norm(a: ArrayLike<number>, b?: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = b ? a[i]! - b[i]! : a[i]!;
    s += d * d;
  }
  return Math.sqrt(s);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function meanStd(v: Float32Array): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]!;
  const mean = s / v.length;
  let q = 0;
  for (let i = 0; i < v.length; i++) q += (v[i]! - mean) ** 2;
  return { mean, std: Math.sqrt(q / v.length) };
}

/** Channels (last axis) whose value is <= 0 at every other index. */
function deadFraction(v: Float32Array, channels: number): number {
  const alive = new Uint8Array(channels);
  for (let i = 0; i < v.length; i++) if (v[i]! > 0) alive[i % channels] = 1;
  let dead = 0;
  for (let c = 0; c < channels; c++) if (!alive[c]) dead++;
  return dead / channels;
}

interface Pass {
  loss: number;
  grads: Float32Array[];
}

export class Prober {
  private readonly x: Float32Array;
  private readonly y: Uint8Array;
  private readonly n: number;
  private readonly steps: number[];
  private snap: Float32Array[] | null = null;

  constructor(
    private readonly model: LayersModel,
    private readonly graph: TrainGraph,
    data: { train: Rows; featureSize: number; inputShape: number[] },
    private readonly seed: number,
    readonly settings: ProbeSettings,
    batchSize: number,
  ) {
    // A fixed batch from the probe's own stream: the same examples at every probe of the run.
    const { train } = data;
    this.n = Math.min(settings.batch ?? batchSize, train.n);
    const order = permutation(train.n, rngFor(seed, 'probe-batch'));
    const f = data.featureSize;
    this.x = new Float32Array(this.n * f);
    this.y = new Uint8Array(this.n);
    for (let r = 0; r < this.n; r++) {
      train.copyRow(order[r]!, this.x, r * f);
      this.y[r] = train.labels[order[r]!]!;
    }
    this.inputShape = data.inputShape;
    this.steps = settings.landscape_steps ?? DEFAULT_LANDSCAPE_STEPS;
  }
  private readonly inputShape: number[];

  /** Whether a probe follows the step that makes `step` steps in all (`lastOfEpoch`: it ends an epoch). */
  due(step: number, lastOfEpoch: boolean): boolean {
    return this.settings.every === 'epoch' ? lastOfEpoch : step % this.settings.every === 0;
  }

  /** Copy the kernels before a step that a probe follows (for update_ratio). */
  snapshot(): void {
    this.snap = blocksOf(this.graph).map((b) => b.kernel.dataSync().slice() as Float32Array);
  }

  private context(step: number): () => StepContext {
    return () => ({ training: true, dropoutRng: rngFor(this.seed, `probe-dropout:${step}`) });
  }

  /** Loss and dL/dparams on the probe batch, through a fresh graph (its state changes are dropped). */
  private pass(ctx: StepContext): Pass {
    const g = new TrainGraph(this.model);
    // Filled inside the tidy, not returned from it: tf.tidy walks a returned value element by
    // element looking for tensors, which costs ~10 ms on a 50k-float gradient.
    const out: Pass = { loss: NaN, grads: [] };
    tf.tidy(() => {
      const x = tf.tensor(this.x, [this.n, ...this.inputShape]);
      const { grads, result } = g.gradients(x, this.y, ctx);
      out.loss = result.loss;
      out.grads = grads.map((t) => t.dataSync() as Float32Array);
    });
    return out;
  }

  /** Run `f` with params[i] moved to saved[i] - scale * dirs[i] for i in `which`, then restore all exactly. */
  private moved<T>(saved: tf.Tensor[], which: number[], dirs: Float32Array[], scale: number, f: () => T): T {
    const params = this.graph.params;
    try {
      tf.tidy(() => {
        for (const i of which) params[i]!.assign(tf.sub(saved[i]!, tf.mul(tf.tensor(dirs[i]!, saved[i]!.shape), scale)));
      });
      return f();
    } finally {
      for (const i of which) params[i]!.assign(saved[i]!);
    }
  }

  /** Every probe value at this point of training; training state is left exactly as found. */
  measure(step: number, epoch: number, lr: number): ProbeRecord {
    this.graph.syncState(); // fresh graphs copy the running statistics from the layers
    const ctx = this.context(step);
    const blocks = blocksOf(this.graph);
    const params = this.graph.params;
    const index = new Map(params.map((p, i) => [p.id, i]));
    const values: Record<string, number> = {};
    const put = (k: string, v: number) => {
      if (Number.isFinite(v)) values[k] = v;
    };

    this.activations(blocks, ctx(), put);
    const base = this.pass(ctx());
    const saved = params.map((p) => tf.keep(p.clone()));
    try {
      blocks.forEach((b, bi) => {
        const k = index.get(b.kernel.id)!;
        const w = saved[k]!.dataSync();
        put(`${b.name}/grad_norm`, norm(base.grads[k]!));
        put(`${b.name}/weight_norm`, norm(w));
        const before = this.snap?.[bi];
        if (before) put(`${b.name}/update_ratio`, norm(w, before) / norm(before));
        if (bi === 0) return;
        // Santurkar et al.'s G': the layers before this one updated, this one and later as they were.
        const firstOwn = Math.min(...this.graph.nodes[b.weighted]!.params.map((p) => index.get(p.id)!));
        const earlier = [...Array(firstOwn).keys()];
        const shifted = this.moved(saved, earlier, base.grads, lr, () => this.pass(ctx()));
        const G = base.grads[k]!;
        const G2 = shifted.grads[k]!;
        put(`${b.name}/ics`, norm(G, G2));
        put(`${b.name}/ics_cosine`, dot(G, G2) / (norm(G) * norm(G2)));
      });
      this.landscape(saved, base, lr, ctx, put);
    } finally {
      tf.dispose(saved);
      this.snap = null;
    }
    return { step, epoch, values };
  }

  /** Pre/post-activation statistics and dead ReLUs from one forward of a fresh graph. */
  private activations(blocks: Block[], ctx: StepContext, put: (k: string, v: number) => void): void {
    const g = new TrainGraph(this.model);
    tf.tidy(() => {
      let h: tf.Tensor = tf.tensor(this.x, [this.n, ...this.inputShape]);
      const ins: tf.Tensor[] = [];
      const outs: tf.Tensor[] = [];
      for (const node of g.nodes) {
        ins.push(h);
        h = node.forward(h, ctx);
        outs.push(h);
      }
      for (const b of blocks) {
        if (b.activation === undefined) continue;
        const prev = b.activation - 1;
        // The engine may fuse a Dense/Conv2D with its ReLU (its output is then post-activation):
        // the pre-activation of such a layer is its own tfjs call (linear, stateless).
        const pre =
          prev === b.weighted ? (g.nodes[prev]!.layer as Layer).apply(ins[prev]!) as tf.Tensor : ins[b.activation]!;
        const post = outs[b.activation]!;
        const p = meanStd(pre.dataSync() as Float32Array);
        const q = meanStd(post.dataSync() as Float32Array);
        put(`${b.name}/pre_mean`, p.mean);
        put(`${b.name}/pre_std`, p.std);
        put(`${b.name}/post_mean`, q.mean);
        put(`${b.name}/post_std`, q.std);
        if (b.relu) put(`${b.name}/dead_fraction`, deadFraction(post.dataSync() as Float32Array, post.shape[post.shape.length - 1]!));
      }
    });
  }

  /** Santurkar et al.'s Fig. 4: loss and gradient along the gradient direction. */
  private landscape(saved: tf.Tensor[], base: Pass, lr: number, ctx: () => StepContext, put: (k: string, v: number) => void): void {
    const all = [...saved.keys()];
    const flat = (gs: Float32Array[]) => {
      const out = new Float64Array(gs.reduce((s, g) => s + g.length, 0));
      let o = 0;
      for (const g of gs) {
        out.set(g, o);
        o += g.length;
      }
      return out;
    };
    const g0 = flat(base.grads);
    const g0norm = norm(g0);
    const losses = [base.loss];
    let change = 0;
    let beta = 0;
    for (const c of this.steps) {
      const eta = c * lr;
      const at = this.moved(saved, all, base.grads, eta, () => this.pass(ctx()));
      losses.push(at.loss);
      const d = norm(g0, flat(at.grads));
      change = Math.max(change, d);
      beta = Math.max(beta, d / (eta * g0norm));
    }
    put('model/loss', base.loss);
    put('model/loss_range', Math.max(...losses) - Math.min(...losses));
    put('model/grad_change', change);
    put('model/beta_smoothness', beta);
  }
}
