/**
 * Rules on one resolved run (a variant x matrix cell) that the schema cannot express: layer widths
 * against group counts, conv blocks against the image size, the batch against the data. Pure: the
 * data's shape comes in from the caller (framework/data reads it), so this stays file-free.
 */
import type { SchemaProblem } from './messages.js';
import type { ResolvedFields } from './normalize.js';
import type { DatasetConfig, RunConfig } from './schema.js';

/** What validation knows of a dataset without loading it. */
export interface DataShape {
  height: number;
  width: number;
  channels: number;
  train: number;
  test: number;
}

/**
 * `model` is resolved (normalised: the norm in its object form with its defaults, conv only on a
 * CNN); `written` is the model as the study spells it, so a problem points at the key the user wrote.
 */
export function modelProblems(model: ResolvedFields['model'], written: { norm?: unknown } = {}): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  const norm = model.norm;
  if (norm.type === 'instance' && model.type === 'mlp') {
    out.push({ path: ['model', 'norm'], message: 'instance norm needs image inputs: use it with model.type: cnn or resnet (for an MLP use layer or group)' });
  }
  if (norm.type === 'group') {
    const groups = norm.groups!; // the schema's default is written out for group norm
    const widths = [...(model.conv?.filters ?? []), ...(model.resnet?.filters ?? []), ...(model.hidden ?? [])];
    const bad = widths.filter((w) => w % groups !== 0);
    if (bad.length) {
      out.push({
        path: typeof written.norm === 'string' ? ['model', 'norm'] : ['model', 'norm', 'groups'],
        message: `group norm with ${groups} groups needs every normalized width to be a multiple of ${groups}; ${bad.join(', ')} ${bad.length > 1 ? 'are' : 'is'} not (widths: ${widths.join(', ')})`,
      });
    }
  }
  return out;
}

/** Training examples left after `subset` and the validation hold-out (as framework/data/prepare does). */
function trainExamples(ds: DatasetConfig, shape: DataShape): number {
  const n = Math.min(ds.subset?.train ?? shape.train, shape.train);
  return ds.validation ? n - Math.round(ds.validation.fraction * n) : n;
}

export function dataProblems(fields: Omit<RunConfig, 'seed'>, shape: DataShape): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  const { model, train, dataset } = fields;
  if (model.type === 'cnn' && model.conv && model.conv.pool !== 'none') {
    // Each block keeps the size (same padding) and then halves it (2x2 pooling, rounding down).
    let [h, w] = [shape.height, shape.width];
    const sizes: string[] = [];
    for (let i = 0; i < model.conv.filters.length; i++) {
      [h, w] = [Math.floor(h / 2), Math.floor(w / 2)];
      sizes.push(`${h}x${w}`);
      if (h < 1 || w < 1) {
        const fit = Math.floor(Math.log2(Math.min(shape.height, shape.width)));
        out.push({
          path: ['model', 'conv', 'filters'],
          message:
            `conv block ${i + 1} of ${model.conv.filters.length} pools the ${shape.height}x${shape.width} image down to nothing ` +
            `(sizes after each 2x2 pool: ${sizes.join(' -> ')}); at most ${fit} pooling blocks fit: remove blocks or set model.conv.pool: none`,
        });
        break;
      }
    }
  }
  const n = trainExamples(dataset, shape);
  if (train.batch_size > n) {
    out.push({
      path: ['train', 'batch_size'],
      message: `train.batch_size ${train.batch_size} is larger than the ${n} training examples${dataset.subset?.train || dataset.validation ? ' (after subset/validation)' : ''}; use a batch_size <= ${n}`,
    });
  }
  return out;
}
