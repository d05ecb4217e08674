/** A norm family: the builder the model stage calls, its YAML options, and the layer family it builds. */
import type { Layer } from '@tensorflow/tfjs-layers/dist/engine/topology.js';
import type { FamilyExample, LayerFamily } from '../family.js';
import type { NormName, NormOptions, NormSpec } from './options.js';

/** Where the norm sits: after a Dense (features) or after a Conv2D (channels, spatial). */
export interface NormSite {
  channels: number;
  kind: 'dense' | 'conv';
  name: string;
}

export interface NormFamily {
  readonly name: NormName;
  readonly options: NormOptions;
  /** The layer for one site, or null where this norm puts none (none; instance on a dense layer). */
  build(spec: NormSpec, site: NormSite): Layer | null;
  /** The family owning the layers build() makes (shared: instance builds GroupNorm layers); null for none. */
  readonly layers: LayerFamily | null;
  readonly examples: readonly FamilyExample[];
}

/** Examples every norm gets: on an MLP before and after the activation, and on a CNN. */
export function normExamples(norm: Record<string, unknown>, { mlp = true, cnn = true } = {}): FamilyExample[] {
  const out: FamilyExample[] = [];
  if (mlp) {
    for (const position of ['pre', 'post'] as const) {
      out.push({ name: `MLP ${String(norm.type)} (${position})`, model: { norm: { ...norm, position } as never, hidden: [6, 5] }, inputShape: [9] });
    }
  }
  if (cnn) {
    out.push({
      name: `CNN ${String(norm.type)}`,
      model: { type: 'cnn', norm: norm as never, hidden: [6], conv: { filters: [2, 4], kernel_size: 3, pool: 'max' } },
      inputShape: [8, 8, 2],
    });
  }
  return out;
}
