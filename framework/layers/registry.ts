/**
 * The layer-family registry: every kind of layer bnx builds, trains and exports, keyed by name (norms
 * by their YAML name). Adding a family is one line here (and, for a norm, one in norms/options.ts).
 * Typed, so a norm name without a family, or a family without its node, converter, builder or
 * options, does not compile; classes are looked up once, when a model is compiled for training or
 * export, so an unsupported layer fails before any training.
 */
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import { activations } from './activations/activations.js';
import { conv2d } from './conv2d/conv2d.js';
import { dense } from './dense/dense.js';
import { dropout } from './dropout.js';
import type { LayerFamily } from './family.js';
import { flatten } from './flatten.js';
import { batch } from './norms/batch.js';
import { batchRenorm } from './norms/batch-renorm.js';
import type { NormFamily } from './norms/family.js';
import { group } from './norms/group.js';
import { instance } from './norms/instance.js';
import { layer } from './norms/layer.js';
import { none } from './norms/none.js';
import type { NormName } from './norms/options.js';
import { rms } from './norms/rms.js';
import { pooling } from './pooling.js';
import { residual } from './residual/residual.js';

export const NORM_FAMILIES: { readonly [K in NormName]: NormFamily & { name: K } } = {
  none: none as NormFamily & { name: 'none' },
  batch: batch as NormFamily & { name: 'batch' },
  batch_renorm: batchRenorm as NormFamily & { name: 'batch_renorm' },
  layer: layer as NormFamily & { name: 'layer' },
  group: group as NormFamily & { name: 'group' },
  instance: instance as NormFamily & { name: 'instance' },
  rms: rms as NormFamily & { name: 'rms' },
};

/** Every layer family, norms' layers included (each once: instance builds group's layers). */
export const LAYER_FAMILIES: readonly LayerFamily[] = [
  dense,
  conv2d,
  pooling,
  flatten,
  dropout,
  activations,
  residual,
  ...new Set(Object.values(NORM_FAMILIES).flatMap((n) => (n.layers ? [n.layers] : []))),
];

function byClassName(): Map<string, LayerFamily> {
  const out = new Map<string, LayerFamily>();
  for (const f of LAYER_FAMILIES) {
    for (const c of f.classNames) {
      const other = out.get(c);
      if (other) throw new Error(`layer registry: class ${c} is claimed by both ${other.name} and ${f.name}`);
      out.set(c, f);
    }
  }
  return out;
}

const BY_CLASS = byClassName();

export const SUPPORTED_CLASSES: readonly string[] = [...BY_CLASS.keys()];

/** The family of a tfjs layer; `what` names the caller in the error ("engine", "ONNX export"). */
export function familyOf(layer: Layer, what: string): LayerFamily {
  const cls = layer.getClassName();
  const f = BY_CLASS.get(cls);
  if (!f) {
    throw new Error(`${what}: layer ${layer.name} of class ${cls} is not supported. Supported layer classes: ${SUPPORTED_CLASSES.join(', ')}.`);
  }
  return f;
}
