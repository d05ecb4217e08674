/**
 * `model: { type: resnet }`: the CIFAR-10 ResNet of He et al. 2016 (section 4.2) as a tfjs functional
 * model. Layer names are fixed, like the MLP/CNN's:
 *   stem:   conv0 (3x3, filters[0]) -> conv0_norm -> conv0_act
 *   stage s (1-based), block b: sSbB_conv1 (3x3) [-> sSbB_down: stride 2 when the stage starts]
 *           -> _norm1 -> _act1 -> _conv2 (3x3) -> _norm2, plus the shortcut, -> sSbB_add -> sSbB_act
 *   shortcut where the shape changes: zero_pad (option A) sSbB_short = subsample + zero channels;
 *           projection (option B) sSbB_short (subsample) -> sSbB_proj (1x1 conv) -> sSbB_proj_norm
 *   head:   pool (global average) -> logits (dense)
 * model.norm stands at every place He et al. put BatchNorm (after each conv, projections included);
 * its `position` is not used (He et al.'s order). A stride-2 conv is a stride-1 'same' conv then a
 * subsample at rows/columns 0, 2, 4, ...: bit for bit PyTorch's Conv2d(stride 2, padding 1) for odd
 * kernels, and the conv family keeps its one (stride-1) training path. It costs 4x that conv's
 * multiply-adds (two convs per stage change), said in the README.
 */
import { input, model as functionalModel, type LayersModel, type SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { RunConfig } from '../config/index.js';
import { ACTIVATION_LAYERS, NORM_FAMILIES, addLayer, conv2dLayer, denseLayer, globalPoolLayer, resolveNorm, subsampleLayer, type NormSpec } from '../layers/index.js';
import { UserError } from '../util/errors.js';

type ModelConfig = RunConfig['model'];
/** The schema's defaults (config/schema.ts), for a model config that was not resolved through it. */
const RESNET_DEFAULTS: NonNullable<ModelConfig['resnet']> = { blocks: 3, filters: [16, 32, 64], shortcut: 'zero_pad' };

const apply = (layer: Layer, x: SymbolicTensor | SymbolicTensor[]): SymbolicTensor => layer.apply(x) as SymbolicTensor;

/** The ResNet of `model` for images of `inputShape` [H, W, C]; weights are left to buildModel. */
export function resnetModel(model: ModelConfig, inputShape: number[], numClasses: number): LayersModel {
  if (inputShape.length !== 3) throw new UserError(`model.type resnet needs image input [height, width, channels], got [${inputShape.join(', ')}]`);
  const cfg = { ...RESNET_DEFAULTS, ...model.resnet };
  const norm = resolveNorm(model.norm);
  const act = (name: string, x: SymbolicTensor) => apply(ACTIVATION_LAYERS[model.activation](name), x);
  const withNorm = (name: string, channels: number, x: SymbolicTensor, n: NormSpec = norm) => {
    const l = NORM_FAMILIES[n.type].build(n, { channels, kind: 'conv', name });
    return l ? apply(l, x) : x;
  };
  const conv = (name: string, filters: number, k: number, x: SymbolicTensor) => apply(conv2dLayer(name, filters, k), x);

  const x0 = input({ shape: inputShape, name: 'input' });
  let x = act('conv0_act', withNorm('conv0_norm', cfg.filters[0]!, conv('conv0', cfg.filters[0]!, 3, x0)));
  let channels = cfg.filters[0]!;
  cfg.filters.forEach((filters, s) => {
    for (let b = 0; b < cfg.blocks; b++) {
      const p = `s${s + 1}b${b + 1}`;
      const stride = s > 0 && b === 0 ? 2 : 1;
      let y = conv(`${p}_conv1`, filters, 3, x);
      if (stride > 1) y = apply(subsampleLayer(`${p}_down`, stride), y);
      y = act(`${p}_act1`, withNorm(`${p}_norm1`, filters, y));
      y = withNorm(`${p}_norm2`, filters, conv(`${p}_conv2`, filters, 3, y));
      let short = x;
      if (stride > 1 || channels !== filters) {
        if (cfg.shortcut === 'projection') {
          short = stride > 1 ? apply(subsampleLayer(`${p}_short`, stride), x) : x;
          short = withNorm(`${p}_proj_norm`, filters, conv(`${p}_proj`, filters, 1, short));
        } else {
          if (filters < channels) throw new UserError(`model.resnet.filters: stage ${s + 1} has fewer channels (${filters}) than the one before (${channels}); zero_pad shortcuts can only add channels (use shortcut: projection)`);
          const extra = filters - channels;
          short = apply(subsampleLayer(`${p}_short`, stride, Math.floor(extra / 2), extra - Math.floor(extra / 2)), x);
        }
      }
      x = act(`${p}_act`, apply(addLayer(`${p}_add`), [y, short]));
      channels = filters;
    }
  });
  const logits = apply(denseLayer('logits', numClasses), apply(globalPoolLayer('pool'), x));
  return functionalModel({ inputs: x0, outputs: logits, name: 'resnet' });
}
