/**
 * Turns ajv's errors into sentences a person can act on: what is wrong, with the value found, and
 * for typos the closest legal name. Pure: no file or YAML knowledge here (see locate.ts).
 */
import type { ErrorObject } from 'ajv';
import { closest, distance } from 'fastest-levenshtein';

export interface SchemaProblem {
  /** JSON pointer segments of the value the problem is about. */
  path: string[];
  /** Point at the key itself rather than its value (unknown keys). */
  atKey?: boolean;
  message: string;
}

export function pathOf(pointer: string): string[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function dotted(path: readonly string[]): string {
  return path.length ? path.join('.') : '(top level)';
}

const show = (v: unknown): string =>
  typeof v === 'number' && !Number.isFinite(v) ? (Number.isNaN(v) ? '.nan' : v > 0 ? '.inf' : '-.inf') : v === undefined ? 'nothing' : JSON.stringify(v);

/** `; did you mean "x"?` when a word is plausibly a typo of one of the options, else ''. */
export function suggestion(word: string, options: string[]): string {
  if (!options.length) return '';
  // A word that starts with a legal name is most likely that name ("batchnorm" -> batch, not the
  // closer-by-edits batch_renorm); else the nearest by edit distance.
  const prefixes = options.filter((o) => word.startsWith(o)).sort((a, b) => b.length - a.length);
  const best = prefixes[0] ?? closest(word, options);
  // Only suggest when the typo is plausibly a typo: within a third of the word's length.
  const close = distance(word, best) <= Math.max(2, Math.ceil(best.length / 3)) || word.startsWith(best) || best.startsWith(word);
  return close ? `; did you mean "${best}"?` : '';
}

const typeName: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping (key: value)',
  array: 'a list',
};

function describe(e: ErrorObject, data: unknown): SchemaProblem | undefined {
  const path = pathOf(e.instancePath);
  const value = valueAt(data, path);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(p.additionalProperty);
      const known = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
      const where = path.length ? ` in ${dotted(path)}` : '';
      if (Array.isArray(p.owners)) {
        // An option of another member of a discriminated union (momentum on adam).
        const kind = path[path.length - 1] ?? 'type';
        const options = known.filter((k) => k !== 'type');
        return {
          path: [...path, key],
          atKey: true,
          message: `"${key}" does not apply to ${kind} ${String(p.tag)} (it is an option of ${(p.owners as string[]).join(', ')}); ${String(p.tag)} accepts: ${options.join(', ') || 'no options'}`,
        };
      }
      return {
        path: [...path, key],
        atKey: true,
        message: `unknown key "${key}"${where}${suggestion(key, known) || (known.length ? `; allowed: ${known.join(', ')}` : '')}`,
      };
    }
    case 'required':
      return { path, message: `missing required key "${String(p.missingProperty)}"${path.length ? ` in ${dotted(path)}` : ''}` };
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map(String);
      const hint = typeof value === 'string' ? suggestion(value, allowed) : '';
      return { path, message: `${dotted(path)} must be one of: ${allowed.join(', ')} (got ${show(value)})${hint}` };
    }
    case 'const':
      return { path, message: `${dotted(path)} must be ${show(p.allowedValue)} (got ${show(value)})` };
    case 'type': {
      const types = String(p.type).split(',').map((t) => typeName[t] ?? t);
      return { path, message: `${dotted(path)} must be ${types.join(' or ')} (got ${show(value)})` };
    }
    case 'exclusiveMinimum':
      return { path, message: `${dotted(path)} must be > ${String(p.limit)} (got ${show(value)})` };
    case 'minimum':
      return { path, message: `${dotted(path)} must be >= ${String(p.limit)} (got ${show(value)})` };
    case 'exclusiveMaximum':
      return { path, message: `${dotted(path)} must be < ${String(p.limit)} (got ${show(value)})` };
    case 'maximum':
      return { path, message: `${dotted(path)} must be <= ${String(p.limit)} (got ${show(value)})` };
    case 'minItems':
      return { path, message: `${dotted(path)} must have at least ${String(p.limit)} item(s)` };
    case 'minProperties':
      return { path, message: `${dotted(path)} must have at least ${String(p.limit)} entry` };
    case 'uniqueItems': {
      const [a, b] = [Number(p.i), Number(p.j)].sort((x, y) => x - y);
      return { path, message: `${dotted(path)} must not repeat values (items ${a} and ${b} are both ${show((value as unknown[])[a!])})` };
    }
    case 'minLength':
      return { path, message: `${dotted(path)} must not be empty` };
    case 'maxLength':
      return { path, message: `${dotted(path)} must be at most ${String(p.limit)} characters (got ${String(value).length}); use a shorter name` };
    case 'pattern':
      return {
        path,
        message: `${dotted(path)} must use only letters, digits, ".", "_" and "-", starting with a letter or digit (got ${show(value)})`,
      };
    case 'anyOf':
    case 'oneOf':
    case 'if':
    case '$ref':
      return undefined; // summarised by resolveUnions()
    default:
      return { path, message: `${dotted(path)} ${e.message ?? 'is invalid'} (got ${show(value)})` };
  }
}

