/**
 * tfjs activation names (Activation layers, and the `activation` of Dense/Conv2D) as ONNX opset-17
 * subgraphs, with the constants tfjs uses so the exported model computes the same function:
 *   gelu      exact GELU, x * 0.5 * (1 + erf(x / sqrt 2)), decomposed as PyTorch exports it (ONNX's
 *             Gelu op is opset 20)
 *   swish     x * sigmoid(x);  mish  x * tanh(softplus(x))
 *   selu      tfjs-core's SELU_SCALE / SELU_SCALEALPHA (not ONNX's rounded float defaults)
 *   elu       alpha 1 (the Activation layer's fixed alpha)
 * softmax is refused: bnx models end in logits and the exporter adds the softmax output itself.
 */
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { config, type OnnxGraph, type TensorRef } from '../onnx.js';

// The published constants (1.0507009873554804934193349852946, 1.7580993408473768599402175208123) as the
// float64 values they always parsed to, written out so the digits shown are the digits used.
const SELU_SCALE = 1.0507009873554805;
const SELU_SCALEALPHA = 1.7580993408473768;

type Emit = (g: OnnxGraph, x: string, base: string) => string;

const ACTIVATIONS: Record<string, Emit> = {
  linear: (_g, x) => x,
  relu: (g, x, base) => g.node('Relu', [x], {}, base),
  relu6: (g, x, base) => g.node('Clip', [x, g.scalar(0), g.scalar(6)], {}, base),
  elu: (g, x, base) => g.node('Elu', [x], { alpha: { f: 1 } }, base),
  selu: (g, x, base) => g.node('Selu', [x], { alpha: { f: SELU_SCALEALPHA / SELU_SCALE }, gamma: { f: SELU_SCALE } }, base),
  tanh: (g, x, base) => g.node('Tanh', [x], {}, base),
  sigmoid: (g, x, base) => g.node('Sigmoid', [x], {}, base),
  // tfjs: clip(0.2 x + 0.5, 0, 1), which is ONNX HardSigmoid with these alpha/beta.
  hardSigmoid: (g, x, base) => g.node('HardSigmoid', [x], { alpha: { f: 0.2 }, beta: { f: 0.5 } }, base),
  softplus: (g, x, base) => g.node('Softplus', [x], {}, base),
  softsign: (g, x, base) => g.node('Softsign', [x], {}, base),
  swish: (g, x, base) => g.node('Mul', [x, g.node('Sigmoid', [x], {}, `${base}_sigmoid`)], {}, base),
  mish: (g, x, base) => g.node('Mul', [x, g.node('Tanh', [g.node('Softplus', [x], {}, `${base}_softplus`)], {}, `${base}_tanh`)], {}, base),
  gelu: (g, x, base) => {
    const erf = g.node('Erf', [g.node('Div', [x, g.scalar(Math.SQRT2)], {}, `${base}_div`)], {}, `${base}_erf`);
    const cdf = g.node('Mul', [g.node('Add', [erf, g.scalar(1)], {}, `${base}_add`), g.scalar(0.5)], {}, `${base}_half`);
    return g.node('Mul', [x, cdf], {}, base);
  },
  // tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  gelu_new: (g, x, base) => {
    const cube = g.node('Pow', [x, g.scalar(3)], {}, `${base}_cube`);
    const inner = g.node('Add', [x, g.node('Mul', [cube, g.scalar(0.044715)], {}, `${base}_c`)], {}, `${base}_inner`);
    const t = g.node('Tanh', [g.node('Mul', [inner, g.scalar(Math.sqrt(2 / Math.PI))], {}, `${base}_scale`)], {}, `${base}_tanh`);
    const half = g.node('Mul', [g.node('Add', [t, g.scalar(1)], {}, `${base}_add`), g.scalar(0.5)], {}, `${base}_half`);
    return g.node('Mul', [x, half], {}, base);
  },
};

// tfjs serializes some activations under more than one spelling.
const ALIASES: Record<string, string> = { hard_sigmoid: 'hardSigmoid', 'gelu-new': 'gelu_new' };

export const SUPPORTED_ACTIVATIONS: readonly string[] = Object.keys(ACTIVATIONS);

/** Emit the activation `name` applied to tensor `x`; returns the output tensor name. */
export function emitActivation(g: OnnxGraph, name: string, x: string, base: string, layerName: string): string {
  const emit = ACTIVATIONS[ALIASES[name] ?? name];
  if (!emit) {
    const hint =
      name === 'softmax'
        ? ' bnx models end in logits: the exporter adds the softmax ("probabilities" output) itself, so drop the softmax activation.'
        : '';
    throw new Error(
      `ONNX export: activation '${name}' of layer ${layerName} is not supported (supported: ${SUPPORTED_ACTIVATIONS.join(', ')}).${hint}`,
    );
  }
  return emit(g, x, base);
}

/** The `activation` of a Dense/Conv2D layer applied to its output y (nothing for linear or none). */
export function emitActivationOf(layer: Layer, g: OnnxGraph, y: TensorRef): TensorRef {
  const act = config(layer).activation;
  if (act === undefined || act === null) return y;
  return { ...y, name: emitActivation(g, String(act), y.name, `${layer.name}_act`, layer.name) };
}
