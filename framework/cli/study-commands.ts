/** `bnx validate` and `bnx plan`: fast commands that never train and never write anything. */
import { loadStudy, type LoadedStudy } from '../config/index.js';
import { dataShape } from '../data/index.js';
import { planStudy, type StudyPlan } from '../plan/index.js';
import { EXIT } from '../util/errors.js';
import { count } from '../util/plural.js';

export interface StudyOptions {
  set: string[];
  json?: boolean;
}

/** Load and validate a study, with the rules that need the data's shape (read from headers only). */
export function loadStudyChecked(file: string, set: string[]): LoadedStudy {
  return loadStudy(file, { set, dataShape: (ds) => dataShape(resolveDatasetPath({ file, config: { dataset: ds } })) });
}

export function describePlanShape(study: LoadedStudy['config'], runs: number): string {
  const variants = Object.keys(study.variants).length;
  const cells = Object.values(study.matrix).reduce((n, values) => n * values.length, 1);
  return `${count(runs, 'run')} = ${count(variants, 'variant')} x ${count(cells, 'matrix cell')} x ${count(study.seeds.length, 'seed')}`;
}

export async function validateCommand(file: string, o: StudyOptions): Promise<number> {
  const study = loadStudyChecked(file, o.set);
  if (o.json) {
    // The study as loaded, and what each variant x matrix cell resolves to (normalised, as keys hash it).
    const { cells, resolveCell } = await import('../config/index.js');
    const { runName } = await import('../plan/index.js');
    const resolved = Object.fromEntries(
      cells(study.config).map((c) => [runName(c.variant, c.matrix, 0).replace(/\/seed=0$/, ''), resolveCell(study.config, c).fields]),
    );
    process.stdout.write(`${JSON.stringify({ ...study.config, resolved }, null, 2)}\n`);
  } else {
    const plan = planStudy(study.config);
    process.stdout.write(`${study.file}: valid (${describePlanShape(study.config, plan.runs.length)})\n`);
  }
  return EXIT.ok;
}

/** Plans with the dataset's digest in every key, so keys match what `bnx run` will use. */
export async function planWithData(study: LoadedStudy, log: (m: string) => void = () => {}): Promise<StudyPlan> {
  const { datasetIdentity } = await import('../data/index.js');
  const identity = await datasetIdentity(resolveDatasetPath(study), { log });
  return planStudy(study.config, { dataDigest: identity.digest, dataSource: identity.source });
}

/** `dataset.path` is relative to the study file, like every path a study names. */
export function resolveDatasetPath(study: { file: string; config: Pick<LoadedStudy['config'], 'dataset'> }): { name?: string; path?: string } {
  const ds = study.config.dataset;
  if (!ds.path) return { name: ds.name };
  return { path: new URL(ds.path, `file://${absolute(study.file)}`).pathname };
}

function absolute(p: string): string {
  return p.startsWith('/') ? p : `${process.cwd()}/${p}`;
}

export async function planCommand(file: string, o: StudyOptions): Promise<number> {
  const study = loadStudyChecked(file, o.set);
  const plan = await planWithData(study, (m) => process.stderr.write(`${m}\n`));
  if (o.json) {
    const runs = plan.runs.map(({ index, key, name, variant, matrix, seed, sameAs }) => ({
      index,
      key,
      name,
      variant,
      matrix,
      seed,
      ...(sameAs === undefined ? {} : { same_as: sameAs }),
    }));
    process.stdout.write(`${JSON.stringify({ study: plan.study, config_sha256: plan.configSha256, data_digest: plan.dataDigest, data_source: plan.dataSource, runs }, null, 2)}\n`);
    return EXIT.ok;
  }
  const out = [`${plan.study}: ${describePlanShape(study.config, plan.runs.length)} (config sha256 ${plan.configSha256.slice(0, 12)})`];
  const width = Math.max(...plan.runs.map((r) => r.variant.length), 'variant'.length);
  out.push(`  ${'#'.padStart(3)}  ${'key'.padEnd(16)}  ${'variant'.padEnd(width)}  ${'seed'.padStart(4)}  name`);
  for (const r of plan.runs) {
    const same = r.sameAs === undefined ? '' : `  (same config as #${r.sameAs + 1}: trained once)`;
    out.push(`  ${String(r.index + 1).padStart(3)}  ${r.key}  ${r.variant.padEnd(width)}  ${String(r.seed).padStart(4)}  ${r.name}${same}`);
  }
  const repeats = plan.runs.filter((r) => r.sameAs !== undefined).length;
  if (repeats) out.push(`${repeats} planned run${repeats > 1 ? 's repeat' : ' repeats'} an earlier one with an identical resolved config: ${plan.runs.length - repeats} to train.`);
  process.stdout.write(`${out.join('\n')}\n`);
  return EXIT.ok;
}