export function valueAt(data: unknown, path: readonly string[]): unknown {
  let cur: unknown = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

type Branch = Record<string, unknown>;

/** The `type` values a union branch admits (const or enum), when it is a discriminated object. */
function branchTypes(b: Branch): unknown[] | undefined {
  const t = (b?.properties as Record<string, Branch> | undefined)?.type;
  if (!t) return undefined;
  return 'const' in t ? [t.const] : Array.isArray(t.enum) ? (t.enum as unknown[]) : undefined;
}

/**
 * For unions (norm, optimizer, schedule) ajv reports every branch. Keep the errors of the branches
 * whose type matches the value; for a mapping, only the branch its `type` selects (an option of
 * another type is then named as such); if none matches, say what the alternatives are.
 */
function resolveUnions(errors: ErrorObject[], data: unknown): ErrorObject[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  let kept = errors.filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf');
  for (const u of unions) {
    const prefix = `${u.schemaPath}/`;
    const branchOf = (e: ErrorObject) => e.schemaPath.slice(prefix.length).split('/')[0];
    const inUnion = kept.filter((e) => e.schemaPath.startsWith(prefix));
    const wrongType = new Set(inUnion.filter((e) => e.keyword === 'type' && e.instancePath === u.instancePath).map(branchOf));
    let survivors = inUnion.filter((e) => !wrongType.has(branchOf(e)));
    const branches = (Array.isArray(u.schema) ? u.schema : []) as Branch[];
    const value = valueAt(data, pathOf(u.instancePath));
    const tagged = branches.map((b, i) => ({ i: String(i), b, types: branchTypes(b) })).filter((x) => x.types);
    const path = pathOf(u.instancePath);
    if (tagged.length > 1 && value && typeof value === 'object' && !Array.isArray(value)) {
      const given = (value as Record<string, unknown>).type;
      const tag = given ?? tagged.map((x) => (x.b.properties as Record<string, Branch>).type!.default).find((d) => d !== undefined);
      const chosen = tagged.find((x) => x.types!.includes(tag));
      if (!chosen) {
        const allowed = tagged.flatMap((x) => x.types!).map(String);
        kept = kept.filter((e) => !e.schemaPath.startsWith(prefix));
        kept.push({
          ...u,
          instancePath: `${u.instancePath}/type`,
          keyword: 'enum',
          params: { allowedValues: allowed },
          schemaPath: `${u.schemaPath}/type`,
        });
        continue;
      }
      survivors = survivors.filter((e) => branchOf(e) === chosen.i);
      for (const e of survivors) {
        if (e.keyword !== 'additionalProperties' || e.instancePath !== u.instancePath) continue;
        const key = String((e.params as { additionalProperty: string }).additionalProperty);
        const owners = tagged.filter((x) => key in ((x.b.properties as object) ?? {})).flatMap((x) => x.types!).map(String);
        if (owners.length) e.params = { ...e.params, tag: String(tag), owners };
      }
    }
    kept = kept.filter((e) => !e.schemaPath.startsWith(prefix) || survivors.includes(e));
    if (survivors.length === 0) {
      // What the branches take (a name or a mapping for norm/optimizer/schedule; "epoch" or a number for probes.every).
      const declared = [...new Set(branches.flatMap((b) => (typeof b.type === 'string' ? [b.type] : [])))];
      kept.push({
        ...u,
        keyword: 'type',
        params: { type: (declared.length ? declared : ['string', 'object']).join(',') },
        schemaPath: `${u.schemaPath}/type`,
        message: `${dotted(path)} must be a name or a mapping`,
      });
    }
  }
  return kept;
}

export function describeErrors(errors: ErrorObject[] | null | undefined, data: unknown): SchemaProblem[] {
  const out: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const e of resolveUnions(errors ?? [], data)) {
    const d = describe(e, data);
    if (!d) continue;
    const id = `${d.path.join('/')}|${d.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(d);
  }
  return out;
}
