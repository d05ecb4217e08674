import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../util/paths.js';
import { parseStudy } from './load.js';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { renderSchema, SCHEMA_PATH } from './write-schema.js';

describe('schemas/experiment.schema.json', () => {
  it('is what the TypeBox source generates (run `npm run schema` after changing framework/config)', () => {
    expect(readFileSync(SCHEMA_PATH, 'utf8')).toBe(renderSchema());
  });

  it('documents every property, so editors can show help', () => {
    const undocumented: string[] = [];
    const walk = (node: unknown, path: string): void => {
      if (!node || typeof node !== 'object') return;
      const o = node as Record<string, unknown>;
      for (const [k, v] of Object.entries((o.properties as Record<string, Record<string, unknown>>) ?? {})) {
        if (!v.description) undocumented.push(`${path}.${k}`);
        walk(v, `${path}.${k}`);
      }
      for (const [k, v] of Object.entries(o)) if (k !== 'properties' && typeof v === 'object') walk(v, `${path}/${k}`);
    };
    walk(JSON.parse(renderSchema()), '');
    expect(undocumented).toEqual([]);
  });

  it('validates every example study, with a plain ajv as an editor would and with bnx', () => {
    const ajv = new Ajv({ strict: false });
    const validate = ajv.compile(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')));
    const dir = join(PACKAGE_ROOT, 'experiments');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(validate(parse(text)), `${f}: ${JSON.stringify(validate.errors)}`).toBe(true);
      expect(() => parseStudy(text, f)).not.toThrow();
    }
  });
});
